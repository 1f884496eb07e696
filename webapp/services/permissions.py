"""Roles, the permissions they grant, and who holds which."""

import datetime

from webapp.db import prepared
from webapp.models import RoleAssignment

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

# A "user management role" in the seed's sense: any role that grants this.
USER_MANAGEMENT_PERMISSION = "users.edit"


def active_assignments(user, today=None):
    """Return the user's role assignments that have not expired."""
    today = today or datetime.date.today()
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
