"""Sign-in, sign-out, throttling, sessions."""

from tests.conftest import PASSWORD, ROLE_LOGINS, sign_in
from webapp.db import db
from webapp.models import RoleAssignment, SignInLog, User
from webapp.services.passwords import hash_secret

ADMIN = ROLE_LOGINS["General System Administrator"]


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
    import datetime

    with db.connection_context():
        user = User.get(User.primary_id == ADMIN)
        RoleAssignment.update(expires_on=datetime.date(2000, 1, 1)).where(
            RoleAssignment.user == user
        ).execute()
    assert sign_in(client, ADMIN).status_code == 401


def test_sign_in_is_throttled_per_account(app, client):
    app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    for _ in range(3):
        assert sign_in(client, ADMIN, "wrong password!").status_code == 401
    response = sign_in(client, ADMIN)  # even the right password waits now
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.data
    other = sign_in(client, ROLE_LOGINS["User Manager"])
    assert other.status_code == 302


def test_sign_in_is_throttled_per_address(app, client):
    app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"] = 4
    for n in range(4):
        sign_in(client, f"guess{n}", "wrong password!")
    assert sign_in(client, ADMIN).status_code == 429


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


def test_password_change_ends_other_sessions(app, client):
    from webapp.services.permissions import SYSTEM
    from webapp.services.users import set_password

    sign_in(client, ADMIN)
    with db.connection_context():
        set_password(User.get(User.primary_id == ADMIN).id, "a brand new password", actor=SYSTEM)
    assert client.get("/users/").status_code == 302


def test_idle_session_expires(app, client):
    sign_in(client, ADMIN)
    with client.session_transaction() as session:
        session["seen"] -= 31 * 60
    response = client.get("/users/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


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
