"""Items the library lends, and the loan policies that say for how long."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.libraries import Library

ITEM_STATUSES = ("available", "on_loan", "lost", "missing")


class Item(BaseModel):
    barcode = CharField(max_length=50)
    # The barcode folded to lower case: barcodes are unique whatever the case.
    barcode_key = CharField(max_length=50, unique=True)
    title = CharField(max_length=300, index=True)
    author = CharField(max_length=200, default="")
    call_number = CharField(max_length=100, default="")
    library = ForeignKeyField(Library, backref="items", on_delete="RESTRICT")
    status = CharField(max_length=10, default="available")  # one of ITEM_STATUSES
    created_at = DateTimeField(default=now)
    modified_at = DateTimeField(default=now)


class LoanPolicy(BaseModel):
    """Loan terms for a user group at a library; an empty group or no library means any."""

    user_group = CharField(max_length=50, default="")
    library = ForeignKeyField(Library, null=True, backref="loan_policies", on_delete="CASCADE")
    loan_days = IntegerField(default=28)
    max_renewals = IntegerField(default=2)
    max_loans = IntegerField(default=20)
