"""The user record (patrons and staff in one table) and its repeatable segments."""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.libraries import Library


class User(BaseModel):
    primary_id = CharField(max_length=100, unique=True)
    first_name = CharField(max_length=100, default="")
    middle_name = CharField(max_length=100, default="")
    last_name = CharField(max_length=100)
    pref_first_name = CharField(max_length=100, default="")
    pref_middle_name = CharField(max_length=100, default="")
    pref_last_name = CharField(max_length=100, default="")
    title = CharField(max_length=50, default="")
    birth_date = DateField(null=True)
    user_group = CharField(max_length=50)
    record_type = CharField(max_length=10, default="public")  # public | staff
    account_type = CharField(max_length=10, default="internal")  # internal | external
    source = CharField(max_length=50, null=True)
    external_id = CharField(max_length=100, null=True)
    status = CharField(max_length=10, default="active")  # active | inactive
    expiry_date = DateField(null=True)
    purge_date = DateField(null=True)
    campus = CharField(max_length=50, default="")
    rs_library = ForeignKeyField(Library, null=True, on_delete="SET NULL")
    job_category = CharField(max_length=50, default="")
    preferred_language = CharField(max_length=20, default="")
    notices_opt_in = BooleanField(default=True)
    pin_hash = CharField(max_length=200, null=True)
    password_hash = CharField(max_length=200, null=True)
    version = IntegerField(default=1)
    last_synced_at = DateTimeField(null=True)
    created_at = DateTimeField(default=now)
    created_by = CharField(max_length=100, default="system")
    modified_at = DateTimeField(default=now)
    modified_by = CharField(max_length=100, default="system")

    class Meta:
        indexes = ((("source", "external_id"), True),)

    @property
    def display_name(self):
        """Return the name to show: preferred parts where given, else the legal ones."""
        first = self.pref_first_name or self.first_name
        last = self.pref_last_name or self.last_name
        return f"{first} {last}".strip()

    @property
    def sort_name(self):
        """Return 'Last, First' as lists show it."""
        first = self.pref_first_name or self.first_name
        last = self.pref_last_name or self.last_name
        return f"{last}, {first}" if first else last

    @property
    def is_external(self):
        return self.account_type == "external"


class Segment(BaseModel):
    """Fields every repeatable part shares."""

    segment = CharField(max_length=10, default="internal")  # internal | external
    # An external segment changed by staff: the next synchronization will replace it.
    edited_locally = BooleanField(default=False)


class Identifier(Segment):
    user = ForeignKeyField(User, backref="identifiers", on_delete="CASCADE")
    id_type = CharField(max_length=30)
    value = CharField(max_length=100, unique=True)
    note = CharField(max_length=200, default="")


class Email(Segment):
    user = ForeignKeyField(User, backref="emails", on_delete="CASCADE")
    address = CharField(max_length=254, index=True)
    email_type = CharField(max_length=20, default="personal")
    preferred = BooleanField(default=False)


class Phone(Segment):
    user = ForeignKeyField(User, backref="phones", on_delete="CASCADE")
    number = CharField(max_length=40)
    phone_type = CharField(max_length=20, default="mobile")
    preferred = BooleanField(default=False)


class Address(Segment):
    user = ForeignKeyField(User, backref="addresses", on_delete="CASCADE")
    line1 = CharField(max_length=200, default="")
    line2 = CharField(max_length=200, default="")
    city = CharField(max_length=100, default="")
    region = CharField(max_length=100, default="")
    postal_code = CharField(max_length=20, default="")
    country = CharField(max_length=100, default="")
    address_type = CharField(max_length=20, default="home")
    preferred = BooleanField(default=False)


class Note(Segment):
    user = ForeignKeyField(User, backref="notes", on_delete="CASCADE")
    note_type = CharField(max_length=20, default="general")
    text = TextField()
    show_at_desk = BooleanField(default=False)
    created_by = CharField(max_length=100, default="system")
    created_at = DateTimeField(default=now)


class Block(Segment):
    user = ForeignKeyField(User, backref="blocks", on_delete="CASCADE")
    block_type = CharField(max_length=30)
    description = CharField(max_length=500, default="")
    expires_on = DateField(null=True)


class FieldState(BaseModel):
    """Provenance of one field edited here; no row means the field holds the source's value."""

    user = ForeignKeyField(User, backref="field_states", on_delete="CASCADE")
    field = CharField(max_length=50)
    state = CharField(max_length=10)  # temporary | protected
    # The value the source last sent, so "Release to source" can restore it.
    source_value = TextField(null=True)
    changed_at = DateTimeField(default=now)
    changed_by = CharField(max_length=100, default="system")

    class Meta:
        indexes = ((("user", "field"), True),)


SEGMENT_MODELS = {
    "identifiers": Identifier,
    "emails": Email,
    "phones": Phone,
    "addresses": Address,
    "notes": Note,
    "blocks": Block,
}
