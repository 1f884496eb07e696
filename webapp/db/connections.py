"""Open the configured database and give every request a connection."""

import os

from peewee import OperationalError
from playhouse.db_url import connect
from playhouse.pool import PooledSqliteDatabase

from webapp.db.base import db, is_sqlite

# How long a write waits for SQLite's one write lock before it is refused (503 "busy"):
# longer than a first load of 100,000 users holds it under a full desk's load (43-46 s
# in `make soak`), so saves wait for it rather than fail; below the read timeout the
# README gives the reverse proxy (300 s), so a save that waited is never answered 504.
BUSY_TIMEOUT_SECONDS = 60
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": BUSY_TIMEOUT_SECONDS * 1000,  # milliseconds
    "synchronous": "normal",
    "cache_size": -64000,
}


def database_url(app):
    """Return the configured database URL, defaulting to SQLite in the instance folder."""
    url = app.config.get("DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + os.path.join(app.instance_path, "library.sqlite")


def open_database(url):
    """Return a peewee Database for URL with the project's connection settings."""
    if url.startswith("sqlite:"):
        # A pool: a request borrows an open connection instead of opening the file and
        # setting the pragmas again. IMMEDIATE: a read-then-write transaction takes the
        # write lock up front, so concurrent saves queue on busy_timeout instead of failing
        # with "database is locked".
        return PooledSqliteDatabase(
            url.removeprefix("sqlite:///"),
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            timeout=BUSY_TIMEOUT_SECONDS,
            max_connections=32,
            stale_timeout=600,
            check_same_thread=False,
        )
    return connect(url)


def write_if_free(write):
    """Run WRITE() in a transaction unless another writer holds SQLite's lock; tell whether it ran.

    For bookkeeping a read may skip (a session's last-seen time): on SQLite it does not
    wait out busy_timeout behind a long synchronization, so the page it belongs to never
    fails or stalls for it. PostgreSQL locks rows, not the database: it just runs.
    """
    if not is_sqlite():
        with db.atomic():
            write()
        return True
    connection = db.connection()
    connection.execute("PRAGMA busy_timeout = 0")
    try:
        with db.atomic():
            write()
        return True
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return False
    finally:
        connection.execute(f"PRAGMA busy_timeout = {SQLITE_PRAGMAS['busy_timeout']}")


def init_app(app):
    """Bind the database to the app and open a connection per request."""
    db.initialize(open_database(database_url(app)))

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()
