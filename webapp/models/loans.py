"""Loans shown on the Patron Services page."""

from peewee import CharField, DateTimeField, ForeignKeyField

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.users import User


class Loan(BaseModel):
    user = ForeignKeyField(User, backref="loans", on_delete="CASCADE")
    title = CharField(max_length=300)
    item_barcode = CharField(max_length=50)
    loaned_at = DateTimeField(default=now)
    due_at = DateTimeField()
    returned_at = DateTimeField(null=True)
