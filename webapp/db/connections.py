"""Open the configured database and give every request a connection."""

import os

from playhouse.db_url import connect
from playhouse.pool import PooledSqliteDatabase

from webapp.db.base import db

# busy_timeout in milliseconds: concurrent writers wait instead of failing.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
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
            timeout=10,
            max_connections=32,
            stale_timeout=600,
            check_same_thread=False,
        )
    return connect(url)


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
