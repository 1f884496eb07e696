"""Libraries of the institution and key/value settings."""

from peewee import BooleanField, CharField, TextField

from webapp.db import BaseModel


class Library(BaseModel):
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=200)
    # The institution's main library: listed first, the default place to work at.
    is_main = BooleanField(default=False)


class Setting(BaseModel):
    key = CharField(max_length=100, primary_key=True)
    value = TextField()
