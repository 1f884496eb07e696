"""A record of each synchronization run, and what the last run saw of each account."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.users import User


class SyncRun(BaseModel):
    at = DateTimeField(default=now)
    by = CharField(max_length=100)
    source = CharField(max_length=50)
    filename = CharField(max_length=255)
    sha256 = CharField(max_length=64)
    # running | previewed | dry run | applied | rejected | stale | failed | interrupted
    status = CharField(max_length=20)
    created = IntegerField(default=0)
    updated = IntegerField(default=0)
    unchanged = IntegerField(default=0)
    deactivated = IntegerField(default=0)
    rejected = IntegerField(default=0)
    report = TextField(default="")
    # The process that runs it, and when it last showed it was alive (services/jobs.py).
    host = CharField(max_length=255, null=True)
    pid = IntegerField(null=True)
    heartbeat = DateTimeField(null=True)


class SyncState(BaseModel):
    """The fingerprint of the file row last synchronized into a user, and the user's version then.

    When the next file has the same row and the user is still at that version (every
    change to a user raises its version), nothing can have changed: the row is skipped.
    """

    user = ForeignKeyField(User, primary_key=True, backref="sync_state", on_delete="CASCADE")
    fingerprint = CharField(max_length=64)
    version = IntegerField()
