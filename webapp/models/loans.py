"""Loans: an item lent to a patron, open until it is returned or declared lost."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.items import Item
from webapp.models.libraries import Library
from webapp.models.users import User

LOAN_STATUSES = ("open", "returned", "lost")


class Loan(BaseModel):
    # NULL once the loan is anonymized: item and dates stay for statistics.
    user = ForeignKeyField(User, backref="loans", null=True, on_delete="CASCADE")
    item = ForeignKeyField(Item, backref="loans", null=True, on_delete="RESTRICT")
    library = ForeignKeyField(Library, null=True, on_delete="SET NULL")
    title = CharField(max_length=300)
    item_barcode = CharField(max_length=50)
    loaned_at = DateTimeField(default=now)
    due_at = DateTimeField()
    # The due date the policy gave; later than due_at when the patron's expiry shortened it.
    policy_due_at = DateTimeField(null=True)
    returned_at = DateTimeField(null=True)
    status = CharField(max_length=10, default="open")  # one of LOAN_STATUSES
    renewals = IntegerField(default=0)
    loaned_by = CharField(max_length=100, default="system")
    extended_by = CharField(max_length=100, null=True)
    extended_at = DateTimeField(null=True)
    lost_at = DateTimeField(null=True)
    relinked_by = CharField(max_length=100, null=True)
    relinked_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)
    closed_by = CharField(max_length=100, null=True)
    anonymized_at = DateTimeField(null=True)

    @property
    def shortened(self):
        """Tell whether the patron's expiry date cut this loan's due date short."""
        return self.policy_due_at is not None and self.due_at < self.policy_due_at
