"""Staff sessions, one per sign-in, and the counters that limit sign-in attempts."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.users import User


class StaffSession(BaseModel):
    # The SHA-256 of the random token the signed cookie carries: a copy of the database
    # alone signs no one in.
    key = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE", index=True)
    created_at = DateTimeField(default=now)
    last_seen_at = DateTimeField(default=now)
    address = CharField(max_length=64, default="")
    user_agent = CharField(max_length=200, default="")


class SignInLimit(BaseModel):
    # "pair <identifier> <address>" or "address <address>".
    key = CharField(max_length=200, primary_key=True)
    # Attempts of the current streak, counted before their password is checked.
    failures = IntegerField(default=0)
    last_failure_at = DateTimeField(default=now)
    blocked_until = DateTimeField(null=True)
