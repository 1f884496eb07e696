"""Giving, changing and removing roles: the rules, the history, and the sessions they end.

Every rule is checked here, whatever a form posted: only users.admin gives or removes
roles; nobody changes their own; only a General System Administrator gives or removes
General System Administrator or User Administrator; the last active General System
Administrator keeps that role. Each change writes one history row per assignment through
the user write path, which also bumps the user's version (so two admins editing one
person's roles at once get an edit conflict).
"""

import dataclasses
import datetime

from peewee import fn

from webapp.db import db
from webapp.models import Library, RoleAssignment, RoleScope, SignInLog, User
from webapp.services import auth, clock, settings
from webapp.services.errors import DomainError, EditConflict, Forbidden, NotFound, ValidationError
from webapp.services.permissions import PERMISSIONS, ROLES, in_force, require, roles_granting
from webapp.services.users import get_user
from webapp.services.users.changes import record_change, record_changes

GSA = "General System Administrator"
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


# ---------------------------------------------------------------- rules


def is_system_administrator(actor):
    """Tell whether ACTOR acts as a General System Administrator (holds all it grants)."""
    return ROLES[GSA] <= actor.permissions


def _check_may_change(actor, user, role):
    """Raise Forbidden unless ACTOR may give or take ROLE from USER."""
    require(actor, "users.admin", "Only a User Administrator gives or removes roles.")
    if actor.user_id is not None and actor.user_id == user.id:
        raise Forbidden("Nobody changes their own roles: ask another User Administrator.")
    if role in ADMIN_ROLES and not is_system_administrator(actor):
        raise Forbidden(f"Only a General System Administrator gives or removes the {role} role.")


def _check_last_gsa(losing, today):
    """Raise Forbidden when LOSING (assignment ids) would leave no active General System Administrator."""
    held = list(
        RoleAssignment.select(RoleAssignment, User.status)
        .join(User).where((RoleAssignment.role == GSA) & (User.status == "active"))
    )
    in_force_now = [a for a in held if in_force(a, today)]
    if any(a.id in losing for a in in_force_now) and all(a.id in losing for a in in_force_now):
        raise Forbidden(
            "This is the last active General System Administrator: give another account "
            "that role first."
        )


def _libraries(library_ids, errors):
    """Return the Library rows of LIBRARY_IDS, by name; note unknown ones in ERRORS."""
    wanted = set()
    for raw in library_ids or ():
        text = str(raw).strip()
        if not text.isdigit():
            errors["libraries"] = "Choose libraries from the list."
            return ()
        wanted.add(int(text))
    found = list(Library.select().where(Library.id.in_(list(wanted))).order_by(Library.name)) \
        if wanted else []
    if len(found) != len(wanted):
        errors["libraries"] = "One of the chosen libraries does not exist (any more)."
    return tuple(found)


def _clean(role, library_ids, starts_on, expires_on):
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


def _check_duplicate(user, scope, keep_id=None):
    """Refuse a second assignment of the same role and scope on overlapping days."""
    for assignment_id, held in scopes_of(user.id).items():
        if assignment_id != keep_id and held.overlaps(scope):
            raise ValidationError({"role": (
                f"{user.display_name} already holds {held.describe()}: change that "
                "assignment's dates instead."
            )})


def _current_user(user_id, version, submitted):
    """Return the user, re-read in the transaction; EditConflict when VERSION is stale."""
    user = get_user(user_id)
    if version is not None and int(version) != user.version:
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


# ---------------------------------------------------------------- changes


def _write_scope(assignment_id, scope):
    RoleScope.delete().where(RoleScope.assignment == assignment_id).execute()
    if scope.libraries:
        RoleScope.insert_many(
            [{"assignment": assignment_id, "library": lib.id} for lib in scope.libraries]
        ).execute()


def _make_staff(user, confirm_staff, log):
    """Turn a public USER into a staff record, once the caller has confirmed it."""
    if user.record_type == "staff":
        return
    if not confirm_staff:
        raise StaffRecordNeeded(
            f"{user.display_name} has a public record: a role makes it a staff record, "
            "which only a User Administrator edits. Confirm to go on."
        )
    User.update(record_type="staff").where(User.id == user.id).execute()
    log.append(("Record type", user.record_type, "staff"))
    user.record_type = "staff"


def assign_role(user_id, role, libraries=(), starts_on=None, expires_on=None, *, actor,
                confirm_staff=False, version=None):
    """Give USER_ID the ROLE at LIBRARIES (ids; none: all) from STARTS_ON through EXPIRES_ON."""
    submitted = {"role": role, "libraries": list(libraries or ()), "starts_on": starts_on,
                 "expires_on": expires_on}
    with db.atomic():
        user = _current_user(user_id, version, submitted)
        _check_may_change(actor, user, role)
        scope = _clean(role, libraries, starts_on, expires_on)
        _check_duplicate(user, scope)
        log = []
        _make_staff(user, confirm_staff, log)
        at = clock.now()
        assignment = RoleAssignment.create(user=user.id, role=role, starts_on=starts_on,
                                           expires_on=expires_on, assigned_at=at,
                                           assigned_by=actor.name)
        _write_scope(assignment.id, scope)
        log.append(("Role", None, scope.describe()))
        record_change(user, log, actor=actor.name, via="staff", at=at)
    return assignment


