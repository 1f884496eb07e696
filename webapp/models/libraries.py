"""Libraries of the institution and key/value settings."""

from peewee import CharField, TextField

from webapp.db import BaseModel


class Library(BaseModel):
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=200)


class Setting(BaseModel):
    key = CharField(max_length=100, primary_key=True)
    value = TextField()
