"""Migration 0006: staff_session and sign_in_limit, applied after 0007–0010 on a database in use."""

from peewee import SqliteDatabase
from playhouse.migrations import Runner

from webapp.db import MIGRATIONS_DIR
from webapp.models import StaffSession, User

MIGRATION = "0006_staff_sessions"


def columns(database, table):
    return {c.name for c in database.get_columns(table)}


def test_applies_last_on_a_database_in_use_and_reverts(tmp_path):
    database = SqliteDatabase(str(tmp_path / "migrated.sqlite"), pragmas={"foreign_keys": 1})
    runner = Runner(database, str(MIGRATIONS_DIR))
    # A database of the code before 0006 existed: everything else applied.
    runner.up(target="0005_drop_search_term")
    runner.fake(target=MIGRATION)
    runner.up()
    runner.History.delete().where(runner.History.name == MIGRATION).execute()
    assert runner.up() == [MIGRATION]
    assert {"staff_session", "sign_in_limit"} <= set(database.get_tables())
    assert "session_version" not in columns(database, "user")
    assert columns(database, "staff_session") == {"key", "user_id", "created_at", "last_seen_at",
                                                 "address", "user_agent"}
    with database.bind_ctx([User, StaffSession]):
        kept, gone = (User.create(primary_id=p, last_name=p, user_group="Staff") for p in ("k", "g"))
        StaffSession.create(key="x" * 64, user=gone)
        gone.delete_instance()
        assert StaffSession.select().count() == 0  # a deleted account's sessions go with it
    runner.down(target=MIGRATION)
    assert "session_version" in columns(database, "user")
    assert not {"staff_session", "sign_in_limit"} & set(database.get_tables())
    assert database.execute_sql('SELECT primary_id, session_version FROM "user"').fetchall() == [("k", 1)]
