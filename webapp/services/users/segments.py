"""Applying one segment change (an email, phone, address, identifier, note or block)."""

from webapp.models import SEGMENT_MODELS
from webapp.services import Forbidden, NotFound
from webapp.services.fields import (
    PROTECTED,
    SEGMENT_FIELDS,
    SEGMENT_LABELS,
    TEMPORARY,
    describe_segment,
)


def describe(kind, segment):
    """Return a stored SEGMENT of KIND as the history shows it."""
    values = {f: getattr(segment, f) for f in SEGMENT_FIELDS[kind]}
    return describe_segment(kind, dict(values, segment=segment.segment))


def _add(user, change, values, actor, when):
    model = SEGMENT_MODELS[change.kind]
    if change.as_external and not user.is_external:
        raise Forbidden("Only an external account has external segments.")
    segment = model(user=user, segment="external" if change.as_external else "internal")
    for field, value in values.items():
        setattr(segment, field, value)
    if change.kind == "notes":
        segment.created_by = actor.name
        segment.created_at = when
    log = clear_preferred(user, change.kind, None) if values.get("preferred") else []
    segment.save(force_insert=True)
    log.append((SEGMENT_LABELS[change.kind], None, describe(change.kind, segment)))
    return log


def _existing(user, change, values, opened):
    """Return the segment CHANGE names, refusing a source segment not opened for update."""
    model = SEGMENT_MODELS[change.kind]
    label = SEGMENT_LABELS[change.kind]
    segment = model.get_or_none((model.id == change.segment_id) & (model.user == user))
    if segment is None:
        raise NotFound(f"{label} {change.segment_id} is not part of this user's record.")
    if user.is_external and segment.segment == "external":
        # Setting "preferred" alone is the library's choice; anything else is the source's.
        source_fields = [f for f in values if f != "preferred" and values[f] != getattr(segment, f)]
        if (change.action == "remove" or source_fields) and opened not in (TEMPORARY, PROTECTED):
            raise Forbidden(
                f"This {label.lower()} comes from the source system; open the record for update "
                "first, or add an internal one."
            )
    return segment


def apply_segment(user, change, values, actor, opened, when):
    """Apply one cleaned segment change; return its history entries."""
    if change.action == "add":
        return _add(user, change, values, actor, when)
    label = SEGMENT_LABELS[change.kind]
    segment = _existing(user, change, values, opened)
    before = describe(change.kind, segment)
    if change.action == "remove":
        segment.delete_instance()
        return [(label, before, None)]
    changed = {f: v for f, v in values.items() if v != getattr(segment, f)}
    if not changed:
        return []
    log = clear_preferred(user, change.kind, segment.id) if changed.get("preferred") else []
    for field, value in changed.items():
        setattr(segment, field, value)
    if user.is_external and segment.segment == "external" and set(changed) - {"preferred"}:
        segment.edited_locally = True
    segment.save()
    log.append((label, before, describe(change.kind, segment)))
    return log


def clear_preferred(user, kind, keep_id):
    """Untick 'preferred' on the user's other segments of KIND; return the history entries."""
    model = SEGMENT_MODELS[kind]
    log = []
    query = model.select().where((model.user == user) & (model.preferred == True))  # noqa: E712
    for other in query:
        if other.id == keep_id:
            continue
        before = describe(kind, other)
        other.preferred = False
        other.save()
        log.append((SEGMENT_LABELS[kind], before, describe(kind, other)))
    return log
