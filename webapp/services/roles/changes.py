"""Giving, changing and removing roles; each change in the history, removals end sessions."""

import dataclasses

from webapp.db import db
from webapp.models import RoleAssignment, RoleScope, User
from webapp.services import auth, clock, settings
from webapp.services.errors import NotFound, ValidationError
from webapp.services.fields import as_id
from webapp.services.permissions import in_force
from webapp.services.roles.rules import (
    GSA,
    STUDENT_ROLE,
    StaffRecordNeeded,
    check_duplicate,
    check_last_gsa,
    check_may_change,
    clean_scope,
    current_user,
    get_assignment,
    scopes_by_assignment,
    scopes_of,
)
from webapp.services.users.changes import record_change, record_changes


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
        user = current_user(user_id, version, submitted)
        check_may_change(actor, user, role)
        scope = clean_scope(role, libraries, starts_on, expires_on)
        check_duplicate(user, scope)
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
        user = current_user(assignment.user_id, version, submitted)
        check_may_change(actor, user, assignment.role)
        old = scopes_by_assignment([assignment])[assignment.id]
        new = clean_scope(assignment.role, libraries, starts_on, expires_on)
        if new == old:
            return assignment
        check_duplicate(user, new, keep_id=assignment.id)
        today = clock.today()
        if assignment.role == GSA and (not in_force(new, today) or new.expires_on):
            check_last_gsa({assignment.id}, today)
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
        user = current_user(assignment.user_id, version, {"remove": assignment.id})
        check_may_change(actor, user, assignment.role)
        if assignment.role == GSA:
            check_last_gsa({assignment.id}, clock.today())
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
        user = current_user(user_id, version, {"library": library_id})
        check_may_change(actor, user, STUDENT_ROLE)
        if not str(library_id or "").strip():
            raise ValidationError({"library": "Choose the library the student works at."})
        scope = clean_scope(STUDENT_ROLE, [library_id], None, ends)
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
    ids = {as_id(i) for i in assignment_ids} - {None}
    if not ids:
        raise ValidationError({"assignments": "Select at least one role."})
    assignments = list(RoleAssignment.select().where(RoleAssignment.id.in_(list(ids))))
    if len(assignments) != len(ids):
        raise NotFound("One of the selected roles does not exist any more.")
    users = {u.id: u for u in User.select().where(
        User.id.in_(list({a.user_id for a in assignments})))}
    for assignment in assignments:
        check_may_change(actor, users[assignment.user_id], assignment.role)
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
            check_last_gsa({a.id for a in assignments}, clock.today())
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
