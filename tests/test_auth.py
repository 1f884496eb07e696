"""Sign-in, sign-out, sign-in limits, sessions per sign-in, one's own password."""

import datetime
import sqlite3

import pytest

from tests.conftest import PASSWORD, ROLE_LOGINS, TEST_DB, sign_in
from tests.servers.vnu import Pages
from tests.staff_sessions import age_sessions, open_session_count
from webapp.db import db
from webapp.models import History, RoleAssignment, SignInLimit, SignInLog, StaffSession, User
from webapp.services import signin_limits
from webapp.services.clock import now
from webapp.services.passwords import hash_secret

ADMIN = ROLE_LOGINS["General System Administrator"]
MANAGER = ROLE_LOGINS["User Manager"]
NEW_PASSWORD = "a brand new password"


def sign_in_from(app, address, identifier, password=PASSWORD):
    """Sign IDENTIFIER in from ADDRESS on a client of its own; return the response."""
    return app.test_client().post("/sign-in", data={"identifier": identifier, "password": password},
                                  environ_base={"REMOTE_ADDR": address})


def test_sign_in_page_is_served(client):
    response = client.get("/sign-in")
    assert response.status_code == 200
    assert b"Sign in to Patron Desk" in response.data
    assert b'<label for="identifier">' in response.data


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/users/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=/users/")


def test_htmx_request_without_session_gets_hx_redirect(htmx_client):
    response = htmx_client.get("/users/")
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in")
    assert b"<form" not in response.data


def test_staff_signs_in_and_lands_on_first_allowed_page(client):
    response = sign_in(client, ADMIN)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True)
    assert page.status_code == 200
    assert b"Sign out" in page.data


