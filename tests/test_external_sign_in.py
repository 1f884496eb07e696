"""Signing in through the directory and single sign-on, and the reasons the sign-in log records."""

import time

import pytest

from tests import directory_people as people
from tests.conftest import PASSWORD, ROLE_LOGINS, sign_in
from tests.directory_people import directory_server  # noqa: F401 (the directory fixture)
from tests.servers.vnu import Pages
from tests.staff_sessions import age_sessions
from webapp.db import db
from webapp.models import SignInLog, User

ADMIN = ROLE_LOGINS["General System Administrator"]
GENERIC = "The identifier or password is not right"
NOT_ANSWERING = "The directory is not answering; try again, or ask an administrator"
SSO = {"SSO_HEADER": "X-Remote-User", "SSO_TRUSTED_PROXIES": "10.0.0.0/8"}


@pytest.fixture
def ldap_app(app, directory):
    """The app with the test directory configured and its accounts loaded."""
    app.config.update(people.ldap_config(directory))
    with db.connection_context():
        people.directory_accounts()
    return app


def last_log():
    with db.connection_context():
        row = SignInLog.select().order_by(SignInLog.id.desc()).get()
    return row.event, row.success, row.reason


def test_an_external_student_worker_signs_in_through_the_directory(ldap_app, client):
    response = sign_in(client, "alice", people.directory_password("alice"))
    assert response.status_code == 302
    assert client.get("/").headers["Location"].endswith("/desk/")
    assert client.get("/desk/").status_code == 200
    assert last_log() == ("success", True, "directory")
    client.post("/sign-out")
    assert client.get("/desk/").status_code == 302


@pytest.mark.parametrize("identifier, password, reason", people.DIRECTORY_REFUSALS + [
    ("grace", people.directory_password("grace"), "bad_password"),  # internal: her own hash only
    ("*)(uid=*", people.directory_password("alice"), "bad_password"),
])
def test_every_refusal_looks_the_same_and_the_log_says_why(ldap_app, client, identifier, password,
                                                           reason):
    response = sign_in(client, identifier, password)
    assert response.status_code == 401
    assert GENERIC in response.get_data(as_text=True)
    assert last_log() == ("failure", False, reason)


def test_the_log_never_holds_a_password(ldap_app, client):
    sign_in(client, "bob", "a typed secret")
    sign_in(client, "alice", people.directory_password("alice"))
    with db.connection_context():
        rows = [tuple(str(v) for v in row.__data__.values()) for row in SignInLog.select()]
    assert rows and not any("a typed secret" in v or people.directory_password("alice") in v
                            for row in rows for v in row)


def test_a_directory_outage_says_so_and_the_internal_administrator_still_signs_in(ldap_app, client,
                                                                                 directory):
    directory.kill()
    try:
        started = time.monotonic()
        response = sign_in(client, "alice", people.directory_password("alice"))
        assert time.monotonic() - started < ldap_app.config["LDAP_TIMEOUT_SECONDS"]
        assert response.status_code == 503
        assert NOT_ANSWERING in response.get_data(as_text=True)
        assert last_log() == ("failure", False, "directory_unavailable")
        assert sign_in(client, ADMIN, PASSWORD).status_code == 302
    finally:
        directory.start()


def test_a_directory_that_hangs_answers_within_the_timeout(ldap_app, client, directory):
    directory.pause()  # accepts connections, answers nothing
    try:
        started = time.monotonic()
        response = sign_in(client, "alice", people.directory_password("alice"))
        assert time.monotonic() - started < ldap_app.config["LDAP_TIMEOUT_SECONDS"] + 1
    finally:
        directory.resume()
    assert response.status_code == 503 and NOT_ANSWERING in response.get_data(as_text=True)


def test_a_refused_service_account_says_the_directory_is_not_answering(ldap_app, client, directory):
    ldap_app.config.update(LDAP_BIND_DN=directory.admin_dn, LDAP_BIND_PASSWORD="not the password")
    response = sign_in(client, "alice", people.directory_password("alice"))
    assert response.status_code == 503 and NOT_ANSWERING in response.get_data(as_text=True)


def test_directory_sign_ins_are_throttled(ldap_app, client):
    ldap_app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS"] = 3
    for _ in range(3):
        assert sign_in(client, "alice", "not alice's password").status_code == 401
    assert sign_in(client, "alice", people.directory_password("alice")).status_code == 429
    assert last_log()[2] == "throttled"


