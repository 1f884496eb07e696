"""Role assignments: a role, an optional library scope and an optional expiry."""

from peewee import CharField, DateField, DateTimeField, ForeignKeyField

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.libraries import Library
from webapp.models.users import User


class RoleAssignment(BaseModel):
    user = ForeignKeyField(User, backref="role_assignments", on_delete="CASCADE")
    role = CharField(max_length=60)
    library = ForeignKeyField(Library, null=True, on_delete="CASCADE")
    expires_on = DateField(null=True)
    assigned_at = DateTimeField(default=now)
    assigned_by = CharField(max_length=100, default="system")
