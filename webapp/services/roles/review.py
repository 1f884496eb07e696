"""Reviewing roles: Admin › Staff, the Roles tab, and who can do what."""

import dataclasses
import datetime

from peewee import fn

from webapp.models import Library, RoleAssignment, SignInLog, User
from webapp.services import clock, settings
from webapp.services.errors import ValidationError
from webapp.services.fields import as_id
from webapp.services.permissions import PERMISSIONS, ROLES, in_force, permissions_of, roles_granting
from webapp.services.roles.rules import Scope, is_system_administrator, scopes_by_assignment

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
        library = as_id(library)
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


@dataclasses.dataclass(frozen=True)
class Access:
    """One permission as "Why can't I…?" explains it to a staff member."""

    permission: str
    allows: str
    held: bool  # at the library they are currently at
    through: tuple  # Scopes of their assignments in force that grant it (anywhere)
    roles: tuple  # every role that grants it


def access_of(user, library=None):
    """Return an Access for each permission: does USER hold it at LIBRARY, and which roles give it."""
    today = clock.today()
    mine = [h.scope for h in roles_of(user.id) if in_force(h.scope, today)]
    here = permissions_of(user, today, library)
    return [
        Access(permission, allows, permission in here,
               tuple(s for s in mine if permission in ROLES[s.role]),
               tuple(roles_granting(permission)))
        for permission, allows in PERMISSIONS.items()
    ]


def tab_choices(actor):
    """Return what the Roles tab's forms offer ACTOR: libraries, the semester end, admin roles."""
    libraries = list(Library.select().order_by(Library.is_main.desc(), Library.name))
    return {"library_list": libraries,
            "library_options": [(lib.id, lib.name) for lib in libraries],
            "semester_end": settings.current_semester_end(clock.today()),
            "may_give_admin_roles": is_system_administrator(actor)}