def change_role(assignment_id, *, libraries=(), starts_on=None, expires_on=None, actor,
                version=None):
    """Change an assignment's library scope and dates; return it."""
    assignment = get_assignment(assignment_id)
    submitted = {"role": assignment.role, "libraries": list(libraries or ()),
                 "starts_on": starts_on, "expires_on": expires_on}
    with db.atomic():
        user = _current_user(assignment.user_id, version, submitted)
        _check_may_change(actor, user, assignment.role)
        old = scopes_by_assignment([assignment])[assignment.id]
        new = _clean(assignment.role, libraries, starts_on, expires_on)
        if new == old:
            return assignment
        _check_duplicate(user, new, keep_id=assignment.id)
        today = clock.today()
        if assignment.role == GSA and (not in_force(new, today) or new.expires_on):
            _check_last_gsa({assignment.id}, today)
        (RoleAssignment.update(starts_on=starts_on, expires_on=expires_on)
         .where(RoleAssignment.id == assignment.id).execute())
        _write_scope(assignment.id, new)
        record_change(user, [("Role", old.describe(), new.describe())],
                      actor=actor.name, via="staff", at=clock.now())
    assignment.starts_on, assignment.expires_on = starts_on, expires_on
    return assignment


def remove_role(assignment_id, *, actor, revert_to_public=False, version=None):
    """Remove a role and end the account's sessions; REVERT_TO_PUBLIC when it was the last."""
    assignment = get_assignment(assignment_id)
    with db.atomic():
        user = _current_user(assignment.user_id, version, {"remove": assignment.id})
        _check_may_change(actor, user, assignment.role)
        if assignment.role == GSA:
            _check_last_gsa({assignment.id}, clock.today())
        scope = scopes_by_assignment([assignment])[assignment.id]
        _delete([assignment.id])
        log = [("Role", scope.describe(), None)]
        remaining = RoleAssignment.select().where(RoleAssignment.user == user.id).exists()
        if revert_to_public and not remaining and user.record_type == "staff":
            User.update(record_type="public").where(User.id == user.id).execute()
            log.append(("Record type", "staff", "public"))
            user.record_type = "public"
        record_change(user, log, actor=actor.name, via="staff", at=clock.now())
        auth.end_sessions(user)
    return user


def _delete(assignment_ids):
    RoleScope.delete().where(RoleScope.assignment.in_(assignment_ids)).execute()
    RoleAssignment.delete().where(RoleAssignment.id.in_(assignment_ids)).execute()


def make_student_worker(user_id, library_id, *, actor, confirm_staff=False, version=None):
    """Give Circulation Desk Operator – Limited at one library until the semester ends."""
    ends = settings.current_semester_end(clock.today())
    with db.atomic():
        user = _current_user(user_id, version, {"library": library_id})
        _check_may_change(actor, user, STUDENT_ROLE)
        if not str(library_id or "").strip():
            raise ValidationError({"library": "Choose the library the student works at."})
        scope = _clean(STUDENT_ROLE, [library_id], None, ends)
        held = [(aid, s) for aid, s in scopes_of(user.id).items()
                if (s.role, s.library_ids) == (STUDENT_ROLE, scope.library_ids)]
        if not held:
            return assign_role(user.id, STUDENT_ROLE, [library_id], None, ends, actor=actor,
                               confirm_staff=confirm_staff)
        # Already a student worker there (last semester, say): one assignment, new dates.
        assignment_id, old = held[0]
        if old == scope:
            return get_assignment(assignment_id)
        (RoleAssignment.update(starts_on=None, expires_on=ends)
         .where(RoleAssignment.id == assignment_id).execute())
        record_change(user, [("Role", old.describe(), scope.describe())],
                      actor=actor.name, via="staff", at=clock.now())
    return get_assignment(assignment_id)


def _batch(assignment_ids, actor):
    """Return the assignments of ASSIGNMENT_IDS with their users, after checking every rule."""
    ids = {int(i) for i in assignment_ids if str(i).strip().isdigit()}
    if not ids:
        raise ValidationError({"assignments": "Select at least one role."})
    assignments = list(RoleAssignment.select().where(RoleAssignment.id.in_(list(ids))))
    if len(assignments) != len(ids):
        raise NotFound("One of the selected roles does not exist any more.")
    users = {u.id: u for u in User.select().where(
        User.id.in_(list({a.user_id for a in assignments})))}
    for assignment in assignments:
        _check_may_change(actor, users[assignment.user_id], assignment.role)
    return assignments, users


