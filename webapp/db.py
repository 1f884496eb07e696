"""The peewee database, its base model, per-request connections and the migration runner."""

import os
from pathlib import Path

from peewee import DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect
from playhouse.migrations import Runner
from playhouse.pool import PooledSqliteDatabase

db = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# busy_timeout in milliseconds: concurrent writers wait instead of failing.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -64000,
}


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
        # UPDATE only the columns that changed: smaller statements, and a concurrent
        # writer's change to another column is never written back over.
        only_save_dirty = True


# SQL of the reads every page runs, keyed by name and database kind: peewee would
# otherwise build the same statement on every call, which costs more than running it.
_PREPARED = {}


def prepared(name, model, build, *params):
    """Run the query BUILD returns, its SQL built once; PARAMS in its parameters' order."""
    key = (name, type(db.obj))
    sql = _PREPARED.get(key)
    if sql is None:
        sql = _PREPARED[key] = build().sql()[0]
    return model.raw(sql, *params)


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


def is_sqlite():
    """Tell whether the bound database is SQLite."""
    return isinstance(db.obj, SqliteDatabase)


def migrate():
    """Apply pending migrations; return their names."""
    with db.connection_context():
        return Runner(db.obj, str(MIGRATIONS_DIR)).up()


def pending_migrations():
    """Return the names of migrations not yet applied."""
    with db.connection_context():
        return [m.name for m in Runner(db.obj, str(MIGRATIONS_DIR)).status() if not m.applied]
