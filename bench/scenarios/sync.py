"""Synchronization of every patron: all changed, all unchanged, all new, beside raw sqlite3.

Works on a copy of the bench database in which every patron is an external account of
the source "SIS" (external ID S<n>), so a file has one row per patron. Each figure is the
whole command-line run (read, check, compare, write in one transaction); the reference is
sqlite3's executemany of the same rows in the same run, with no checks and no history.

In order: the first synchronization of the bulk-loaded records (a file equal to them: a
full comparison, and each user's fingerprint is stored); every row changed (a new expiry
date and phone number); the same file again (unchanged: the budgeted case); all new users.
"""

import csv
import datetime
import io
import sqlite3
import time
from pathlib import Path

from bench.harness import log

# Seconds (SPEC section 6): 100,000 rows changed <= 15 s, unchanged <= 5 s.
BUDGET_CHANGED_S = 15
BUDGET_UNCHANGED_S = 5

COLUMNS = ("external_id", "primary_id", "first_name", "middle_name", "last_name", "user_group",
           "status", "birth_date", "expiry_date", "campus", "barcode", "university_id", "email",
           "email_type", "phone", "phone_type", "address_line1", "address_city", "address_region",
           "address_postal_code", "address_country", "address_type")


def make_all_external(path):
    """Turn every patron of the copy at PATH into an external account of SIS (not timed)."""
    con = sqlite3.connect(path)
    internal = "SELECT id FROM user WHERE record_type = 'public' AND source IS NULL"
    with con:
        con.execute(f"UPDATE identifier SET segment = 'external' WHERE user_id IN ({internal})")
        # One bulk-loaded entry of each kind: those staff added during the page scenarios
        # come later and stay internal.
        for table in ("email", "phone", "address"):
            con.execute(f"UPDATE {table} SET segment = 'external' WHERE id IN "
                        f"(SELECT min(id) FROM {table} WHERE user_id IN ({internal}) "
                        "GROUP BY user_id)")
        con.execute("UPDATE user SET account_type = 'external', source = 'SIS', "
                    "external_id = 'S' || substr(primary_id, 2), password_hash = NULL "
                    "WHERE record_type = 'public' AND source IS NULL")
    con.close()


def export_rows(path):
    """Return the patrons of the copy at PATH as file rows, exactly as stored.

    Only the source's entries: the page scenarios before this one add internal emails
    and phones (Update User), which a source system's file does not hold.
    """
    con = sqlite3.connect(path)
    query = """
        SELECT u.external_id, u.primary_id, u.first_name, u.middle_name, u.last_name,
               u.user_group, u.status, coalesce(u.birth_date, ''), coalesce(u.expiry_date, ''),
               u.campus,
               (SELECT value FROM identifier WHERE user_id = u.id AND id_type = 'barcode'),
               (SELECT value FROM identifier WHERE user_id = u.id AND id_type = 'university_id'),
               e.address, e.email_type, p.number, p.phone_type, a.line1, a.city, a.region,
               a.postal_code, a.country, a.address_type
        FROM user u
        JOIN email e ON e.user_id = u.id AND e.segment = 'external'
        JOIN phone p ON p.user_id = u.id AND p.segment = 'external'
        JOIN address a ON a.user_id = u.id AND a.segment = 'external'
        WHERE u.source = 'SIS'
        ORDER BY u.id"""
    rows = [list(r) for r in con.execute(query)]
    con.close()
    return rows


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


def raw_reference(path, rows, insert):
    """Time sqlite3 executemany of ROWS (insert new users with segments, or update users)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=wal")
    con.execute("PRAGMA synchronous=normal")
    started = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    if insert:
        con.executemany(
            "INSERT INTO user (primary_id, first_name, middle_name, last_name, pref_first_name, "
            "pref_middle_name, pref_last_name, title, birth_date, user_group, record_type, "
            "account_type, source, external_id, status, expiry_date, campus, job_category, "
            "preferred_language, notices_opt_in, version, created_at, created_by, "
            "modified_at, modified_by) VALUES (?, ?, ?, ?, '', '', '', '', nullif(?, ''), ?, "
            "'public', 'external', 'SIS', ?, ?, nullif(?, ''), ?, '', '', 1, 1, "
            "datetime('now'), 'bench', datetime('now'), 'bench')",
            [(r[1], r[2], r[3], r[4], r[7], r[5], r[0], r[6], r[8], r[9]) for r in rows])
        ids = dict(con.execute("SELECT external_id, id FROM user WHERE source = 'SIS'"))
        con.executemany(
            "INSERT INTO identifier (segment, edited_locally, user_id, id_type, value, note) "
            "VALUES ('external', 0, ?, ?, ?, '')",
            [(ids[r[0]], t, r[i]) for r in rows for t, i in (("barcode", 10), ("university_id", 11))])
        con.executemany("INSERT INTO email (segment, edited_locally, user_id, address, email_type, "
                        "preferred) VALUES ('external', 0, ?, ?, ?, 1)",
                        [(ids[r[0]], r[12], r[13]) for r in rows])
        con.executemany("INSERT INTO phone (segment, edited_locally, user_id, number, phone_type, "
                        "preferred) VALUES ('external', 0, ?, ?, ?, 1)",
                        [(ids[r[0]], r[14], r[15]) for r in rows])
        con.executemany(
            "INSERT INTO address (segment, edited_locally, user_id, line1, line2, city, region, "
            "postal_code, country, address_type, preferred) VALUES ('external', 0, ?, ?, '', ?, ?, ?, "
            "?, ?, 1)", [(ids[r[0]], *r[16:22]) for r in rows])
    else:
        con.executemany(
            "UPDATE user SET primary_id = ?, first_name = ?, middle_name = ?, last_name = ?, "
            "user_group = ?, status = ?, birth_date = nullif(?, ''), expiry_date = nullif(?, ''), "
            "campus = ?, version = version + 1 WHERE source = 'SIS' AND external_id = ?",
            [(*r[1:10], r[0]) for r in rows])
    elapsed = time.perf_counter() - started
    con.execute("ROLLBACK")
    con.close()
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

    copy = str(Path(ctx.database).with_name("sync-bench.sqlite"))
    source = sqlite3.connect(ctx.database)
    target = sqlite3.connect(copy)
    source.backup(target)
    target.close()
    source.close()
    make_all_external(copy)
    create_app({"DATABASE_URL": f"sqlite:///{copy}"}, instance_path=ctx.instance)
    try:
        rows = export_rows(copy)
        changed = changed_rows(rows)
        cases = (
            ("first sync, equal to the records", rows, False, None, "unchanged"),
            ("changed", changed, False, BUDGET_CHANGED_S, "updated"),
            ("unchanged", changed, False, BUDGET_UNCHANGED_S, "unchanged"),
            ("all new", new_rows(rows), True, None, "created"),
        )
        results = {}
        for label, case_rows, insert, budget, counted in cases:
            data = to_csv(case_rows)
            raw = raw_reference(copy, case_rows, insert)
            seconds, run = timed_sync(data, f"{label}.csv")
            log(f"  sync {label}: {len(case_rows):,} rows in {seconds:.2f} s "
                f"(raw executemany {raw:.2f} s), status {run.status}")
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
        create_app(instance_path=ctx.instance)
        for suffix in ("", "-wal", "-shm"):
            Path(copy + suffix).unlink(missing_ok=True)
    return results
