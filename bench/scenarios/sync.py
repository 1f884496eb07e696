"""Synchronization of every patron: all changed, all unchanged, all new, beside raw writes.

Works on a copy of the bench database in which every patron is an external account of
the source "SIS" (external ID S<n>), so a file has one row per patron. Each figure is the
whole command-line run (read, check, compare, write in one transaction); the reference is
the driver's plain bulk writes of the same rows in the same run (sqlite3's executemany,
psycopg2's execute_values and execute_batch), with no checks and no history.

In order: the first synchronization of the bulk-loaded records (a file equal to them: a
full comparison, and each user's fingerprint is stored); every row changed (a new expiry
date and phone number); the same file again (unchanged: the budgeted case); all new users.
"""

import csv
import datetime
import io
import time

from bench.harness import log

# Seconds (SPEC section 6): 100,000 rows changed <= 15 s, unchanged <= 5 s, new users <= 15 s.
BUDGET_CHANGED_S = 15
BUDGET_UNCHANGED_S = 5
BUDGET_NEW_S = 15
# The reference each figure is set beside: the driver's fastest plain bulk writes.
# (database kind, insert) -> its name; updates go through execute_batch on PostgreSQL.
RAW = {("sqlite", True): "sqlite3 executemany", ("sqlite", False): "sqlite3 executemany",
       ("postgresql", True): "psycopg2 execute_values", ("postgresql", False): "psycopg2 execute_batch"}

COLUMNS = ("external_id", "primary_id", "first_name", "middle_name", "last_name", "user_group",
           "status", "birth_date", "expiry_date", "campus", "barcode", "university_id", "email",
           "email_type", "phone", "phone_type", "address_line1", "address_city", "address_region",
           "address_postal_code", "address_country", "address_type")


def make_all_external(database):
    """Turn every patron of the copy DATABASE into an external account of SIS (not timed)."""
    internal = "SELECT id FROM \"user\" WHERE record_type = 'public' AND source IS NULL"
    with database.connect() as con:
        con.execute(f"UPDATE identifier SET segment = 'external' WHERE user_id IN ({internal})")
        # One bulk-loaded entry of each kind: those staff added during the page scenarios
        # come later and stay internal.
        for table in ("email", "phone", "address"):
            con.execute(f"UPDATE {table} SET segment = 'external' WHERE id IN "
                        f"(SELECT min(id) FROM {table} WHERE user_id IN ({internal}) "
                        "GROUP BY user_id)")
        con.execute("UPDATE \"user\" SET account_type = 'external', source = 'SIS', "
                    "external_id = 'S' || substr(primary_id, 2), password_hash = NULL "
                    "WHERE record_type = 'public' AND source IS NULL")


def export_rows(database):
    """Return the patrons of the copy DATABASE as file rows, exactly as stored.

    Only the source's entries: the page scenarios before this one add internal emails
    and phones (Update User), which a source system's file does not hold.
    """
    query = """
        SELECT u.external_id, u.primary_id, u.first_name, u.middle_name, u.last_name,
               u.user_group, u.status, coalesce(cast(u.birth_date AS text), ''),
               coalesce(cast(u.expiry_date AS text), ''),
               u.campus,
               (SELECT value FROM identifier WHERE user_id = u.id AND id_type = 'barcode'),
               (SELECT value FROM identifier WHERE user_id = u.id AND id_type = 'university_id'),
               e.address, e.email_type, p.number, p.phone_type, a.line1, a.city, a.region,
               a.postal_code, a.country, a.address_type
        FROM "user" u
        JOIN email e ON e.user_id = u.id AND e.segment = 'external'
        JOIN phone p ON p.user_id = u.id AND p.segment = 'external'
        JOIN address a ON a.user_id = u.id AND a.segment = 'external'
        WHERE u.source = 'SIS'
        ORDER BY u.id"""
    with database.connect() as con:
        return [list(r) for r in con.execute(query).fetchall()]


