"""Comparing a row with the stored user: its fields and segments become a plan of changes.

Rules (SPEC 1, 2 and 4): source-managed fields in `source` or `temporary` state take the
file's value, `protected` ones keep theirs and only remember the file's value as the
source value; library-managed fields edited here are kept; external segments are
replaced by the file's, internal ones are never touched.
"""

import types

from webapp.models import Identifier, User
from webapp.services import ValidationError, search
from webapp.services.fields import (
    BOOLEAN_FIELDS,
    LABELS,
    SEGMENT_FIELDS,
    SEGMENT_LABELS,
    SOURCE_MANAGED,
    TEMPORARY,
    history_text,
    max_length,
    parse_date,
)
from webapp.services.sync import queries
from webapp.services.sync.rows import (
    FIELD_DEFAULTS,
    FILE_FIELDS,
    SEGMENT_COMPARED,
    described,
    shown_text,
    stored_text,
)
from webapp.services.sync.stored import KEY_MAKERS, StoredSegment, as_sent
from webapp.services.users import clean_general, segment_problems

# Fields whose change rebuilds the user's search entries.
INDEXED = frozenset(search.NAME_FIELDS) | {"primary_id"}


class Plan:
    """What one row (or one missing user) changes: fields, provenance, segments, history."""

    __slots__ = ("row", "user", "action", "errors", "fields", "log", "drop_states",
                 "source_values", "drop_segments", "restore_segments", "add_segments",
                 "replace_segments", "overwritten", "claims", "reindex", "missing")

    def __init__(self, row, user, missing=False):
        """Start an unchanged plan for ROW against the stored USER (None for a new one)."""
        self.row = row
        self.user = user  # the stored user as a dict of raw values, None for a new one
        self.action = "unchanged"  # created | updated | deactivated | unchanged | rejected
        self.errors = list(row.errors)
        self.fields = {}  # field -> value to store
        self.log = []  # (label, old, new) history entries
        self.drop_states = []  # FieldState ids
        self.source_values = []  # (FieldState id, text)
        self.drop_segments = {}  # kind -> [ids]
        self.restore_segments = {}  # kind -> [ids]
        self.add_segments = {}  # kind -> [values]
        self.replace_segments = {}  # kind -> [(id, values)]
        self.overwritten = []  # (what, local value, file's value)
        self.claims = []  # (identifying value, where)
        self.reindex = False
        self.missing = missing  # a user of the source that the file no longer lists

    @property
    def user_id(self):
        """Return the stored user's id, None for a user not written yet."""
        return self.user["id"] if self.user else None


def plan_for(row, user, missing=False):
    """Return the Plan of ROW against USER; a file never changes an internal account."""
    plan = Plan(row, user, missing)
    if not plan.errors and user is not None and user["account_type"] != "external":
        plan.errors.append(f"external_id: {row.external_id} belongs to an internal account; a "
                           "synchronization never changes an internal account.")
    return plan


def compare(plans, states, stored):
    """Work out each plan without errors from the user's field STATES and STORED segments."""
    for plan in plans:
        if plan.errors:
            continue
        uid = plan.user_id
        compare_fields(plan, states.get(uid))
        for kind, items in plan.row.segments.items():
            records = stored[kind].get(uid, ())
            if not as_sent(kind, items, records):
                compare_segments(plan, kind, items, records)
    check_claims([p for p in plans if p.claims and not p.errors])


# ---------------------------------------------------------------- fields


def _wanted(row, user, states):
    """Return {field: text} of the file's values that would change something."""
    wanted = {}
    for field, text in row.fields.items():
        current = user[field]
        if current.__class__ is not str:
            current = stored_text(current, field in BOOLEAN_FIELDS)
        state = states.get(field) if states else None
        if state is None or (state.state == TEMPORARY and field in SOURCE_MANAGED):
            if text != current:
                wanted[field] = text
        elif text != (state.source_value or ""):
            wanted[field] = text
    return wanted


def compare_fields(plan, states):
    """Plan the changes of the row's fields (provenance STATES decide who wins)."""
    row, user = plan.row, plan.user
    if user is None:
        _new_user(plan)
        return
    # Only values that would change are checked: an unchanged user costs a comparison.
    wanted = _wanted(row, user, states)
    if not wanted and not states:
        return
    cleaned = _clean_fields(plan, wanted)
    if plan.errors:
        return
    for field in row.fields:
        state = states.get(field) if states else None
        if state is not None and not (state.state == TEMPORARY and field in SOURCE_MANAGED):
            # Protected (or a library-managed field edited here): keep it, remember the file's.
            if field in cleaned:
                plan.source_values.append((state.id, history_text(cleaned[field])))
                plan.log.append((f"{LABELS[field]} (source value)", state.source_value,
                                 history_text(cleaned[field])))
            continue
        _take_field(plan, field, cleaned, state)
    if plan.missing and "status" in plan.fields:
        plan.action = "deactivated"


