"""Roles: give, scope, date, review and remove them, with every rule checked here.

Whatever a form posted: only users.admin gives or removes roles; nobody changes their own;
only a General System Administrator gives or removes General System Administrator or User
Administrator; the last active General System Administrator keeps that role. Each change
writes one history row per assignment through the user write path, which also bumps the
user's version (so two admins editing one person's roles at once get an edit conflict).
"""

from webapp.services.roles.changes import (
    assign_role,
    change_role,
    extend_to_next_semester,
    make_student_worker,
    remove_role,
    remove_roles,
)
from webapp.services.roles.review import (
    EXPIRING_DAYS,
    Access,
    Holding,
    access_of,
    roles_of,
    staff_overview,
    state_of,
    tab_choices,
    who_can,
)
from webapp.services.roles.rules import (
    ADMIN_ROLES,
    GSA,
    STUDENT_ROLE,
    Scope,
    StaffRecordNeeded,
    get_assignment,
    is_system_administrator,
    scopes_of,
)

__all__ = [
    "ADMIN_ROLES",
    "EXPIRING_DAYS",
    "Access",
    "GSA",
    "STUDENT_ROLE",
    "Holding",
    "Scope",
    "StaffRecordNeeded",
    "access_of",
    "assign_role",
    "change_role",
    "extend_to_next_semester",
    "get_assignment",
    "is_system_administrator",
    "make_student_worker",
    "remove_role",
    "remove_roles",
    "roles_of",
    "scopes_of",
    "staff_overview",
    "state_of",
    "tab_choices",
    "who_can",
]
