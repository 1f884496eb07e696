"""The few hand-written SQL helpers shared across services, each with the figure it buys."""

from itertools import chain

from webapp.db.base import db, is_sqlite

# SQL of the reads every page runs, keyed by name and database kind: peewee would
# otherwise build the same statement on every call, which costs more than running it
# (bench: "user details page", "Patron Services page").
_PREPARED = {}


def prepared(name, model, build, *params):
    """Run the query BUILD returns, its SQL built once; PARAMS in its parameters' order."""
    key = (name, type(db.obj))
    sql = _PREPARED.get(key)
    if sql is None:
        sql = _PREPARED[key] = build().sql()[0]
    return model.raw(sql, *params)


def marks(count):
    """Return COUNT parameter markers, comma-separated, in the bound database's spelling."""
    return ", ".join([db.param] * count)


# Bulk reads and writes as plain rows: peewee's insert_many builds a 3,000-value statement
# far slower than SQLite runs it, and a model select turns every row into objects
# (bench "generated in", 20,000 patrons: 84 s with insert_many, 6 s with these).


def select_in(table, columns, column, values):
    """Return the COLUMNS tuples of TABLE's rows whose COLUMN is one of VALUES."""
    return db.execute_sql(f"SELECT {', '.join(columns)} FROM {table} "
                          f"WHERE {column} IN ({marks(len(values))})", list(values)).fetchall()


# Rows a statement (or a round trip) carries: far below every database's parameter limit.
PER_STATEMENT = 500


def insert_rows(table, columns, rows, per_statement=PER_STATEMENT, *, scattered=False, returning=None):
    """Insert ROWS (tuples in COLUMNS' order) into TABLE, PER_STATEMENT rows a statement.

    SCATTERED rows land all over a wide key (the search index): SQLite then takes them one
    by one with executemany, 20 % faster for 660,000 index rows, where rows appended to a
    table (the history, users, segments) go 25 to 40 % faster as statements of many rows.
    RETURNING names columns of the inserted rows to return, in no particular order
    (not with SCATTERED).
    """
    per_row = f"({marks(len(columns))})"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    if scattered and is_sqlite():
        db.cursor().executemany(head + per_row, rows)
        return None
    tail = f" RETURNING {', '.join(returning)}" if returning else ""
    found = []
    for start in range(0, len(rows), per_statement):
        part = rows[start : start + per_statement]
        cursor = db.execute_sql(head + ", ".join([per_row] * len(part)) + tail,
                                list(chain.from_iterable(part)))
        if returning:
            found.extend(cursor.fetchall())
    return found


def executemany(sql, rows):
    """Run SQL once per row of ROWS, with as few round trips as the driver allows.

    psycopg2's own executemany sends one statement per row: a first load of 2,000 users
    spent 24 of its 39 s on PostgreSQL in it; execute_batch sends a page of rows at once.
    """
    cursor = db.cursor()
    if is_sqlite():
        cursor.executemany(sql, rows)
    else:
        from psycopg2.extras import execute_batch

        execute_batch(cursor, sql, rows, page_size=PER_STATEMENT)


def delete_rows(table, key_columns, keys):
    """Delete the rows of TABLE whose KEY_COLUMNS hold one of KEYS (tuples)."""
    if keys:
        condition = " AND ".join(f"{c} = {db.param}" for c in key_columns)
        executemany(f"DELETE FROM {table} WHERE {condition}", keys)
