"""The flask commands: db upgrade, create-admin, demo, backup."""

import sqlite3

from tests.conftest import make_app, sign_in
from webapp.db import db
from webapp.models import RoleAssignment, User


def fresh_app(tmp_path):
    return make_app(tmp_path, tmp_path / "fresh.sqlite")


def test_db_upgrade_on_empty_and_on_up_to_date_database(tmp_path):
    app = fresh_app(tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "applied 0001_initial" in result.output
    tables = {row[0] for row in sqlite3.connect(tmp_path / "fresh.sqlite").execute(
        "select name from sqlite_master where type='table'")}
    assert {"user", "identifier", "history", "role_assignment", "field_state"} <= tables
    again = runner.invoke(args=["db", "upgrade"])
    assert again.exit_code == 0
    assert "up to date" in again.output


def test_create_admin_with_password_from_stdin(tmp_path):
    app = fresh_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    result = runner.invoke(args=["create-admin", "chief", "--password-stdin"],
                           input="a long admin password\n")
    assert result.exit_code == 0, result.output
    with db.connection_context():
        chief = User.get(User.primary_id == "chief")
        assert chief.record_type == "staff"
        assert [a.role for a in RoleAssignment.select().where(RoleAssignment.user == chief)] == [
            "General System Administrator"
        ]
    client = app.test_client()
    assert sign_in(client, "chief", "a long admin password").status_code == 302


def test_create_admin_refuses_short_password_and_duplicates(tmp_path):
    app = fresh_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    short = runner.invoke(args=["create-admin", "chief", "--password-stdin"], input="short\n")
    assert short.exit_code == 1
    assert "at least 10 characters" in short.output
    runner.invoke(args=["create-admin", "chief", "--password-stdin"], input="long enough pass\n")
    dup = runner.invoke(args=["create-admin", "chief", "--password-stdin"],
                        input="long enough pass\n")
    assert dup.exit_code == 1
    assert "already has this identifier" in dup.output


def test_demo_loads_staff_patrons_and_loans(tmp_path):
    app = fresh_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    result = runner.invoke(args=["demo", "--patrons", "12", "--password", "demo password 1"])
    assert result.exit_code == 0, result.output
    for name in ("admin", "usermanager", "desk", "student"):
        assert name in result.output
    assert "demo password 1" in result.output
    with db.connection_context():
        patrons = User.select().where(User.record_type == "public")
        assert patrons.count() == 12
        assert {u.account_type for u in patrons} == {"internal", "external"}
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "no demo data loaded" in again.output
    client = app.test_client()
    assert sign_in(client, "desk", "demo password 1").status_code == 302


def test_demo_is_deterministic(tmp_path):
    names = []
    for n in range(2):
        app = make_app(tmp_path / str(n), tmp_path / f"d{n}.sqlite")
        runner = app.test_cli_runner()
        runner.invoke(args=["db", "upgrade"])
        runner.invoke(args=["demo", "--patrons", "8"])
        with db.connection_context():
            names.append([(u.primary_id, u.last_name) for u in User.select().order_by(User.id)])
    assert names[0] == names[1]


def test_backup_makes_a_consistent_copy(tmp_path):
    app = fresh_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    runner.invoke(args=["demo", "--patrons", "5"])
    target = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "integrity check: ok" in result.output
    copy = sqlite3.connect(target)
    assert copy.execute("select count(*) from user where record_type='public'").fetchone()[0] == 5
    exists = runner.invoke(args=["backup", str(target)])
    assert exists.exit_code != 0
