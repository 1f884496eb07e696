"""The rules of roles: who may give which, the last administrator, a valid scope, no duplicates."""

import dataclasses
import datetime

from webapp.models import Library, RoleAssignment, RoleScope
from webapp.services.errors import DomainError, EditConflict, Forbidden, NotFound, ValidationError
from webapp.services.fields import as_id
from webapp.services.permissions import GSA, ROLES, is_last_administrator, require
from webapp.services.users import get_user

# Roles that only a General System Administrator gives or removes.
ADMIN_ROLES = (GSA, "User Administrator")
STUDENT_ROLE = "Circulation Desk Operator – Limited"


class StaffRecordNeeded(DomainError):
    """A first role would turn a public record into a staff record: the caller must confirm."""


@dataclasses.dataclass(frozen=True)
class Scope:
    """What an assignment grants: its role, its libraries (none: all) and its days."""

    role: str
    libraries: tuple = ()  # Library rows, by name
    starts_on: datetime.date | None = None
    expires_on: datetime.date | None = None

    @property
    def library_ids(self):
        return frozenset(lib.id for lib in self.libraries)

    def describe(self):
        """Return the assignment in words, as the history and the screens show it."""
        where = ", ".join(lib.name for lib in self.libraries) or "all libraries"
        text = f"{self.role} at {where}"
        if self.starts_on:
            text += f", from {self.starts_on.isoformat()}"
        if self.expires_on:
            text += f", until {self.expires_on.isoformat()}"
        return text

    def overlaps(self, other):
        """Tell whether OTHER is the same role and scope on at least one common day."""
        if (self.role, self.library_ids) != (other.role, other.library_ids):
            return False
        far_past, far_future = datetime.date.min, datetime.date.max
        return ((self.starts_on or far_past) <= (other.expires_on or far_future)
                and (other.starts_on or far_past) <= (self.expires_on or far_future))



def is_system_administrator(actor):
    """Tell whether ACTOR acts as a General System Administrator (holds all it grants)."""
    return ROLES[GSA] <= actor.permissions


def check_may_change(actor, user, role):
    """Raise Forbidden unless ACTOR may give or take ROLE from USER."""
    require(actor, "users.admin", "Only a User Administrator gives or removes roles.")
    if actor.user_id is not None and actor.user_id == user.id:
        raise Forbidden("Nobody changes their own roles: ask another User Administrator.")
    if role in ADMIN_ROLES and not is_system_administrator(actor):
        raise Forbidden(f"Only a General System Administrator gives or removes the {role} role.")


def check_last_gsa(losing, today):
    """Raise Forbidden when LOSING (assignment ids) would leave no active General System Administrator."""
    if is_last_administrator(losing=losing, today=today):
        raise Forbidden(
            "This is the last active General System Administrator: give another account "
            "that role first."
        )


def _libraries(library_ids, errors):
    """Return the Library rows of LIBRARY_IDS, by name; note unknown ones in ERRORS."""
    wanted = set()
    for raw in library_ids or ():
        text = str(raw).strip()
        if as_id(text) is None:
            errors["libraries"] = "Choose libraries from the list."
            return ()
        wanted.add(as_id(text))
    found = list(Library.select().where(Library.id.in_(list(wanted))).order_by(Library.name)) \
        if wanted else []
    if len(found) != len(wanted):
        errors["libraries"] = "One of the chosen libraries does not exist (any more)."
    return tuple(found)


def clean_scope(role, library_ids, starts_on, expires_on):
    """Return the Scope the input describes, or raise ValidationError with every problem."""
    errors = {}
    if role not in ROLES:
        errors["role"] = "Choose a role from the list."
    libraries = _libraries(library_ids, errors)
    if starts_on and expires_on and expires_on < starts_on:
        errors["expires_on"] = "The expiry date cannot be before the start date."
    if errors:
        raise ValidationError(errors)
    return Scope(role, libraries, starts_on, expires_on)


def check_duplicate(user, scope, keep_id=None):
    """Refuse a second assignment of the same role and scope on overlapping days."""
    for assignment_id, held in scopes_of(user.id).items():
        if assignment_id != keep_id and held.overlaps(scope):
            raise ValidationError({"role": (
                f"{user.display_name} already holds {held.describe()}: change that "
                "assignment's dates instead."
            )})


def current_user(user_id, version, submitted):
    """Return the user, re-read in the transaction; EditConflict when VERSION is stale."""
    user = get_user(user_id)
    if version is not None and as_id(version) != user.version:
        raise EditConflict(user, submitted)
    return user


# ---------------------------------------------------------------- reading


def scopes_of(user_id):
    """Return {assignment id: Scope} of every assignment the user holds, expired ones too."""
    assignments = list(RoleAssignment.select().where(RoleAssignment.user == user_id))
    return scopes_by_assignment(assignments)


def scopes_by_assignment(assignments):
    """Return {assignment id: Scope} for ASSIGNMENTS, reading their libraries in one query."""
    names = {a.id: [] for a in assignments}
    if names:
        rows = (RoleScope.select(RoleScope.assignment, Library)
                .join(Library).where(RoleScope.assignment.in_(list(names)))
                .order_by(Library.name))
        for row in rows:
            names[row.assignment_id].append(row.library)
    return {a.id: Scope(a.role, tuple(names[a.id]), a.starts_on, a.expires_on)
            for a in assignments}


def get_assignment(assignment_id):
    """Return the role assignment with ASSIGNMENT_ID or raise NotFound."""
    assignment = RoleAssignment.get_or_none(RoleAssignment.id == assignment_id)
    if assignment is None:
        raise NotFound(f"No role assignment with id {assignment_id}.")
    return assignment
