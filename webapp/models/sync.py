"""A record of each synchronization run."""

from peewee import CharField, DateTimeField, IntegerField, TextField

from webapp.db import BaseModel
from webapp.models.users import now


class SyncRun(BaseModel):
    at = DateTimeField(default=now)
    by = CharField(max_length=100)
    source = CharField(max_length=50)
    filename = CharField(max_length=255)
    sha256 = CharField(max_length=64)
    status = CharField(max_length=20)  # previewed | applied | rejected
    created = IntegerField(default=0)
    updated = IntegerField(default=0)
    unchanged = IntegerField(default=0)
    deactivated = IntegerField(default=0)
    rejected = IntegerField(default=0)
    report = TextField(default="")
