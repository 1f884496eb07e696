"""flask sync-users: exit status, dry run, summary table, rejected rows."""

import pytest

from tests.conftest import make_app
from webapp.db import db
from webapp.models import SyncRun, User

GOOD = (b"external_id,primary_id,first_name,last_name,user_group,barcode,email\n"
        b"S1,P1,Ann,Ray,Graduate,B1,ann@example.edu\n"
        b"S2,P2,Bo,Stone,Faculty,B2,bo@example.edu\n")
ONE_BAD = GOOD + b"S3,P3,Cy,Lee,Graduate,B3,cy@\n"


@pytest.fixture
def runner(tmp_path):
    app = make_app(tmp_path, tmp_path / "cli.sqlite")
    cli = app.test_cli_runner()
    assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
    return cli


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def counted(output, name):
    """Return the number the summary table shows for NAME."""
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            return int(parts[1].replace(",", ""))
    raise AssertionError(f"no {name} line in {output}")


def synced_users():
    with db.connection_context():
        return sorted(u.primary_id for u in User.select().where(User.source == "SIS"))


def test_applies_and_prints_the_summary_table(runner, tmp_path):
    result = runner.invoke(args=["sync-users", write(tmp_path, "a.csv", GOOD), "--source", "SIS"])
    assert result.exit_code == 0, result.output
    assert "Run 1: applied" in result.output
    assert counted(result.output, "created") == 2
    assert synced_users() == ["P1", "P2"]
    again = runner.invoke(args=["sync-users", write(tmp_path, "a.csv", GOOD), "--source", "SIS"])
    assert again.exit_code == 0
    assert counted(again.output, "unchanged") == 2


def test_dry_run_prints_the_preview_and_changes_nothing(runner, tmp_path):
    result = runner.invoke(args=["sync-users", write(tmp_path, "a.csv", GOOD), "--source", "SIS",
                                 "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Changes it would make:" in result.output
    assert "Primary identifier: — -> P1" in result.output
    assert synced_users() == []
    with db.connection_context():
        assert SyncRun.get().status == "dry run"


def test_a_rejected_row_rejects_the_run_with_exit_status_1(runner, tmp_path):
    path = write(tmp_path, "bad.csv", ONE_BAD)
    result = runner.invoke(args=["sync-users", path, "--source", "SIS"])
    assert result.exit_code == 1
    assert "line 4 (S3): email: Enter an email address" in result.output
    assert synced_users() == []
    skipped = runner.invoke(args=["sync-users", path, "--source", "SIS", "--skip-invalid"])
    assert skipped.exit_code == 0
    assert synced_users() == ["P1", "P2"]


def test_a_file_that_is_not_csv_or_json_exits_1_without_a_traceback(runner, tmp_path):
    result = runner.invoke(args=["sync-users", write(tmp_path, "x.csv", b"\xff\xfe\x00junk"), "--source",
                                 "SIS"])
    assert result.exit_code == 1
    assert "file error: Line 1: the file is not UTF-8 text" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_deactivate_missing(runner, tmp_path):
    runner.invoke(args=["sync-users", write(tmp_path, "a.csv", GOOD), "--source", "SIS"])
    fewer = b"\n".join(GOOD.split(b"\n")[:2]) + b"\n"
    result = runner.invoke(args=["sync-users", write(tmp_path, "b.csv", fewer), "--source", "SIS",
                                 "--deactivate-missing"])
    assert result.exit_code == 0, result.output
    assert counted(result.output, "deactivated") == 1
    with db.connection_context():
        assert User.get(User.primary_id == "P2").status == "inactive"


@pytest.mark.parametrize("args", [
    ["sync-users"],
    ["sync-users", "FILE"],
    ["sync-users", "/nonexistent/file.csv", "--source", "SIS"],
    ["sync-users", "FILE", "--source", " "],
    ["sync-users", "FILE", "--source", "S" * 51],
    ["sync-users", "FILE", "--source", "SIS", "--no-such-option"],
], ids=["no file", "no source", "missing file", "blank source", "long source", "unknown option"])
def test_usage_errors_exit_2(runner, tmp_path, args):
    path = write(tmp_path, "a.csv", GOOD)
    result = runner.invoke(args=[path if a == "FILE" else a for a in args])
    assert result.exit_code == 2, result.output
    assert synced_users() == []


def test_values_of_a_hostile_file_are_printed_escaped_never_raw(runner, tmp_path):
    hostile = (b"external_id,primary_id,first_name,last_name,user_group,\x1b]0;owned\x07\n"
               b"S1,P1,Ann,Ray,Graduate,x\n")
    result = runner.invoke(args=["sync-users", write(tmp_path, "bad.csv", hostile), "--source", "SIS"])
    assert result.exit_code == 1
    assert "unknown columns: \\x1b]0;owned\\x07" in result.output
    rows = GOOD + b"S9\x1b[2J,P9,Cy\x1b[31m,Lee,Graduate,B9,cy@example.edu\n"
    result = runner.invoke(args=["sync-users", write(tmp_path, "rows.csv", rows), "--source", "SIS",
                                 "--skip-invalid"])
    assert result.exit_code == 0
    assert "line 4 (S9\\x1b[2J): external_id: Contains a control character (U+001B)." in result.output
    for output in (result.output, result.stderr):
        assert "\x1b" not in output and "\x07" not in output


def test_a_value_stored_before_the_boundary_is_printed_escaped_in_the_changes(runner, tmp_path):
    first = runner.invoke(args=["sync-users", write(tmp_path, "a.csv", GOOD), "--source", "SIS"])
    assert first.exit_code == 0
    with db.connection_context():
        User.update(first_name="Ann\x1b[2J").where(User.primary_id == "P1").execute()
    renamed = write(tmp_path, "b.csv", GOOD.replace(b"S1,P1,Ann", b"S1,P1,Anna"))
    result = runner.invoke(args=["sync-users", renamed, "--source", "SIS"])
    assert result.exit_code == 0, result.output
    assert "First name: Ann\\x1b[2J -> Anna" in result.output
    assert "\x1b" not in result.output


def test_a_run_that_fails_prints_the_reason_and_is_marked_failed(runner, tmp_path, monkeypatch):
    from webapp.services.sync import writer

    def failing(self, plans):
        raise RuntimeError("disk \x1b[2J full")

    monkeypatch.setattr(writer.Writer, "write", failing)
    result = runner.invoke(args=["sync-users", write(tmp_path, "a.csv", GOOD), "--source", "SIS"])
    assert result.exit_code == 1
    assert "the run failed (RuntimeError: disk \\x1b[2J full); nothing was changed" in result.output
    with db.connection_context():
        assert SyncRun.get().status == "failed"
    assert synced_users() == []


def test_a_source_name_with_a_control_character_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["sync-users", write(tmp_path, "a.csv", GOOD), "--source", "SIS\x1b"])
    assert result.exit_code == 2
    assert "control character (U+001B)" in result.output and "\x1b" not in result.output
    with db.connection_context():
        assert SyncRun.select().count() == 0