def _take_field(plan, field, cleaned, state):
    """Plan FIELD taking the file's value; a temporary edit (STATE) gives way."""
    label = LABELS[field]
    if field in cleaned:
        old = shown_text(plan.user[field], field in BOOLEAN_FIELDS)
        plan.fields[field] = cleaned[field]
        plan.log.append((label, old, history_text(cleaned[field])))
        if field == "primary_id":
            plan.claims.append((cleaned[field], "primary_id"))
        if field in INDEXED:
            plan.reindex = True
        if state is not None:
            plan.overwritten.append((label, old, history_text(cleaned[field])))
    if state is not None:
        # The temporary edit gives way: the field holds the source's value again.
        plan.drop_states.append(state.id)
        plan.log.append((f"{label} (provenance)", TEMPORARY, "source"))


def _new_user(plan):
    """Plan the creation of a user the file brings."""
    cleaned = _clean_fields(plan, plan.row.fields)
    if plan.errors:
        return
    plan.action = "created"
    plan.fields = cleaned
    plan.claims.append((cleaned["primary_id"], "primary_id"))
    # Its history, and its preview, is this one entry: the record holds what the file
    # brought, and each later change keeps the value it replaced. A first load would
    # otherwise write a dozen history rows per user (bench: "sync all new").
    plan.log.append(("Record", None, "created"))
    plan.reindex = True


def created_values(plan):
    """Return what the preview shows of a created user: each value as a (label, None, new) change.

    Only the report's first users are described (report.KEEP_DIFFS): the history holds the
    one "created" entry (_new_user).
    """
    lines = list(plan.log)
    lines.extend((LABELS[f], None, history_text(plan.fields[f])) for f in FILE_FIELDS
                 if plan.fields.get(f) not in (None, ""))
    for kind, added in plan.add_segments.items():
        lines.extend((SEGMENT_LABELS[kind], None, described(kind, dict(values, segment="external")))
                     for values in added)
    return lines


def _errors_of(exc, where):
    """Turn a ValidationError from the user service into 'column: message' lines."""
    messages = []
    for key, message in exc.errors.items():
        field = key.rsplit(".", 1)[-1]
        messages.append(f"{where.get(field, field)}: {message}")
    return messages


def _check_identifier(value, where, errors, *, model, field, label):
    """Add an error unless VALUE is a present identifier of acceptable length."""
    if not value:
        errors.append(f"{where}: {label} is required.")
    elif len(value) > max_length(model, field):
        errors.append(f"{where}: Use at most {max_length(model, field)} characters.")


def _clean_fields(plan, wanted):
    """Return WANTED cleaned by the user service's rules; add any errors to PLAN."""
    if not wanted:
        return {}
    values = dict(wanted)
    values.pop("primary_id", None)
    user = plan.user
    context = None
    if user is not None and ("expiry_date" in values or "purge_date" in values):
        context = types.SimpleNamespace(
            expiry_date=parse_date(user["expiry_date"]), purge_date=parse_date(user["purge_date"]))
    try:
        cleaned = clean_general(values, context)
    except ValidationError as exc:
        plan.errors.extend(_errors_of(exc, {}))
        cleaned = {}
    if "primary_id" in wanted:
        # Its uniqueness is checked for the whole chunk at once (check_claims).
        _check_identifier(wanted["primary_id"], "primary_id", plan.errors, model=User,
                          field="primary_id", label=LABELS["primary_id"])
        cleaned["primary_id"] = wanted["primary_id"]
    return cleaned


# ---------------------------------------------------------------- segments


def _match(kind, items, stored, external):
    """Return (kept, added, dropped) stored EXTERNAL segments against the file's ITEMS."""
    pool = {}
    for segment in external:
        pool.setdefault(segment.key, []).append(segment)
    # An identifier the user holds as an internal one already needs no external twin.
    held = ({s.key[1] for s in stored if s.segment == "internal"} if kind == "identifiers"
            else ())
    kept, added = [], []
    for item in items:
        bucket = pool.get(item.key)
        if bucket:
            kept.append(bucket.pop(0))
        elif not (held and item.values.get("value") in held):
            added.append(item)
    return kept, added, [s for bucket in pool.values() for s in bucket]


