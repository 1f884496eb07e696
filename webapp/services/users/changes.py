"""The one write path that closes every change to a user, one user or a chunk of thousands.

Whoever changes a user (User Details, the desk, synchronization, staff, demo, account
type, password) writes the changed columns and then calls ``record_changes`` in the same
transaction: it bumps each changed user's version, stamps modified at/by, writes the
history rows and re-indexes the search entries of the users whose names, identifiers or
emails changed. So no writer can forget the version, the history or the index.
"""

from peewee import chunked

from webapp.db import db, marks
from webapp.db.sql import insert_rows
from webapp.models import History, User
from webapp.services import search
from webapp.services.fields import history_text

CHUNK = 500
HISTORY_COLUMNS = ("user_id", "at", "actor", "via", "field", "old", "new")


def record_changes(changes, *, actor, via, at, reindex=()):
    """Bump versions, stamp, write history and re-index for CHANGES; return the history rows written.

    CHANGES maps a user id to its [(field, old, new)] entries; a user with no entry is not
    touched. ACTOR is the name stamped as modified by, VIA the history's channel ("staff",
    "system", "sync <run>"), AT the change's time. REINDEX names the user ids whose search
    entries must be rebuilt. Call inside the change's transaction.
    """
    changed = [user_id for user_id, log in changes.items() if log]
    # Written out: peewee builds a 500-value IN list slower than the database runs it
    # (bench: "sync all new").
    user, p = f"{db.quote[0]}{User._meta.table_name}{db.quote[1]}", db.param
    stamp = User.modified_at.db_value(at)
    for ids in chunked(changed, CHUNK):
        db.execute_sql(f"UPDATE {user} SET version = version + 1, modified_at = {p}, "
                       f"modified_by = {p} WHERE id IN ({marks(len(ids))})", [stamp, actor, *ids])
    # Plain rows: insert_many's statement building costs more than the sync it records
    # (bench "sync changed", 20,000 rows: 21x raw executemany with it, 10x without).
    at_value = History.at.db_value(at)
    rows = [(user_id, at_value, actor, via, field, history_text(old), history_text(new))
            for user_id in changed for field, old, new in changes[user_id]]
    insert_rows(History._meta.table_name, HISTORY_COLUMNS, rows, per_statement=CHUNK)
    if reindex:
        search.index_users(list(reindex))
    return len(rows)


def record_change(user, log, *, actor, via, at, reindex=False):
    """Close a change to one loaded USER: record_changes for it, and the same stamps in memory."""
    if not log:
        return 0
    written = record_changes({user.id: log}, actor=actor, via=via, at=at,
                             reindex=[user.id] if reindex else ())
    user.version += 1
    user.modified_at = at
    user.modified_by = actor
    return written
