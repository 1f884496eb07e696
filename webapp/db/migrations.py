"""Run the numbered schema migrations in migrations/ with playhouse's runner."""

from pathlib import Path

from playhouse.migrations import Runner

from webapp.db.base import db

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def migrate():
    """Apply pending migrations; return their names."""
    with db.connection_context():
        return Runner(db.obj, str(MIGRATIONS_DIR)).up()


def pending_migrations():
    """Return the names of migrations not yet applied."""
    with db.connection_context():
        return [m.name for m in Runner(db.obj, str(MIGRATIONS_DIR)).status() if not m.applied]
