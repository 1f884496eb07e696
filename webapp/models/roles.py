"""Role assignments: a role, its library scope, and the days on which it grants."""

from peewee import CharField, DateField, DateTimeField, ForeignKeyField

from webapp.clock import now
from webapp.db import BaseModel
from webapp.models.libraries import Library
from webapp.models.users import User


class RoleAssignment(BaseModel):
    user = ForeignKeyField(User, backref="role_assignments", on_delete="CASCADE")
    role = CharField(max_length=60)
    # Grants from starts_on through expires_on, both days included; None: no limit.
    starts_on = DateField(null=True)
    expires_on = DateField(null=True)
    assigned_at = DateTimeField(default=now)
    assigned_by = CharField(max_length=100, default="system")


class RoleScope(BaseModel):
    """One library a role assignment is limited to; an assignment without any grants everywhere."""

    assignment = ForeignKeyField(RoleAssignment, backref="scope", on_delete="CASCADE")
    library = ForeignKeyField(Library, backref="role_scopes")

    class Meta:
        indexes = ((("assignment", "library"), True),)
