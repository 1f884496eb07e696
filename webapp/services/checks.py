"""The health of the database: schema version, integrity, interrupted runs, table sizes."""

import dataclasses

from playhouse.migrations import Runner

from webapp.db import MIGRATIONS_DIR, db, is_sqlite
from webapp.services import jobs


@dataclasses.dataclass
class Health:
    """What `flask check` reports; PROBLEMS is empty when all is well."""

    schema: str
    pending: list
    integrity: str | None  # "ok", SQLite's complaint, or None where it does not apply
    interrupted_now: list
    interrupted: list
    orphaned_entries: int  # search entries of users who are gone, removed by the check
    tables: dict
    problems: list


def migration_status():
    """Return (latest applied migration or "", names of pending migrations)."""
    status = Runner(db.obj, str(MIGRATIONS_DIR)).status()
    applied = [m.name for m in status if m.applied]
    return (applied[-1] if applied else ""), [m.name for m in status if not m.applied]


def integrity():
    """Return SQLite's integrity_check verdict ("ok" when sound), or None on PostgreSQL."""
    if not is_sqlite():
        return None
    rows = db.execute_sql("PRAGMA integrity_check").fetchall()
    return "; ".join(str(row[0]) for row in rows)


def table_sizes():
    """Return {table: number of rows} for every table of the database."""
    sizes = {}
    for table in sorted(db.get_tables()):
        quoted = '"' + table.replace('"', '""') + '"'
        sizes[table] = db.execute_sql(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0]
    return sizes


def remove_orphaned_entries():
    """Delete the search entries whose user is gone; return how many there were.

    A trigger removes a deleted user's entries (migration 0013): any left come from a
    write that bypassed it. The entries are derived data, never shown without their user.
    """
    return db.execute_sql('DELETE FROM search_entry WHERE NOT EXISTS '
                          '(SELECT 1 FROM "user" u WHERE u.id = search_entry.user_id)').rowcount


def check():
    """Examine the database, mark runs whose process died as interrupted, and report."""
    schema, pending = migration_status()
    verdict = integrity()
    problems = []
    if pending:
        problems.append(f"{len(pending)} migration(s) pending: run flask --app webapp db upgrade")
    if verdict not in (None, "ok"):
        problems.append(f"the integrity check failed: {verdict}")
    # With migrations pending the runs' table may lack columns the model reads.
    interrupted_now = jobs.mark_interrupted_runs() if not pending else []
    if interrupted_now:
        problems.append(f"{len(interrupted_now)} run(s) had died while marked running; "
                        "now marked interrupted (nothing of them was applied)")
    interrupted = jobs.interrupted_runs() if not pending else []
    with db.atomic():
        orphaned = remove_orphaned_entries() if not pending else 0
    if orphaned:
        problems.append(f"{orphaned:,} search entries belonged to no user; now removed")
    return Health(schema=schema, pending=pending, integrity=verdict,
                  interrupted_now=interrupted_now, interrupted=interrupted,
                  orphaned_entries=orphaned, tables=table_sizes(), problems=problems)
