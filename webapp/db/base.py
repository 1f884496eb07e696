"""The database proxy every model is bound to, and the base model."""

from peewee import DatabaseProxy, Model, SqliteDatabase

db = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
        # UPDATE only the columns that changed: smaller statements, and a concurrent
        # writer's change to another column is never written back over.
        only_save_dirty = True


def is_sqlite():
    """Tell whether the bound database is SQLite."""
    return isinstance(db.obj, SqliteDatabase)
