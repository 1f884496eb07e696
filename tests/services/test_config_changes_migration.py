"""Migration 0011: the config_change table, up and down again."""

from peewee import SqliteDatabase
from playhouse.migrations import Runner

from webapp.db import MIGRATIONS_DIR
from webapp.models import ConfigChange

MIGRATION = "0011_config_changes"


def test_config_change_table_up_and_down(tmp_path):
    database = SqliteDatabase(str(tmp_path / "migrated.sqlite"))
    runner = Runner(database, str(MIGRATIONS_DIR))
    before = [m.name for m in runner.status() if m.name < MIGRATION]
    runner.up(target=before[-1])
    assert "config_change" not in database.get_tables()
    assert MIGRATION in runner.up(target=MIGRATION)
    with database.bind_ctx([ConfigChange]):
        ConfigChange.create(actor="admin1", kind="library", key="SCI", field="Name", old=None, new="Science")
        assert [(c.key, c.old, c.new) for c in ConfigChange.select()] == [("SCI", None, "Science")]
    indexes = {i.name: i.columns for i in database.get_indexes("config_change")}
    assert indexes == {"config_change_at": ["at"], "config_change_kind_at": ["kind", "at"]}
    runner.down(target=MIGRATION)
    assert "config_change" not in database.get_tables()