def test_next_parameter_only_goes_to_this_site(client):
    response = client.post(
        "/sign-in?next=https://evil.example/", data={"identifier": ADMIN, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
    client.post("/sign-out")
    response = client.post(
        "/sign-in?next=/desk/", data={"identifier": ADMIN, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/desk/"


def test_every_failure_gets_the_same_message(app, client):
    with db.connection_context():
        User.create(primary_id="patron1", last_name="Reader", user_group="Community",
                    password_hash=hash_secret(PASSWORD))
        User.create(primary_id="ext1", last_name="Ext", user_group="Staff", record_type="staff",
                    account_type="external", source="SIS", external_id="1",
                    password_hash=hash_secret(PASSWORD))
    answers = {
        "wrong password": sign_in(client, ADMIN, "wrong password!"),
        "unknown account": sign_in(client, "nobody-here"),
        "public record": sign_in(client, "patron1"),
        "external account": sign_in(client, "ext1"),
    }
    bodies = set()
    for case, response in answers.items():
        assert response.status_code == 401, case
        text = response.get_data(as_text=True)
        assert "The identifier or password is not right" in text, case
        bodies.add(text.split('<div class="error-box"')[1].split("</div>")[0])
    assert len(bodies) == 1


def test_staff_without_active_role_cannot_sign_in(app, client):
    with db.connection_context():
        user = User.get(User.primary_id == ADMIN)
        RoleAssignment.update(expires_on=datetime.date(2000, 1, 1)).where(
            RoleAssignment.user == user
        ).execute()
    assert sign_in(client, ADMIN).status_code == 401


def test_wrong_passwords_make_the_account_wait_at_that_address_only(app, client):
    app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS"] = 3
    for _ in range(3):
        assert sign_in(client, ADMIN, "wrong password!").status_code == 401
    response = sign_in(client, ADMIN)  # even the right password waits now
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins from here. Try again in 1 minute." in response.get_data(as_text=True)
    # The same account from the desk's terminal, and another account from here, still sign in.
    assert sign_in_from(app, "10.0.0.7", ADMIN).status_code == 302
    assert sign_in(client, ROLE_LOGINS["User Manager"]).status_code == 302


def test_sign_in_is_throttled_per_address(app, client):
    app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"] = 4
    for n in range(4):
        sign_in(client, f"guess{n}", "wrong password!")
    refused = sign_in(client, ADMIN)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert sign_in_from(app, "10.0.0.7", ADMIN).status_code == 302


def test_each_failure_past_the_limit_doubles_the_wait(app, client, monkeypatch):
    app.config.update(SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS=2, SIGNIN_FIRST_DELAY_SECONDS=60)
    start = now()
    monkeypatch.setattr(signin_limits, "now", lambda: start)
    for _ in range(2):
        assert sign_in(client, ADMIN, "wrong password!").status_code == 401
    assert sign_in(client, ADMIN).headers["Retry-After"] == "60"
    # The wait is over: one more guess is checked, and a wrong one waits twice as long.
    monkeypatch.setattr(signin_limits, "now", lambda: start + datetime.timedelta(seconds=61))
    assert sign_in(client, ADMIN, "wrong password!").status_code == 401
    assert sign_in(client, ADMIN).headers["Retry-After"] == "120"
    monkeypatch.setattr(signin_limits, "now", lambda: start + datetime.timedelta(seconds=182))
    assert sign_in(client, ADMIN).status_code == 302
    with db.connection_context():
        events = [(row.event, row.reason) for row in SignInLog.select().order_by(SignInLog.id)]
    assert events == [("failure", "bad_password")] * 2 + [("throttled", "throttled")] + [
        ("failure", "bad_password"), ("throttled", "throttled"), ("success", "password")]


def test_a_right_password_ends_the_streak_of_its_account(app, client):
    app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS"] = 3
    for _ in range(2):
        sign_in(client, ADMIN, "wrong password!")
    assert sign_in(client, ADMIN).status_code == 302
    client.post("/sign-out")
    for _ in range(2):
        assert sign_in(client, ADMIN, "wrong password!").status_code == 401
    assert sign_in(client, ADMIN).status_code == 302


def test_sign_in_log_records_attempts(app, client):
    sign_in(client, ADMIN, "wrong password!")
    sign_in(client, ADMIN)
    with db.connection_context():
        events = [row.event for row in SignInLog.select().order_by(SignInLog.id)]
    assert events == ["failure", "success"]


def test_sign_in_starts_a_new_session(client):
    client.get("/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, ADMIN)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_old_cookie_is_refused_after_sign_out(app, client):
    sign_in(client, ADMIN)
    copied = client.get_cookie("session").value
    assert client.get("/users/").status_code == 200
    client.post("/sign-out")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/users/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_idle_session_expires(app, client):
    sign_in(client, ADMIN)
    age_sessions(ADMIN, idle_seconds=31 * 60)
    response = client.get("/users/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert open_session_count(ADMIN) == 0


def test_an_idle_session_answers_htmx_with_a_redirect(app, client, htmx_client):
    sign_in(client, ADMIN)
    age_sessions(ADMIN, idle_seconds=31 * 60)
    response = htmx_client.get("/users/")
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/sign-in")


def test_last_seen_is_written_at_most_every_half_minute(app, client):
    sign_in(client, ADMIN)
    with db.connection_context():
        signed_in = StaffSession.get().last_seen_at
    client.get("/users/")
    with db.connection_context():
        assert StaffSession.get().last_seen_at == signed_in
    age_sessions(ADMIN, idle_seconds=40)
    client.get("/users/")
    with db.connection_context():
        assert StaffSession.get().last_seen_at > now() - datetime.timedelta(seconds=10)


@pytest.mark.skipif(TEST_DB != "sqlite", reason="SQLite's one write lock; PostgreSQL locks rows")
def test_a_page_answers_while_a_long_write_holds_the_lock_and_last_seen_waits(app, client):
    sign_in(client, ADMIN)
    age_sessions(ADMIN, idle_seconds=40)
    with db.connection_context():
        before = StaffSession.get().last_seen_at
    # Another writer, as a synchronization's apply is, holds SQLite's write lock.
    other = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        response = client.get("/users/")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        with db.connection_context():
            assert StaffSession.get().last_seen_at == before
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert client.get("/users/").status_code == 200
    with db.connection_context():
        assert StaffSession.get().last_seen_at > before


def test_the_cookie_holds_only_the_session_token(app, client):
    sign_in(client, ADMIN)
    cookie = client.get_cookie("session").value
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert set(data) <= {"_user_id", "_fresh", "_id", "csrf_token"}
    with db.connection_context():
        row = StaffSession.get()
        admin = User.get(User.primary_id == ADMIN)
    assert row.user_id == admin.id and data["_user_id"] != str(admin.id)
    assert row.address == "127.0.0.1" and row.key != data["_user_id"]  # only its hash is stored


def test_signing_out_ends_this_session_only(app, client):
    desk_two = app.test_client()
    sign_in(client, ADMIN)
    sign_in(desk_two, ADMIN)
    assert open_session_count(ADMIN) == 2
    assert client.post("/sign-out").status_code == 302
    assert client.get("/users/").status_code == 302
    assert desk_two.get("/users/").status_code == 200
    assert open_session_count(ADMIN) == 1


def test_sessions_page_lists_them_and_signs_out_everywhere(app, client):
    desk_two = app.test_client()
    sign_in(client, ADMIN)
    sign_in_from(app, "10.0.0.7", ADMIN)
    sign_in(desk_two, ADMIN)
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "3 open sessions" in page and "10.0.0.7" in page
    assert page.count("Yes, this one") == 1
    response = client.post("/account/sessions/end")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert client.get("/users/").status_code == 302
    assert desk_two.get("/users/").status_code == 302
    assert open_session_count(ADMIN) == 0


def test_the_account_menu_links_sessions_and_password(client):
    sign_in(client, ROLE_LOGINS["Circulation Desk Operator"])
    page = client.get("/desk/").get_data(as_text=True)
    assert 'href="/account/sessions"' in page and 'href="/account/password"' in page


def change_password(client, current, new=NEW_PASSWORD, again=None):
    return client.post("/account/password", data={"current_password": current, "password": new,
                                                  "password_confirm": again or new})


def test_own_password_change_asks_for_the_current_password(app, client):
    sign_in(client, MANAGER)
    response = change_password(client, "not my password")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="current_password-error">Your current password is not right.' in text
    with db.connection_context():
        manager = User.get(User.primary_id == MANAGER)
        assert not History.select().where((History.user == manager)
                                          & (History.field == "Password")).exists()
        assert SignInLog.select().order_by(SignInLog.id.desc()).get().reason == "bad_current_password"
    assert sign_in_from(app, "10.0.0.7", MANAGER).status_code == 302  # the old one still works
    missing = change_password(client, "")
    assert missing.status_code == 422 and "Enter your current password." in missing.get_data(as_text=True)
    differ = change_password(client, PASSWORD, again="another new password")
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(as_text=True)


def test_own_password_change_ends_the_other_sessions_and_keeps_this_one(app, client):
    other = app.test_client()
    sign_in(client, MANAGER)
    sign_in(other, MANAGER)
    response = change_password(client, PASSWORD)
    assert response.status_code == 303
    assert "Your other sessions have ended" in client.get("/account/password").get_data(as_text=True)
    assert client.get("/users/").status_code == 200
    assert other.get("/users/").status_code == 302
    assert open_session_count(MANAGER) == 1
    assert sign_in_from(app, "10.0.0.7", MANAGER).status_code == 401
    assert sign_in_from(app, "10.0.0.8", MANAGER, NEW_PASSWORD).status_code == 302
    with db.connection_context():
        manager = User.get(User.primary_id == MANAGER)
        changes = History.select().where((History.user == manager) & (History.field == "Password"))
        assert [(h.old, h.new, h.actor) for h in changes] == [("(set)", "(changed)", MANAGER)]


def test_wrong_current_passwords_are_throttled_like_sign_ins(app, client):
    app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS"] = 2
    sign_in(client, MANAGER)
    assert [change_password(client, "guess one").status_code for _ in range(2)] == [422, 422]
    throttled = change_password(client, PASSWORD)
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    assert sign_in_from(app, "10.0.0.7", MANAGER).status_code == 302  # nothing changed


def test_user_details_sends_one_to_change_password_for_one_s_own(client):
    sign_in(client, ADMIN)
    with db.connection_context():
        admin = User.get(User.primary_id == ADMIN)
    page = client.get(f"/users/{admin.id}").get_data(as_text=True)
    assert 'href="/account/password"' in page and 'name="password_confirm"' not in page
    crafted = client.post(f"/users/{admin.id}/password",
                          data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert crafted.status_code == 422
    assert sign_in_from(client.application, "10.0.0.7", ADMIN).status_code == 302


def test_an_administrator_s_reset_asks_nothing_and_ends_the_target_s_sessions(app, client):
    manager = app.test_client()
    sign_in(manager, MANAGER)
    sign_in(client, ADMIN)
    with db.connection_context():
        target = User.get(User.primary_id == MANAGER)
    response = client.post(f"/users/{target.id}/password",
                           data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert manager.get("/users/").status_code == 302
    assert open_session_count(MANAGER) == 0
    assert client.get("/users/").status_code == 200
    assert sign_in_from(app, "10.0.0.7", MANAGER, NEW_PASSWORD).status_code == 302
    differ = client.post(f"/users/{target.id}/password",
                         data={"password": NEW_PASSWORD, "password_confirm": "something else!"})
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(as_text=True)


def test_deactivating_an_account_ends_its_sessions(app, client, htmx_client):
    staff = app.test_client()
    sign_in(staff, MANAGER)
    sign_in(client, ADMIN)
    with db.connection_context():
        target = User.get(User.primary_id == MANAGER)
    form = {"version": str(target.version), "primary_id": MANAGER, "first_name": target.first_name,
            "last_name": target.last_name, "user_group": target.user_group, "status": "inactive"}
    assert htmx_client.post(f"/users/{target.id}/general", data=form).status_code == 200
    assert open_session_count(MANAGER) == 0
    with db.connection_context():
        User.update(status="active").where(User.id == target.id).execute()
    assert staff.get("/users/").status_code == 302  # reactivated, the old session stays ended


def test_remember_me_cookie_is_never_set(client):
    response = sign_in(client, ADMIN)
    assert "remember_token" not in response.headers.get("Set-Cookie", "")


def test_session_cookie_flags(client):
    response = sign_in(client, ADMIN)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    secure = client.post("/sign-out", base_url="https://localhost")
    assert "Secure" in secure.headers.get("Set-Cookie", "")


def test_security_headers_on_pages(client):
    sign_in(client, ADMIN)
    response = client.get("/users/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


def test_the_pages_of_sessions_and_passwords_are_valid_html(app, client):
    html_pages = Pages()
    app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS"] = 1
    sign_in(client, MANAGER, "wrong password!")
    html_pages.add("sign-in throttled", sign_in(client, MANAGER).data)
    sign_in(client, ADMIN)
    sign_in_from(app, "10.0.0.7", ADMIN)
    html_pages.add("your sessions", client.get("/account/sessions").data)
    html_pages.add("change password", client.get("/account/password").data)
    html_pages.add("change password, wrong", change_password(client, "not my password").data)
    with db.connection_context():
        admin = User.get(User.primary_id == ADMIN)
    html_pages.add("user details, own account", client.get(f"/users/{admin.id}").data)
    html_pages.assert_valid()


def test_counters_and_sessions_long_over_are_cleared_away(app, client):
    sign_in(client, ADMIN, "wrong password!")
    sign_in_from(app, "10.0.0.7", MANAGER)
    age_sessions(MANAGER, idle_seconds=31 * 60)
    with db.connection_context():
        SignInLimit.update(last_failure_at=now() - datetime.timedelta(hours=2)).execute()
    sign_in(client, ROLE_LOGINS["Circulation Desk Operator"])
    with db.connection_context():
        assert SignInLimit.select().count() == 0
        assert [row.user.primary_id for row in StaffSession.select()] == [
            ROLE_LOGINS["Circulation Desk Operator"]]


def test_the_wait_stops_growing_at_the_maximum(app):
    limits = signin_limits.Limits.from_config({**app.config, "SIGNIN_MAX_DELAY_MINUTES": 60})
    waits = [limits.delay(failures, 5).total_seconds() for failures in (5, 6, 7, 11, 12, 10**6)]
    assert waits == [60, 120, 240, 3600, 3600, 3600]
