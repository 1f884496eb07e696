"""What the database holds for a chunk of users, read in bulk, and the "already as sent" check."""

import operator
import types

from webapp.models import SEGMENT_MODELS, FieldState, User
from webapp.services.fields import SEGMENT_BOOLEANS, SEGMENT_DATES, SEGMENT_FIELDS
from webapp.services.sync import queries
from webapp.services.sync.rows import FILE_FIELDS, SEGMENT_COMPARED, described, stored_text

USER_COLUMNS = ("id", "version", "account_type", "external_id") + FILE_FIELDS
# A stored segment record: id, user, segment, edited_locally, preferred (or the id again), fields.
SEGMENT_COLUMNS = {kind: ("id", "user", "segment", "edited_locally",
                          "preferred" if "preferred" in fields else "id") + tuple(fields)
                   for kind, fields in SEGMENT_FIELDS.items()}
# Where a user record's SyncState fingerprint sits; its version follows.
FINGERPRINT_AT = len(USER_COLUMNS)


class StoredSegment:
    """A stored segment: its record (see SEGMENT_COLUMNS) and what it says (its key)."""

    __slots__ = ("kind", "record", "key")

    def __init__(self, kind, record, key):
        """Hold a stored RECORD of KIND and its KEY."""
        self.kind = kind
        self.record = record
        self.key = key

    @property
    def id(self):
        """Return the segment's id."""
        return self.record[0]

    @property
    def segment(self):
        """Return "external" or "internal"."""
        return self.record[2]

    @property
    def edited_locally(self):
        """Tell whether the library edited this external segment."""
        return bool(self.record[3])

    @property
    def preferred(self):
        """Tell whether this is the user's preferred entry of its kind."""
        return bool(self.record[4]) and "preferred" in SEGMENT_FIELDS[self.kind]

    def described(self):
        """Return the segment as the history describes it."""
        return described(self.kind, dict(zip(SEGMENT_COLUMNS[self.kind], self.record, strict=True)))


def user_records(source, external_ids):
    """Return {external ID: record} of SOURCE's users: USER_COLUMNS, then SyncState's fingerprint, version."""
    return queries.user_records(source, USER_COLUMNS, external_ids) if external_ids else {}


def as_user(record):
    """Return a user record as a dict of its USER_COLUMNS."""
    return dict(zip(USER_COLUMNS, record, strict=False)) if record is not None else None


def external_ids(source):
    """Return the external IDs of SOURCE's external accounts."""
    query = (User.select(User.external_id)
             .where((User.source == source) & (User.account_type == "external")).tuples())
    return [ext for (ext,) in query]


def field_states(user_ids):
    """Return {user id: {field: FieldState values}} for USER_IDS."""
    found = {}
    names = ("id", "user", "field", "state", "source_value")
    for fs_id, uid, field, state, source_value in queries.select_in(FieldState, names, "user", user_ids):
        found.setdefault(uid, {})[field] = types.SimpleNamespace(
            id=fs_id, state=state, source_value=source_value)
    return found


def _key_maker(kind):
    """Return a function that turns a stored record of KIND into the segment's key."""
    names = SEGMENT_COLUMNS[kind]
    positions = [(names.index(f), f in SEGMENT_BOOLEANS, f in SEGMENT_DATES)
                 for f in SEGMENT_COMPARED[kind]]
    if not any(b or d for _, b, d in positions):
        # Text columns that are never NULL: the values themselves are the key.
        return operator.itemgetter(*[p for p, _, _ in positions])
    return lambda record: tuple([stored_text(record[p], b) for p, b, _ in positions])


KEY_MAKERS = {kind: _key_maker(kind) for kind in SEGMENT_FIELDS}


def stored_segments(kind, user_ids):
    """Return {user id: [record]} of KIND for USER_IDS, internal segments included."""
    found = {}
    if not user_ids:
        return found
    for record in queries.select_in(SEGMENT_MODELS[kind], SEGMENT_COLUMNS[kind], "user", user_ids):
        bucket = found.get(record[1])
        if bucket is None:
            found[record[1]] = [record]
        else:
            bucket.append(record)
    return found


def as_sent(kind, items, records):
    """Tell whether RECORDS are exactly the file's ITEMS, all external and none edited here.

    The common case, checked first and cheaply: nothing of this kind changes.
    """
    if len(items) != len(records):
        return False
    make_key = KEY_MAKERS[kind]
    if len(items) == 1:
        record = records[0]
        return record[2] == "external" and not record[3] and items[0].key == make_key(record)
    for record in records:
        if record[2] != "external" or record[3]:
            return False
    if sorted([i.key for i in items]) != sorted([make_key(r) for r in records]):
        return False
    return sum(1 for i in items if i.values.get("preferred") == "yes") < 2
