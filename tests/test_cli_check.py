"""flask check: schema, integrity, interrupted runs and table sizes; non-zero when wrong."""

import subprocess
import sys

from tests.conftest import make_app
from webapp.db import MIGRATIONS_DIR, db, is_sqlite
from webapp.models import SyncRun
from webapp.services import checks, jobs


def test_check_of_an_empty_database_asks_for_the_upgrade(tmp_path):
    result = make_app(tmp_path, tmp_path / "fresh.sqlite").test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert "schema: empty" in result.output and "0001_initial" in result.output
    assert "db upgrade" in result.output


def test_check_of_a_sound_database(app):
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    newest = max(path.stem for path in MIGRATIONS_DIR.glob("0*.py"))
    assert f"schema: {newest} (up to date)" in result.output
    assert ("integrity: ok" if is_sqlite() else "integrity: not applicable") in result.output
    assert "interrupted runs: 0" in result.output
    assert "search entries of no user: 0" in result.output
    assert "sign_in_log" in result.output and "all is well" in result.output


def test_check_marks_and_lists_interrupted_runs(app):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with db.connection_context():
        dead = SyncRun.create(by="system", source="SIS", filename="students.csv", sha256="0" * 64,
                              status=jobs.RUNNING, host=jobs.hostname(), pid=child.pid)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["check"])
    assert first.exit_code == 1
    assert "now marked interrupted" in first.output
    assert f"run {dead.id} (SIS, students.csv" in first.output
    again = runner.invoke(args=["check"])
    assert again.exit_code == 0 and "interrupted runs: 1" in again.output


def test_check_fails_when_integrity_fails(app, monkeypatch):
    monkeypatch.setattr(checks, "integrity", lambda: "*** in database main *** Page 7: btree damaged")
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert "integrity check failed" in result.output


def test_check_removes_search_entries_whose_user_is_gone(app):
    # The trigger of migration 0013 removes them with their user; a raw write could leave some.
    with db.connection_context(), db.atomic():
        db.execute_sql("INSERT INTO search_entry (kind, term, user_id, tier, sort_key, flags) "
                       "VALUES (0, 'zz', 999999, 2, 'zz', 0)")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["check"])
    assert first.exit_code == 1
    assert "search entries of no user: 1" in first.output
    assert "1 search entries belonged to no user; now removed" in first.output
    again = runner.invoke(args=["check"])
    assert again.exit_code == 0 and "search entries of no user: 0" in again.output