def compare_segments(plan, kind, items, records):
    """Plan the changes of the external segments of KIND that the file replaces."""
    if not records:
        # Nothing stored (a new user, mostly): every entry of the file is added.
        _add_new(plan, kind, items)
        return
    make_key = KEY_MAKERS[kind]
    stored = [StoredSegment(kind, r, make_key(r))
              for r in (sorted(records) if len(records) > 1 else records)]
    external = [s for s in stored if s.record[2] == "external"]
    if as_sent(kind, items, [s.record for s in external]):
        # The file says what the source's entries say; internal ones stay as they are.
        return
    kept, added, dropped = _match(kind, items, stored, external)
    restored = [s for s in kept if s.edited_locally]
    if not (dropped or added or restored) and len(items) < 2:
        return
    cleaned = _clean_segments(plan, kind, items, added)
    if plan.errors or not (dropped or added or restored):
        return
    # A dropped entry and an added one make a replaced entry, changed in place (and read as
    # one change, old -> new); it keeps its "preferred" flag, the library's choice.
    # Identifiers are deleted and inserted instead: their values must stay unique at every step.
    pairs = [] if kind == "identifiers" else list(zip(dropped, cleaned, strict=False))
    survivors = [s for s in stored if s.segment == "internal"] + kept + [d for d, _ in pairs]
    _replace(plan, kind, pairs)
    dropped, cleaned = dropped[len(pairs):], cleaned[len(pairs):]
    _add_and_drop(plan, kind, dropped, cleaned, any(s.preferred for s in survivors))
    label = SEGMENT_LABELS[kind]
    for segment in restored:
        # Edited here, and the source now says the same: it holds the source's value again.
        plan.restore_segments.setdefault(kind, []).append(segment.id)
        plan.log.append((f"{label} (provenance)", "edited here", f"source: {segment.described()}"))
    if plan.action == "unchanged":
        plan.action = "updated"
    if kind in ("identifiers", "emails") and (dropped or cleaned or pairs):
        plan.reindex = True


def _add_new(plan, kind, items):
    """Plan the file's ITEMS of KIND as added to a user who has none stored."""
    cleaned = _clean_segments(plan, kind, items, items)
    if plan.errors or not items:
        return
    if plan.user is None:
        # A created user: its one history entry says so (_new_user).
        plan.add_segments[kind] = cleaned
        return
    _add_and_drop(plan, kind, [], cleaned, False)
    if plan.action == "unchanged":
        plan.action = "updated"
    if kind in ("identifiers", "emails") and cleaned:
        plan.reindex = True


def _replace(plan, kind, pairs):
    """Plan each stored segment of PAIRS changed in place to the file's values."""
    label, compared, defaults = SEGMENT_LABELS[kind], SEGMENT_COMPARED[kind], FIELD_DEFAULTS[kind]
    for segment, values in pairs:
        full = {f: values.get(f, defaults[f]) for f in compared}
        plan.replace_segments.setdefault(kind, []).append((segment.id, full))
        before = segment.described()
        after = described(kind, dict(full, preferred=segment.preferred, segment="external"))
        plan.log.append((label, before, after))
        if segment.edited_locally:
            plan.overwritten.append((label, before, after))


def _add_and_drop(plan, kind, dropped, cleaned, has_preferred):
    """Plan the segments the file adds (CLEANED) and the stored ones it drops."""
    label = SEGMENT_LABELS[kind]
    after = []
    for values in cleaned:
        if values.get("preferred") and has_preferred:
            # The library's preferred entry stays preferred.
            values["preferred"] = False
        plan.add_segments.setdefault(kind, []).append(values)
        after.append(described(kind, dict(values, segment="external")))
    if dropped:
        plan.drop_segments[kind] = [s.id for s in dropped]
    for n in range(max(len(dropped), len(after))):
        before = dropped[n].described() if n < len(dropped) else None
        new = after[n] if n < len(after) else None
        plan.log.append((label, before, new))
        if n < len(dropped) and dropped[n].edited_locally:
            plan.overwritten.append((label, before, new))


def _check_preferred(plan, kind, items):
    """Refuse a file that marks more than one entry of KIND preferred."""
    if len(items) > 1 and sum(1 for item in items if item.values.get("preferred") == "yes") > 1:
        plan.errors.append(f"{kind}: Only one entry can be preferred.")


def _clean_segments(plan, kind, items, added):
    """Return the cleaned values of the ADDED segments; add any errors to PLAN."""
    _check_preferred(plan, kind, items)
    cleaned = []
    for item in added:
        values = item.values
        if kind == "identifiers":
            # Its uniqueness is checked for the whole chunk at once (check_claims).
            values = {"id_type": "", **values}
            value = values.pop("value", "")
            _check_identifier(value, item.where["value"], plan.errors, model=Identifier,
                              field="value", label=SEGMENT_FIELDS[kind]["value"])
        # An identifier's value is checked above: it is not required of the rest.
        result, problems = segment_problems(kind, values, adding=kind != "identifiers")
        if problems:
            plan.errors.extend(f"{item.where.get(field, field)}: {message}"
                               for field, message in problems.items())
            continue
        if kind == "identifiers":
            result["value"] = value
            plan.claims.append((value, item.where["value"]))
        cleaned.append(result)
    return cleaned


def check_claims(plans):
    """Refuse identifiers that another user holds: two queries for the whole chunk."""
    wanted = {value for p in plans for value, _ in p.claims}
    if not wanted:
        return
    by_primary = dict(queries.select_in(User, ("primary_id", "id"), "primary_id", wanted))
    by_identifier = dict(queries.select_in(Identifier, ("value", "user"), "value", wanted))
    for plan in plans:
        uid = plan.user_id
        for value, where in plan.claims:
            if by_primary.get(value, uid) != uid or by_identifier.get(value, uid) != uid:
                plan.errors.append(f"{where}: {value}: another user already has this identifier.")
