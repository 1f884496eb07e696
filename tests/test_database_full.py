"""A full database (disk or page limit) answers 503 with a clear message; other errors stay 500."""

import sqlite3
import threading
import time

import pytest
from peewee import OperationalError

from tests.conftest import TEST_DB
from webapp.db import db
from webapp.models import History, User
from webapp.services import users as user_service

FORM = {"version": "1", "last_name": "Fuller", "first_name": "Ida", "user_group": "Community",
        "primary_id": "INT1", "status": "active"}


def refuse(message):
    def save_user(*args, **kwargs):
        raise OperationalError(message)

    return save_user


@pytest.mark.parametrize("htmx", [False, True])
def test_a_save_on_a_full_database_is_503_with_a_clear_message(app, login_as, patrons, monkeypatch,
                                                                htmx):
    client = login_as("User Manager")
    monkeypatch.setattr(user_service, "save_user", refuse("database or disk is full"))
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(f"/users/{patrons['internal']}/general", data=FORM, headers=headers)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "The database is full" in page and "nothing was changed" in page
    assert response.headers["X-Request-Id"] in page


def test_a_save_that_waited_too_long_for_the_database_is_503_busy(app, login_as, patrons, monkeypatch):
    client = login_as("User Manager")
    monkeypatch.setattr(user_service, "save_user", refuse("database is locked"))
    response = client.post(f"/users/{patrons['internal']}/general", data=FORM)
    assert response.status_code == 503
    assert "The database is busy" in response.get_data(as_text=True)


def test_another_database_error_is_a_500(app, login_as, patrons, monkeypatch):
    client = login_as("User Manager")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(user_service, "save_user", refuse("no such table: user"))
    response = client.post(f"/users/{patrons['internal']}/general", data=FORM)
    assert response.status_code == 500


def test_a_failed_rollback_after_sqlite_gave_up_still_reads_as_full():
    from webapp.web.errors import disk_full

    try:
        try:
            raise OperationalError("database or disk is full")
        except OperationalError:
            raise OperationalError("cannot rollback - no transaction is active")  # noqa: B904
    except OperationalError as exc:
        assert disk_full(exc)
    assert not disk_full(OperationalError("cannot rollback - no transaction is active"))


@pytest.mark.skipif(TEST_DB != "sqlite", reason="SQLite's one write lock; PostgreSQL locks rows")
def test_a_save_waits_for_a_long_write_and_then_lands(app, login_as, patrons):
    # Another writer, as a first load's apply is, holds SQLite's write lock for longer than
    # the 10 s a save used to wait before it was refused with 503 "busy".
    client = login_as("User Manager")
    other = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"),
                            isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(12, other.execute, ["COMMIT"])
    releaser.start()
    try:
        started = time.monotonic()
        response = client.post(f"/users/{patrons['internal']}/general", data=FORM)
        waited = time.monotonic() - started
    finally:
        releaser.join()
        other.close()
    assert response.status_code < 400, response.get_data(as_text=True)[:300]
    assert waited > 11  # it did wait for the lock, and was not refused
    with db.connection_context():
        user = User.get_by_id(patrons["internal"])
        assert user.last_name == "Fuller"
        assert History.select().where((History.user == user) & (History.field == "Last name")
                                      & (History.new == "Fuller")).count() == 1
