"""Editing a user's record: User Details and the desk's Edit User Info, Open for Update, release."""

from webapp.db import db
from webapp.models import FieldState
from webapp.services import Forbidden, NotFound, ValidationError, search, sessions
from webapp.services.clock import now
from webapp.services.fields import LABELS, PROTECTED, SOURCE_MANAGED, TEMPORARY, from_text, history_text
from webapp.services.permissions import is_last_administrator, require_edit
from webapp.services.users.changes import record_change
from webapp.services.users.reads import column_of, get_user, history_value
from webapp.services.users.segments import apply_segment
from webapp.services.users.validation import check_version, clean_changes, clean_general

# The fields the search index holds; a change to one of them re-indexes the user.
_SEARCHED = frozenset(search.NAME_FIELDS) | {"primary_id"}
_SEARCHED_KINDS = ("identifiers", "emails")


def _set_provenance(user, field, old_value, state, actor, when):
    """Record that FIELD of an external account was edited here, remembering the source's value."""
    existing = FieldState.get_or_none((FieldState.user == user) & (FieldState.field == field))
    if existing is None:
        FieldState.create(user=user, field=field, state=state, source_value=history_text(old_value),
                          changed_at=when, changed_by=actor.name)
        return None
    old_state = existing.state
    existing.state = state
    existing.changed_at = when
    existing.changed_by = actor.name
    existing.save()
    return old_state


def _clean(user, fields, changes):
    """Return (cleaned fields, [(change, cleaned values)]) or raise ValidationError with every error."""
    errors = {}
    try:
        cleaned = clean_general(fields, user)
    except ValidationError as exc:
        errors.update(exc.errors)
        cleaned = {}
    cleaned_segments = clean_changes(changes, user, errors)
    if errors:
        raise ValidationError(errors)
    return cleaned, cleaned_segments


def _refuse_locked(user, edited, opened):
    locked = [f for f in edited if f in SOURCE_MANAGED]
    if user.is_external and locked and opened not in (TEMPORARY, PROTECTED):
        raise Forbidden(
            "These fields are managed by the source system; open the record for "
            "update first: " + ", ".join(LABELS[f] for f in locked) + "."
        )


def _apply_fields(user, edited, actor, opened, when):
    """Set the EDITED general fields on USER and its provenance; return the history entries."""
    log = []
    for field, new in edited.items():
        old = getattr(user, column_of(field))
        log.append((LABELS[field], history_value(field, old), history_value(field, new)))
        setattr(user, column_of(field), new)
        if user.is_external:
            state = opened if field in SOURCE_MANAGED else PROTECTED
            before = _set_provenance(user, field, old, state, actor, when)
            if before != state:
                log.append((f"{LABELS[field]} (provenance)", before or "source", state))
    return log


def save_user(user_id, *, version, actor, fields=None, changes=(), opened=None):
    """Apply general field and segment changes to a user in one transaction; return the user.

    OPENED is None unless the staff member opened an external account for update; then
    it is TEMPORARY or PROTECTED, the answer to "Protect your changes from the next
    synchronization?". Raises Forbidden, ValidationError, EditConflict or NotFound and
    then stores nothing.
    """
    fields = dict(fields or {})
    changes = list(changes)
    with db.atomic():
        user = get_user(user_id, lock=True)
        require_edit(actor, user)
        check_version(user, version, {"fields": fields, "changes": changes})
        cleaned, cleaned_segments = _clean(user, fields, changes)
        when = now()
        edited = {f: v for f, v in cleaned.items() if v != getattr(user, column_of(f))}
        _refuse_locked(user, edited, opened)
        if edited.get("status") == "inactive" and is_last_administrator(deactivating=user.id):
            raise ValidationError({"status": "This is the last active General System "
                                   "Administrator: give another account that role first."})
        log = _apply_fields(user, edited, actor, opened, when)
        for change, values in cleaned_segments:
            log.extend(apply_segment(user, change, values, actor, opened, when))
        if not log:
            return user
        user.save()
        if edited.get("status") == "inactive":
            sessions.end_all(user)
        reindex = bool(_SEARCHED & set(edited)) or any(c.kind in _SEARCHED_KINDS for c in changes)
        record_change(user, log, actor=actor.name, via="staff", at=when, reindex=reindex)
    return user


def open_for_update(user_id, *, actor, protect):
    """Check that ACTOR may open an external account for update; return the provenance state."""
    user = get_user(user_id)
    require_edit(actor, user)
    if not user.is_external:
        raise Forbidden("An internal account is edited directly; it needs no Open for Update.")
    return PROTECTED if protect else TEMPORARY


def release_field(user_id, field, *, version, actor):
    """Give FIELD back to the source: restore the source's value and forget the local edit."""
    with db.atomic():
        user = get_user(user_id, lock=True)
        require_edit(actor, user)
        check_version(user, version, {"release": field})
        state = FieldState.get_or_none((FieldState.user == user) & (FieldState.field == field))
        if state is None:
            raise NotFound(f"{LABELS.get(field, field)} holds the source's value already.")
        old = getattr(user, column_of(field))
        restored = from_text(field, state.source_value)
        setattr(user, column_of(field), restored)
        state.delete_instance()
        user.save()
        log = [(LABELS[field], history_value(field, old), history_value(field, restored)),
               (f"{LABELS[field]} (provenance)", state.state, "source")]
        record_change(user, log, actor=actor.name, via="staff", at=now(), reindex=field in _SEARCHED)
    return user