def extend_to_next_semester(assignment_ids, *, actor):
    """Let the chosen assignments run to the end of next semester; return how many changed."""
    today = clock.today()
    ends = settings.next_semester_end(today)
    with db.atomic():
        assignments, _users = _batch(assignment_ids, actor)
        scopes = scopes_by_assignment(assignments)
        changes, extended = {}, []
        for assignment in assignments:
            old = scopes[assignment.id]
            if old.expires_on is None or old.expires_on >= ends:
                continue  # never shorten, never give an end to a role that has none
            new = dataclasses.replace(old, expires_on=ends)
            changes.setdefault(assignment.user_id, []).append(
                ("Role", old.describe(), new.describe()))
            extended.append(assignment.id)
        if extended:
            (RoleAssignment.update(expires_on=ends)
             .where(RoleAssignment.id.in_(extended)).execute())
            record_changes(changes, actor=actor.name, via="staff", at=clock.now())
    return len(extended)


def remove_roles(assignment_ids, *, actor):
    """Remove the chosen assignments at once and end their holders' sessions; return how many."""
    with db.atomic():
        assignments, users = _batch(assignment_ids, actor)
        if any(a.role == GSA for a in assignments):
            _check_last_gsa({a.id for a in assignments}, clock.today())
        scopes = scopes_by_assignment(assignments)
        changes = {}
        for assignment in assignments:
            changes.setdefault(assignment.user_id, []).append(
                ("Role", scopes[assignment.id].describe(), None))
        _delete([a.id for a in assignments])
        record_changes(changes, actor=actor.name, via="staff", at=clock.now())
        for user_id in changes:
            auth.end_sessions(users[user_id])
    return len(assignments)


# ---------------------------------------------------------------- reviewing

# An assignment ending within this many days is flagged as expiring soon.
EXPIRING_DAYS = 30


@dataclasses.dataclass(frozen=True)
class Holding:
    """One role assignment as Admin › Staff and the Roles tab list it."""

    assignment_id: int
    user: User
    scope: Scope
    state: str  # active | expiring | expired | not started
    last_sign_in: datetime.datetime | None = None


def state_of(scope, today):
    """Return whether SCOPE is 'active', 'expiring' (within 30 days), 'expired' or 'not started'."""
    if scope.expires_on is not None and scope.expires_on < today:
        return "expired"
    if scope.starts_on is not None and today < scope.starts_on:
        return "not started"
    if scope.expires_on is not None and (scope.expires_on - today).days <= EXPIRING_DAYS:
        return "expiring"
    return "active"


def _last_sign_ins(users):
    """Return {user id: time of the last successful sign-in} for USERS."""
    by_name = {u.primary_id.lower(): u.id for u in users}
    if not by_name:
        return {}
    rows = (SignInLog.select(SignInLog.identifier, fn.MAX(SignInLog.at))
            .where(SignInLog.success & SignInLog.identifier.in_(list(by_name)))
            .group_by(SignInLog.identifier).tuples())
    return {by_name[identifier]: at for identifier, at in rows}


def holdings(assignments, today, *, sign_ins=False):
    """Return a Holding for each of ASSIGNMENTS (their users joined), by name, then role."""
    scopes = scopes_by_assignment(assignments)
    last = _last_sign_ins({a.user for a in assignments}) if sign_ins else {}
    rows = [Holding(a.id, a.user, scopes[a.id], state_of(scopes[a.id], today),
                    last.get(a.user_id)) for a in assignments]
    return sorted(rows, key=lambda h: (h.user.sort_name.lower(), h.user.id, h.scope.role))


def _with_users():
    return RoleAssignment.select(RoleAssignment, User).join(User)


def roles_of(user_id):
    """Return the user's assignments, expired ones too, for the Roles tab."""
    query = _with_users().where(RoleAssignment.user == user_id)
    return holdings(list(query), clock.today())


def staff_overview(role=None, library=None, expiring=False):
    """Return every role holding for Admin › Staff, filtered by role, library and expiring soon.

    LIBRARY (an id) keeps assignments that grant there: scoped to it, or to all libraries.
    EXPIRING keeps the expired ones and those ending within 30 days.
    """
    today = clock.today()
    query = _with_users()
    if role:
        query = query.where(RoleAssignment.role == role)
    if expiring:
        soon = today + datetime.timedelta(days=EXPIRING_DAYS)
        query = query.where(RoleAssignment.expires_on.is_null(False)
                            & (RoleAssignment.expires_on <= soon))
    rows = holdings(list(query), today, sign_ins=True)
    if library:
        library = int(library)
        rows = [h for h in rows if not h.scope.libraries or library in h.scope.library_ids]
    return rows


def who_can(permission):
    """Return the holdings in force today, on active accounts, that grant PERMISSION."""
    if permission not in PERMISSIONS:
        raise ValidationError({"permission": "Choose a permission from the list."})
    query = _with_users().where(RoleAssignment.role.in_(roles_granting(permission))
                                & (User.status == "active"))
    today = clock.today()
    return [h for h in holdings(list(query), today) if in_force(h.scope, today)]
