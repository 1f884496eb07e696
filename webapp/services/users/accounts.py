"""Accounts: creating one, its password, and turning it internal or external."""

from webapp.db import db
from webapp.models import FieldState, User
from webapp.services import Forbidden, ValidationError, sessions
from webapp.services.clock import now
from webapp.services.fields import GENERAL_FIELDS, LABELS
from webapp.services.passwords import check_secret, hash_secret, password_problem
from webapp.services.permissions import require, require_edit
from webapp.services.users.changes import record_change
from webapp.services.users.reads import column_of, get_user, history_value
from webapp.services.users.segments import apply_segment
from webapp.services.users.validation import (
    SegmentChange,
    check_version,
    clean_changes,
    clean_general,
)


def set_password(user_id, password, *, actor, current_password=None):
    """Set an internal account's password; every session of that account ends.

    One's own password changes only with the CURRENT_PASSWORD; an administrator's reset
    of someone else's does not ask for it.
    """
    with db.atomic():
        user = get_user(user_id, lock=True)
        if user.id != actor.user_id:
            require_edit(actor, user)
        if user.is_external:
            raise Forbidden("An external account signs in through its source system.")
        if user.id == actor.user_id and not check_secret(user.password_hash, current_password or ""):
            raise ValidationError({"current_password": "Your current password is not right."})
        problem = password_problem(password)
        if problem:
            raise ValidationError({"password": problem})
        had = user.password_hash is not None
        user.password_hash = hash_secret(password)
        user.save()
        sessions.end_all(user)
        record_change(user, [("Password", "(set)" if had else None, "(changed)")],
                      actor=actor.name, via="staff", at=now())
    return user


def _new_segments(identifier, email):
    changes = []
    if identifier and (identifier.get("value") or "").strip():
        changes.append(SegmentChange("identifiers", "add", identifier))
    if email and (email.get("address") or "").strip():
        changes.append(SegmentChange("emails", "add", {"preferred": "on", **email}))
    return changes


def _clean_new(values, identifier, email, password):
    """Return (cleaned fields, cleaned segments) of a new account, or raise ValidationError."""
    errors = {}
    try:
        cleaned = clean_general({f: values.get(f, "") for f in GENERAL_FIELDS})
    except ValidationError as exc:
        errors.update(exc.errors)
        cleaned = {}
    cleaned_segments = clean_changes(_new_segments(identifier, email), None, errors)
    first = cleaned_segments[0] if cleaned_segments else None
    if first and first[0].kind == "identifiers" and cleaned.get("primary_id"):
        if first[1]["value"].lower() == cleaned["primary_id"].lower():
            errors["identifiers.new.value"] = "This is already the primary identifier."
    problem = password_problem(password) if password else None
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationError(errors)
    return cleaned, cleaned_segments


def create_user(values, *, actor, identifier=None, email=None, password=None):
    """Create an internal account from VALUES with an optional identifier, email and password."""
    require(actor, "users.edit", "Your account is missing a user management role.")
    values = dict(values)
    values.setdefault("status", "active")
    cleaned, cleaned_segments = _clean_new(values, identifier, email, password)
    with db.atomic():
        when = now()
        # Version 0: the write path that records the creation makes it the first version.
        user = User.create(
            **{column_of(k): v for k, v in cleaned.items()},
            record_type="public", account_type="internal", version=0,
            password_hash=hash_secret(password) if password else None,
            created_at=when, created_by=actor.name, modified_at=when, modified_by=actor.name,
        )
        log = [("Record", None, "created")]
        log.extend((LABELS[f], None, history_value(f, v)) for f, v in cleaned.items()
                   if v not in (None, ""))
        for change, seg_values in cleaned_segments:
            log.extend(apply_segment(user, change, seg_values, actor, None, when))
        record_change(user, log, actor=actor.name, via="staff", at=when, reindex=True)
    return user


def _to_internal(user, password):
    """Set the password of an account turning internal; return the history entries."""
    problem = password_problem(password or "")
    if problem:
        raise ValidationError({"password": problem})
    user.password_hash = hash_secret(password)
    log = [("Password", None, "(set)")]
    for state in FieldState.select().where(FieldState.user == user):
        log.append((f"{LABELS.get(state.field, state.field)} (provenance)", state.state,
                    "internal account"))
    FieldState.delete().where(FieldState.user == user).execute()
    return log


def _to_external(user, source, external_id):
    """Link an account turning external to its source record; return the history entries."""
    errors = {}
    source = (source or "").strip()
    external_id = (external_id or "").strip()
    if not source:
        errors["source"] = "Source system is required."
    if not external_id:
        errors["external_id"] = "External ID is required."
    elif User.get_or_none(
        (User.source == source) & (User.external_id == external_id) & (User.id != user.id)
    ):
        errors["external_id"] = "Another user has this external ID in that source."
    if errors:
        raise ValidationError(errors)
    log = [(LABELS["source"], user.source, source),
           (LABELS["external_id"], user.external_id, external_id)]
    if user.password_hash:
        log.append(("Password", "(set)", None))
    user.source, user.external_id, user.password_hash = source, external_id, None
    return log


def change_account_type(user_id, *, version, actor, to, password=None, source=None,
                        external_id=None):
    """Turn an internal account external or back; every value is kept."""
    with db.atomic():
        user = get_user(user_id, lock=True)
        require(actor, "users.admin", "Only a User Administrator changes an account type.")
        check_version(user, version, {"account_type": to})
        if to not in ("internal", "external") or to == user.account_type:
            raise ValidationError({"account_type": f"The account is already {user.account_type}."})
        log = [(LABELS["account_type"], user.account_type, to)]
        if to == "internal":
            log.extend(_to_internal(user, password))
        else:
            log.extend(_to_external(user, source, external_id))
        user.account_type = to
        user.save()
        sessions.end_all(user)
        record_change(user, log, actor=actor.name, via="staff", at=now())
    return user
