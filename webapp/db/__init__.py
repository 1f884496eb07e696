"""The peewee database, its base model, per-request connections and the migration runner."""

from webapp.db.base import BaseModel, db, is_sqlite
from webapp.db.connections import SQLITE_PRAGMAS, database_url, init_app, open_database, write_if_free
from webapp.db.migrations import MIGRATIONS_DIR, migrate, pending_migrations
from webapp.db.sql import marks, prepared

__all__ = [
    "MIGRATIONS_DIR",
    "SQLITE_PRAGMAS",
    "BaseModel",
    "database_url",
    "db",
    "init_app",
    "is_sqlite",
    "marks",
    "migrate",
    "open_database",
    "pending_migrations",
    "prepared",
    "write_if_free",
]
