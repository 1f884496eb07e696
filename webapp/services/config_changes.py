"""The configuration history: every change to a library, a setting, an item or a loan policy."""

from peewee import chunked

from webapp.models import CONFIG_KINDS, ConfigChange
from webapp.services import clock
from webapp.services.fields import history_text

KINDS = {kind: kind.capitalize() for kind in CONFIG_KINDS}  # kind: label
PAGE_SIZE = 50
CHUNK = 100  # rows per INSERT: 7 values each stays under SQLite's 999 variables


def record(actor, kind, key, changes):
    """Write one row per (field, old, new) of CHANGES whose value changed; return how many.

    Call it inside the transaction of the change itself: a refused change records nothing.
    """
    return record_many(actor, kind, [(key, changes)])


def record_many(actor, kind, entries):
    """Record each (key, changes) of ENTRIES as record() does, in a few statements; return the rows."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of configuration change {kind!r}")
    when = clock.now()
    rows = []
    for key, changes in entries:
        for field, old, new in changes:
            old, new = history_text(old), history_text(new)
            if old != new:
                rows.append({"at": when, "actor": actor.name, "kind": kind, "key": str(key),
                             "field": field, "old": old, "new": new})
    for chunk in chunked(rows, CHUNK):
        ConfigChange.insert_many(chunk).execute()
    return len(rows)


def recent(kind=None, limit=PAGE_SIZE, page=1):
    """Return (changes newest first, whether there are more) of page PAGE, of KIND or of all kinds."""
    query = ConfigChange.select().order_by(ConfigChange.at.desc(), ConfigChange.id.desc())
    if kind:
        query = query.where(ConfigChange.kind == kind)
    page = max(1, page)
    rows = list(query.limit(limit + 1).offset((page - 1) * limit))
    return rows[:limit], len(rows) > limit
