"""The migrations apply on an empty and on an up-to-date PostgreSQL database."""

import pytest

from tests.conftest import app_config
from tests.servers.postgres import postgres_bin
from webapp import create_app
from webapp.db import MIGRATIONS_DIR, db

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL is not installed")


def test_db_upgrade_on_empty_and_up_to_date_postgresql(postgres_url, tmp_path):
    app = create_app(app_config(postgres_url), instance_path=tmp_path / "instance")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    every = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py"))
    assert [line.removeprefix("applied ") for line in first.output.splitlines()] == every
    with db.connection_context():
        assert {"user", "search_entry", "sync_run", "history", "config_change",
                "schema_migration"} <= set(db.get_tables())
        columns = {c.name for c in db.get_columns("sync_run")}
    assert {"host", "pid", "heartbeat"} <= columns
    again = runner.invoke(args=["db", "upgrade"])
    assert again.exit_code == 0 and "up to date" in again.output
    check = runner.invoke(args=["check"])
    assert check.exit_code == 0, check.output
    assert "integrity: not applicable" in check.output


def _search_entry_foreign_keys():
    return db.execute_sql("SELECT count(*) FROM pg_constraint WHERE conrelid = 'search_entry'::regclass "
                          "AND contype = 'f'").fetchone()[0]


def test_migration_0013_drops_the_search_entry_key_and_brings_it_back(postgres_url, tmp_path):
    from playhouse.migrations import Runner

    create_app(app_config(postgres_url), instance_path=tmp_path / "instance")
    with db.connection_context():
        runner = Runner(db.obj, str(MIGRATIONS_DIR))
        runner.up()
        assert _search_entry_foreign_keys() == 0
        runner.down(target="0013_search_entry_derived")
        assert _search_entry_foreign_keys() == 1
        runner.up()
        assert _search_entry_foreign_keys() == 0
        triggers = {r[0] for r in db.execute_sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = '\"user\"'::regclass").fetchall()}
        assert {"search_entry_flags", "search_entry_user_deleted"} <= triggers
