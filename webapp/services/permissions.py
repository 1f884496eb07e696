"""Roles, the permissions they grant, and who holds which."""

import dataclasses

from webapp.db import prepared
from webapp.models import RoleAssignment
from webapp.services import clock
from webapp.services.errors import Forbidden

PERMISSIONS = {
    "users.view": "User search and User Details (read)",
    "users.edit": "Edit users, Open for Update, Edit User Info, segments, passwords",
    "users.admin": "Staff records, account type, roles, synchronization",
    "desk.use": "The Patron Services page",
    "loans.override_expiry": "A due date past the patron's expiry date",
    "system.admin": "Libraries and settings",
}

ROLES = {
    "General System Administrator": frozenset(PERMISSIONS),
    "User Administrator": frozenset({"users.view", "users.edit", "users.admin"}),
    "User Manager": frozenset({"users.view", "users.edit"}),
    "Circulation Desk Manager": frozenset({"users.view", "desk.use", "loans.override_expiry"}),
    "Circulation Desk Operator": frozenset({"users.view", "desk.use"}),
    "Circulation Desk Operator – Limited": frozenset({"desk.use"}),
}



@dataclasses.dataclass(frozen=True)
class Actor:
    """The staff member on whose behalf a service acts."""

    name: str
    permissions: frozenset
    user_id: int | None = None

    def can(self, permission):
        """Tell whether this actor holds PERMISSION."""
        return permission in self.permissions


SYSTEM = Actor("system", frozenset(["users.view", "users.edit", "users.admin"]))


def may_edit(actor, user):
    """Tell whether ACTOR may edit USER: users.edit, and users.admin for a staff record."""
    if not actor.can("users.edit"):
        return False
    return user.record_type != "staff" or actor.can("users.admin")


def require(actor, permission, message=None):
    """Raise Forbidden unless ACTOR holds PERMISSION."""
    if not actor.can(permission):
        raise Forbidden(message or f"Your account lacks the permission {permission}.")


def require_edit(actor, user):
    """Raise Forbidden unless ACTOR may edit USER (staff records need users.admin)."""
    require(
        actor,
        "users.edit",
        "Your account is missing a user management role; ask a User Administrator.",
    )
    if not may_edit(actor, user):
        raise Forbidden("Only a User Administrator edits a staff record.")


def active_assignments(user, today=None):
    """Return the user's role assignments that have not expired."""
    today = today or clock.today()
    held = prepared("role assignments", RoleAssignment,
                    lambda: RoleAssignment.select().where(RoleAssignment.user == 0), user.id)
    return [
        a for a in held if a.role in ROLES and (a.expires_on is None or a.expires_on >= today)
    ]


def permissions_of(user, today=None):
    """Return the set of permissions the user's active roles grant."""
    granted = set()
    for assignment in active_assignments(user, today):
        granted |= ROLES[assignment.role]
    return frozenset(granted)


def roles_granting(permission):
    """Return the names of the roles that grant PERMISSION."""
    return [name for name, perms in ROLES.items() if permission in perms]
