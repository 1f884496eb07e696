"""The hand-written SQL of synchronization, each piece kept for the time it saves.

Figures from `python -m bench --patrons 20000 --only sync`: the query builder spends
longer building a thousand-value IN list, or a statement per row, than the database
spends running it, so these few statements are written out once and run with the
driver's executemany. Every other read and write of sync goes through peewee.
"""

import peewee

from webapp.db import db
from webapp.db import sql as sql_helpers
from webapp.models import SyncState, User

# Values per IN list: well under SQLite's limit of bound parameters.
IN_LIST = 1000


def quoted(name):
    """Return NAME quoted as the database quotes identifiers."""
    return f"{db.quote[0]}{name}{db.quote[1]}"


def column(model, name):
    """Return the quoted column of MODEL's field NAME."""
    return quoted(model._meta.fields[name].column_name)


def in_chunks(values, size=IN_LIST):
    """Yield VALUES as lists of at most SIZE."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def marks(count):
    """Return COUNT parameter markers, comma-separated."""
    return ", ".join([db.param] * count)


def select_in(model, names, field, values, equal=None):
    """Return rows (tuples of stored values) of MODEL whose FIELD is one of VALUES.

    EQUAL is an optional (field, value) condition as well. Written out, a thousand
    values at a time: the comparison of a chunk reads its users, provenance and
    segments this way, and the query builder would spend longer on each IN list than
    the database spends on the query.
    """
    columns = ", ".join(column(model, n) for n in names)
    where, prefix = "", ()
    if equal:
        where, prefix = f"{column(model, equal[0])} = {db.param} AND ", (equal[1],)
    found = []
    for part in in_chunks(values):
        sql = (f"SELECT {columns} FROM {quoted(model._meta.table_name)} WHERE {where}"
               f"{column(model, field)} IN ({marks(len(part))})")
        found.extend(db.execute_sql(sql, prefix + tuple(part)).fetchall())
    return found


def user_records(source, names, external_ids):
    """Return {external ID: record} of SOURCE's users with these EXTERNAL_IDS.

    A record holds the columns NAMES, then the fingerprint and version of the user's
    SyncState (None when the user was never synchronized). One joined query gives both,
    which is what lets an unchanged row cost a comparison (the "unchanged" figure).
    """
    at = names.index("external_id")
    state = SyncState._meta
    user_columns = ", ".join(f"u.{column(User, c)}" for c in names)
    head = (f"SELECT {user_columns}, s.{column(SyncState, 'fingerprint')}, "
            f"s.{column(SyncState, 'version')} FROM {quoted(User._meta.table_name)} u "
            f"LEFT JOIN {quoted(state.table_name)} s ON s.{quoted(state.fields['user'].column_name)} "
            f"= u.{column(User, 'id')} WHERE u.{column(User, 'source')} = {db.param} "
            f"AND u.{column(User, 'external_id')} IN (")
    found = {}
    for part in in_chunks(external_ids):
        for record in db.execute_sql(head + marks(len(part)) + ")", (source, *part)):
            found[record[at]] = record
    return found


def update_sql(model, columns):
    """Return 'UPDATE table SET col = ?, … WHERE id = ?' for executemany.

    One prepared statement for a chunk of rows: a peewee update per row, or bulk_update's
    CASE per column, multiplies the "changed" figure.
    """
    sets = ", ".join(f"{column(model, c)} = {db.param}" for c in columns)
    return f"UPDATE {quoted(model._meta.table_name)} SET {sets} WHERE {column(model, 'id')} = {db.param}"


def remember_sql():
    """Return the upsert of a row's fingerprint and the user's version, for executemany.

    One per applied row: insert_many with on_conflict would build the whole list of
    values as one statement for each chunk, slower for the "first" and "changed" figures.
    """
    state = SyncState._meta
    user, fingerprint, version = (quoted(state.fields[n].column_name)
                                  for n in ("user", "fingerprint", "version"))
    return (f"INSERT INTO {quoted(state.table_name)} ({user}, {fingerprint}, {version}) "
            f"VALUES ({marks(3)}) ON CONFLICT ({user}) DO UPDATE SET "
            f"{fingerprint} = excluded.{fingerprint}, {version} = excluded.{version}")


def executemany(sql, params):
    """Run SQL once per parameter tuple with one prepared statement.

    The driver's errors are raised as peewee's errors of the same name, as peewee's own
    execute_sql raises them.
    """
    if not params:
        return
    try:
        sql_helpers.executemany(sql, params)
    except Exception as exc:
        wrapped = getattr(peewee, type(exc).__name__, None)
        if isinstance(wrapped, type) and issubclass(wrapped, peewee.PeeweeException) \
                and not isinstance(exc, peewee.PeeweeException):
            raise wrapped(*exc.args) from exc
        raise
