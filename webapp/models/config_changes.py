"""The history of the library's configuration: libraries, settings, items, loan policies."""

from peewee import CharField, DateTimeField, TextField

from webapp.clock import now
from webapp.db import BaseModel

# What a configuration change is about; the key names the one thing of that kind.
CONFIG_KINDS = ("library", "setting", "item", "loan policy")


class ConfigChange(BaseModel):
    at = DateTimeField(default=now, index=True)
    actor = CharField(max_length=100)  # primary identifier of the staff member, as History.actor
    kind = CharField(max_length=20)  # one of CONFIG_KINDS
    key = CharField(max_length=200)  # library code, setting name, barcode, policy group/library
    field = CharField(max_length=100)
    old = TextField(null=True)
    new = TextField(null=True)

    class Meta:
        indexes = ((("kind", "at"), False),)
