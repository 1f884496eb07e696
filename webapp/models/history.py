"""The change history of users and the sign-in log."""

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, TextField

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.users import User


class History(BaseModel):
    user = ForeignKeyField(User, backref="history", on_delete="CASCADE")
    at = DateTimeField(default=now)
    actor = CharField(max_length=100)  # primary identifier of the staff member, or "system"
    via = CharField(max_length=30)  # staff | sync <run> | system
    field = CharField(max_length=100)
    old = TextField(null=True)
    new = TextField(null=True)

    class Meta:
        indexes = ((("user", "at"), False),)


class SignInLog(BaseModel):
    at = DateTimeField(default=now, index=True)
    identifier = CharField(max_length=100, index=True)
    address = CharField(max_length=64, index=True)
    event = CharField(max_length=20)  # success | failure | sign-out | throttled | sso
    success = BooleanField(default=False)
    # How a sign-in succeeded or why it was refused: a key of services.signins.REASONS.
    reason = CharField(max_length=30, default="", index=True)