def test_start_tls_sign_in(ldap_app, client, directory):
    ldap_app.config.update(LDAP_START_TLS=True, LDAP_CA_FILE=str(directory.ca_file))
    assert sign_in(client, "alice", people.directory_password("alice")).status_code == 302


def test_without_a_directory_an_external_account_cannot_sign_in(app, client):
    with db.connection_context():
        people.directory_accounts()
    assert sign_in(client, "alice", people.directory_password("alice")).status_code == 401
    assert last_log() == ("failure", False, "no_directory")


def test_an_external_session_ends_after_external_session_hours(ldap_app, client):
    sign_in(client, "alice", people.directory_password("alice"))
    age_sessions("alice", signed_in_seconds=12 * 3600 + 1)
    response = client.get("/desk/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_an_internal_session_is_not_bounded_by_external_session_hours(ldap_app, client):
    sign_in(client, ADMIN, PASSWORD)
    age_sessions(ADMIN, signed_in_seconds=12 * 3600 + 1)
    assert client.get("/desk/").status_code == 200


def test_an_external_session_has_the_same_idle_timeout(ldap_app, client):
    sign_in(client, "alice", people.directory_password("alice"))
    age_sessions("alice", idle_seconds=ldap_app.config["IDLE_TIMEOUT_MINUTES"] * 60 + 1)
    assert client.get("/desk/").status_code == 302


def test_a_deactivated_account_is_signed_out(ldap_app, client):
    sign_in(client, "alice", people.directory_password("alice"))
    with db.connection_context():
        User.update(status="inactive").where(User.primary_id == "alice").execute()
    assert client.get("/desk/").status_code == 302


# ---------------------------------------------------------------- single sign-on


def sso(client, value, address):
    return client.get("/sign-in/sso", headers={"X-Remote-User": value},
                      environ_base={"REMOTE_ADDR": address})


def test_single_sign_on_from_a_trusted_proxy(app, client):
    app.config.update(SSO)
    with db.connection_context():
        people.directory_accounts()
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with single sign-on" in page
    response = sso(client, "alice", "10.0.0.5")
    assert response.status_code == 302
    assert client.get("/desk/", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 200
    assert last_log() == ("sso", True, "single_sign_on")


def test_single_sign_on_header_from_anywhere_else_is_ignored_and_logged(app, client):
    app.config.update(SSO)
    with db.connection_context():
        people.directory_accounts()
    response = sso(client, "alice", "192.168.7.7")
    assert response.status_code == 401 and GENERIC in response.get_data(as_text=True)
    assert last_log() == ("sso", False, "untrusted_proxy")
    assert client.get("/desk/").status_code == 302


@pytest.mark.parametrize("value, reason", [("carol", "no_match"), ("erin", "inactive"),
                                           ("frank", "no_role"), (ADMIN, "internal_account"),
                                           ("", "no_identity")])
def test_single_sign_on_refusals(app, client, value, reason):
    app.config.update(SSO)
    with db.connection_context():
        people.directory_accounts()
    response = sso(client, value, "10.0.0.5")
    assert response.status_code == 401 and GENERIC in response.get_data(as_text=True)
    assert last_log() == ("sso", False, reason)


def test_single_sign_on_refusals_do_not_throttle_sign_ins_through_the_proxy(app, client):
    app.config.update(SSO, SIGNIN_MAX_FAILURES_PER_ADDRESS=2)
    with db.connection_context():
        people.directory_accounts()
    for _ in range(3):
        sso(client, "frank", "10.0.0.5")
    response = client.post("/sign-in", data={"identifier": ADMIN, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert response.status_code == 302


def test_single_sign_on_is_off_by_default(client):
    assert "single sign-on" not in client.get("/sign-in").get_data(as_text=True)
    assert sso(client, "alice", "127.0.0.1").status_code == 404


def test_the_pages_of_external_sign_in_are_valid_html(ldap_app, client, directory):
    html_pages = Pages()
    ldap_app.config.update(SSO)
    html_pages.add("sign-in with single sign-on", client.get("/sign-in").data)
    directory.kill()
    try:
        html_pages.add("directory not answering", sign_in(client, "alice", "a password").data)
    finally:
        directory.start()
    html_pages.assert_valid()
