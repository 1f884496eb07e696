"""Roles, the permissions they grant, and who holds which."""

import dataclasses

from peewee import JOIN

from webapp.db import prepared
from webapp.models import Library, RoleAssignment, RoleScope, User
from webapp.services import clock
from webapp.services.errors import Forbidden

# What each permission allows, in the menus' and buttons' own words ("Why can't I…?" shows it).
PERMISSIONS = {
    "users.view": "The search box, Users › Find users, and User Details (read)",
    "users.edit": "Edit and Save, Open for Update, Edit User Info, Users › Add user, "
                  "adding and removing entries, setting passwords",
    "users.admin": "Editing staff records, the Roles tab, Admin › Staff, changing the account "
                   "type, Admin › Synchronize users",
    "desk.use": "Fulfillment › Checkout/Checkin › Manage Patron Services",
    "loans.override_expiry": "Extend due date: a due date past the patron's expiry date",
    "system.admin": "Admin › Libraries, Admin › Settings and Admin › Changes",
}

GSA = "General System Administrator"
ROLES = {
    GSA: frozenset(PERMISSIONS),
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


def in_force(assignment, today):
    """Tell whether ASSIGNMENT grants on TODAY: from its start through its expiry, both included."""
    if assignment.starts_on is not None and today < assignment.starts_on:
        return False
    return assignment.expires_on is None or today <= assignment.expires_on


# in_force as an SQL condition on role_assignment, for hand-written queries; its two
# markers both take today's date.
IN_FORCE_SQL = "(starts_on IS NULL OR starts_on <= {mark}) AND (expires_on IS NULL OR expires_on >= {mark})"


def _scope_query():
    return (RoleAssignment.select(RoleAssignment, RoleScope.library.alias("scope_library"))
            .join(RoleScope, JOIN.LEFT_OUTER).where(RoleAssignment.user == 0)
            .order_by(RoleAssignment.id))


def active_assignments(user, today=None):
    """Return the user's role assignments in force today, each with its scope's library_ids.

    An empty library_ids means all libraries.
    """
    today = today or clock.today()
    held = {}
    for row in prepared("role assignments and scopes", RoleAssignment, _scope_query, user.id):
        assignment = held.setdefault(row.id, row)
        if not hasattr(assignment, "library_ids"):
            assignment.library_ids = frozenset()
        if row.scope_library is not None:
            assignment.library_ids = assignment.library_ids | {row.scope_library}
    return [a for a in held.values() if a.role in ROLES and in_force(a, today)]


def grants_at(assignment, library):
    """Tell whether ASSIGNMENT applies at LIBRARY (an id; None: anywhere it is held)."""
    return library is None or not assignment.library_ids or library in assignment.library_ids


def _granted(held, library):
    granted = set()
    for assignment in held:
        if grants_at(assignment, library):
            granted |= ROLES[assignment.role]
    return frozenset(granted)


def permissions_of(user, today=None, library=None):
    """Return the permissions the user's roles grant today at LIBRARY (None: at any library)."""
    return _granted(active_assignments(user, today), getattr(library, "id", library))


def _libraries_where(assignments):
    """Return the libraries ASSIGNMENTS apply at (all, when one is unscoped), main library first."""
    scoped = set()
    for assignment in assignments:
        if not assignment.library_ids:
            return list(Library.select().order_by(Library.is_main.desc(), Library.name))
        scoped |= assignment.library_ids
    if not scoped:
        return []
    return list(Library.select().where(Library.id.in_(list(scoped)))
                .order_by(Library.is_main.desc(), Library.name))


def desk_libraries(user, today=None):
    """Return the libraries where the user holds desk.use today, the main library first."""
    held = active_assignments(user, today)
    return _libraries_where([a for a in held if "desk.use" in ROLES[a.role]])


def _workplaces_of(held):
    return _libraries_where([a for a in held if "desk.use" in ROLES[a.role] or a.library_ids])


def workplaces(user, today=None):
    """Return the libraries the user may say they are "Currently at", the default first.

    The libraries of their desk roles and of their scoped roles (every library when a desk
    role is unscoped); empty when they hold only unscoped roles without desk access.
    """
    return _workplaces_of(active_assignments(user, today))


def _pick(places, chosen):
    chosen = getattr(chosen, "id", chosen)
    return next((lib for lib in places if lib.id == chosen), places[0] if places else None)


def current_library(user, chosen=None, today=None):
    """Return the library USER works at: CHOSEN when it is one of their workplaces, else the first."""
    return _pick(workplaces(user, today), chosen)


@dataclasses.dataclass(frozen=True)
class Working:
    """What a signed-in staff member may do where they work, read once per request."""

    permissions: frozenset
    library: object  # the Library they are currently at, or None
    workplaces: tuple  # the libraries they may choose from


def working(user, chosen=None, today=None):
    """Return USER's Working: the library CHOSEN (or their default) and what they may do there."""
    held = active_assignments(user, today)
    places = tuple(_workplaces_of(held))
    library = _pick(places, chosen)
    return Working(_granted(held, library.id if library else None), library, places)


def is_last_administrator(*, losing=(), deactivating=None, today=None):
    """Tell whether LOSING (assignment ids) or DEACTIVATING (a user id) leaves no active GSA.

    Counted are General System Administrator assignments in force today on active accounts.
    """
    today = today or clock.today()
    held = [a for a in RoleAssignment.select().join(User)
            .where((RoleAssignment.role == GSA) & (User.status == "active")) if in_force(a, today)]
    gone = [a for a in held if a.id in losing or a.user_id == deactivating]
    return bool(gone) and len(gone) == len(held)


def roles_granting(permission):
    """Return the names of the roles that grant PERMISSION."""
    return [name for name, perms in ROLES.items() if permission in perms]