def to_csv(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def changed_rows(rows):
    """Return ROWS with a new expiry date and a new phone number (a semester's renewal)."""
    expiry, phone = COLUMNS.index("expiry_date"), COLUMNS.index("phone")
    changed = []
    for row in rows:
        row = list(row)
        old = datetime.date.fromisoformat(row[expiry]) if row[expiry] else datetime.date(2029, 6, 30)
        row[expiry] = (old + datetime.timedelta(days=182)).isoformat()
        row[phone] = row[phone] + "0"
        changed.append(row)
    return changed


def new_rows(rows):
    """Return ROWS as users the database does not have yet (new IDs, identifiers, emails)."""
    fresh = []
    for row in rows:
        row = list(row)
        n = row[0][1:]
        row[0], row[1] = f"N{n}", f"Q{n}"
        row[COLUMNS.index("barcode")] = f"NB{n}"
        row[COLUMNS.index("university_id")] = f"NU{n}"
        row[COLUMNS.index("email")] = f"n{n}@example.edu"
        fresh.append(row)
    return fresh


# The constants are written into the statements, as the checks and defaults of the app
# would not be: only the values of each row are bound (TRUE and FALSE work on both).
USER_INSERT = (
    'INSERT INTO "user" (primary_id, first_name, middle_name, last_name, pref_first_name, '
    "pref_middle_name, pref_last_name, title, birth_date, user_group, record_type, account_type, "
    "source, external_id, status, expiry_date, campus, job_category, preferred_language, "
    "notices_opt_in, version, created_at, created_by, modified_at, modified_by)",
    "?, ?, ?, ?, '', '', '', '', ?, ?, 'public', 'external', 'SIS', ?, ?, ?, ?, '', '', TRUE, 1, "
    "CURRENT_TIMESTAMP, 'bench', CURRENT_TIMESTAMP, 'bench'")
SEGMENT_INSERTS = (
    ("INSERT INTO identifier (segment, edited_locally, user_id, id_type, value, note)",
     "'external', FALSE, ?, ?, ?, ''"),
    ("INSERT INTO email (segment, edited_locally, user_id, address, email_type, preferred)",
     "'external', FALSE, ?, ?, ?, TRUE"),
    ("INSERT INTO phone (segment, edited_locally, user_id, number, phone_type, preferred)",
     "'external', FALSE, ?, ?, ?, TRUE"),
    ("INSERT INTO address (segment, edited_locally, user_id, line1, line2, city, region, "
     "postal_code, country, address_type, preferred)", "'external', FALSE, ?, ?, '', ?, ?, ?, ?, ?, TRUE"),
)
USER_UPDATE = (
    'UPDATE "user" SET primary_id = ?, first_name = ?, middle_name = ?, last_name = ?, '
    "user_group = ?, status = ?, birth_date = ?, expiry_date = ?, campus = ?, "
    "version = version + 1 WHERE source = 'SIS' AND external_id = ?")


def _date(text):
    return text or None


def _bulk(conn, statement, rows):
    """Insert ROWS with STATEMENT ((head, one row's values)): executemany, or execute_values."""
    head, values = statement
    if conn.postgres:
        from psycopg2.extras import execute_values

        template = "(" + values.replace("?", "%s") + ")"
        execute_values(conn.raw.cursor(), head + " VALUES %s", rows, template=template,
                       page_size=1000)
    else:
        conn.executemany(f"{head} VALUES ({values})", rows)


def _insert_users(conn, rows):
    """Insert ROWS as new users with their segments, as plain rows (no checks, no history)."""
    _bulk(conn, USER_INSERT, [(r[1], r[2], r[3], r[4], _date(r[7]), r[5], r[0], r[6],
                               _date(r[8]), r[9]) for r in rows])
    ids = dict(conn.execute("SELECT external_id, id FROM \"user\" WHERE source = 'SIS'").fetchall())
    identifiers, email, phone, address = SEGMENT_INSERTS
    _bulk(conn, identifiers, [(ids[r[0]], kind, r[at]) for r in rows
                              for kind, at in (("barcode", 10), ("university_id", 11))])
    _bulk(conn, email, [(ids[r[0]], r[12], r[13]) for r in rows])
    _bulk(conn, phone, [(ids[r[0]], r[14], r[15]) for r in rows])
    _bulk(conn, address, [(ids[r[0]], r[16], *r[17:22]) for r in rows])


def _update_users(conn, rows):
    """Update the users of ROWS in place: executemany, or psycopg2's execute_batch."""
    params = [(*r[1:7], _date(r[7]), _date(r[8]), r[9], r[0]) for r in rows]
    if conn.postgres:
        from psycopg2.extras import execute_batch

        execute_batch(conn.raw.cursor(), USER_UPDATE.replace("?", "%s"), params, page_size=1000)
    else:
        conn.executemany(USER_UPDATE, params)


def raw_reference(database, rows, insert):
    """Time the driver's bulk writes of ROWS (new users with segments, or updates), rolled back."""
    conn = database.connect()
    if not conn.postgres:
        conn.raw.isolation_level = None
        conn.execute("PRAGMA journal_mode=wal")
        conn.execute("PRAGMA synchronous=normal")
    started = time.perf_counter()
    if not conn.postgres:
        conn.execute("BEGIN IMMEDIATE")
    (_insert_users if insert else _update_users)(conn, rows)
    elapsed = time.perf_counter() - started
    conn.raw.rollback() if conn.postgres else conn.execute("ROLLBACK")
    conn.raw.close()
    return elapsed


def timed_sync(data, filename):
    """Run the synchronization as the command line does; return (seconds, run)."""
    from webapp.db import db
    from webapp.services import sync
    from webapp.services.permissions import SYSTEM

    started = time.perf_counter()
    with db.connection_context():
        run = sync.synchronize(data, filename=filename, source="SIS", actor=SYSTEM)
    return time.perf_counter() - started, run


def offline(ctx):
    from webapp import create_app
    from webapp.db import db

    copy = ctx.db.copy("sync_bench")
    make_all_external(copy)
    create_app({"DATABASE_URL": copy.url}, instance_path=ctx.instance)
    try:
        rows = export_rows(copy)
        changed = changed_rows(rows)
        cases = (
            ("first sync, equal to the records", rows, False, None, "unchanged"),
            ("changed", changed, False, BUDGET_CHANGED_S, "updated"),
            ("unchanged", changed, False, BUDGET_UNCHANGED_S, "unchanged"),
            ("all new", new_rows(rows), True, BUDGET_NEW_S, "created"),
        )
        results = {}
        for label, case_rows, insert, budget, counted in cases:
            data = to_csv(case_rows)
            raw = raw_reference(copy, case_rows, insert)
            seconds, run = timed_sync(data, f"{label}.csv")
            log(f"  sync {label}: {len(case_rows):,} rows in {seconds:.2f} s "
                f"(raw {RAW[copy.kind, insert]} {raw:.2f} s), status {run.status}")
            results[f"sync {len(case_rows):,} rows {label}"] = {
                "seconds": round(seconds, 2),
                "budget_s": budget,
                "raw_executemany_s": round(raw, 2),
                "x_raw": round(seconds / raw, 1) if raw else None,
                counted: getattr(run, counted),
                "status": run.status,
            }
    finally:
        # Other scenarios work on the bench database itself.
        getattr(db.obj, "close_all", db.close)()
        create_app({"DATABASE_URL": ctx.db.url}, instance_path=ctx.instance)
        copy.drop()
    return results
