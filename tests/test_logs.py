"""Logs: access lines with a request id, sign-ins, errors, and nothing secret or personal."""

import json
import logging

import pytest

from tests.conftest import PASSWORD, ROLE_LOGINS, app_config, csrf_token_from, make_app
from webapp import create_app, logs
from webapp.web.security import public_route

MANAGER = ROLE_LOGINS["User Manager"]


def lines(caplog, logger=None):
    return [r for r in caplog.records if logger is None or r.name == logger]


def test_one_access_line_per_request_with_request_id_header(client, caplog):
    caplog.set_level(logging.INFO, logger="webapp")
    response = client.get("/healthz?q=secret-query")
    request_id = response.headers["X-Request-Id"]
    assert len(request_id) == 16
    [line] = lines(caplog, "webapp.access")
    assert (line.method, line.path, line.status, line.staff) == ("GET", "/healthz", 200, "-")
    assert line.request_id == request_id and line.ms >= 0
    assert "secret-query" not in caplog.text


@pytest.mark.parametrize("offered, kept", [("abcdef-1234.5678_9", True), ("short", False),
                                           ("bad id<script>", False), ("x" * 65, False)])
def test_incoming_request_id_kept_only_when_safe(client, offered, kept):
    answered = client.get("/healthz", headers={"X-Request-Id": offered}).headers["X-Request-Id"]
    assert (answered == offered) is kept


def test_access_line_names_the_signed_in_staff_member(login_as, caplog):
    client = login_as("User Manager")
    caplog.clear()
    client.get("/users/")
    assert [r.staff for r in lines(caplog, "webapp.access")] == [MANAGER]


def test_sign_ins_are_logged_with_their_outcome(client, caplog):
    caplog.set_level(logging.INFO, logger="webapp")
    client.post("/sign-in", data={"identifier": MANAGER, "password": "wrong password"})
    client.post("/sign-in", data={"identifier": MANAGER, "password": PASSWORD})
    events = [(r.event, r.success) for r in lines(caplog, "webapp.signin")]
    assert events == [("failure", False), ("success", True)]
    assert "wrong password" not in caplog.text and PASSWORD not in caplog.text


def test_unhandled_error_is_logged_with_traceback_and_the_page_shows_its_id(app, caplog):
    def broken():
        raise RuntimeError("kaboom")

    app.add_url_rule("/broken", view_func=public_route(broken))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    caplog.set_level(logging.INFO, logger="webapp")
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    assert request_id in response.get_data(as_text=True)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.request_id == request_id and error.exc_info[0] is RuntimeError
    assert [r.status for r in lines(caplog, "webapp.access")] == [500]


def test_nothing_secret_or_personal_reaches_the_logs(csrf_app, patrons, caplog):
    # Every webapp logger at its most talkative (LOG_LEVEL=DEBUG).
    caplog.set_level(logging.DEBUG, logger="webapp")
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"identifier": MANAGER, "password": PASSWORD, "csrf_token": token})
    cookie = client.get_cookie("session").value
    page = client.get("/users/").get_data(as_text=True)
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    uid = patrons["internal"]
    saved = client.post(f"/users/{uid}/general", headers={"X-CSRFToken": token},
                        data={"version": "1", "last_name": "Inmanowska", "first_name": "Ida",
                              "user_group": "Community", "primary_id": "INT1", "status": "active"})
    assert saved.status_code == 302
    assert client.get("/users/?q=Inmanowska").status_code in (200, 302)
    assert client.get("/users/?q=ida%40home.org").status_code in (200, 302)
    text = caplog.text + "".join(str(vars(r)) for r in caplog.records)
    assert len(lines(caplog, "webapp.access")) >= 4
    for secret in (PASSWORD, cookie, token, "Inmanowska", "ida@home.org", "ida%40home.org"):
        assert secret not in text


def test_json_format_is_one_object_a_line(app):
    record = logging.makeLogRecord({"name": "webapp.access", "msg": "hello %s", "args": ("there",),
                                    "levelname": "INFO", "status": 200})
    with app.test_request_context("/"):
        logs.RequestIdFilter().filter(record)
    entry = json.loads(logs.JsonFormatter().format(record))
    assert (entry["message"], entry["status"], entry["logger"]) == ("hello there", 200, "webapp.access")
    assert entry["request_id"] == "-" and entry["level"] == "INFO"


def test_log_format_setting_picks_the_formatter(tmp_path):
    app = make_app(tmp_path, tmp_path / "x.sqlite")
    try:
        [handler] = [h for h in logs.configure("DEBUG", "json").handlers if getattr(h, "patron_desk", False)]
        assert isinstance(handler.formatter, logs.JsonFormatter)
        assert logging.getLogger("webapp").level == logging.DEBUG
    finally:
        logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])


def test_configured_once_however_many_apps(tmp_path):
    make_app(tmp_path, tmp_path / "a.sqlite")
    make_app(tmp_path, tmp_path / "b.sqlite")
    ours = [h for h in logging.getLogger("webapp").handlers if getattr(h, "patron_desk", False)]
    assert len(ours) == 1


@pytest.mark.parametrize("hops, address", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_proxy_hops_give_the_client_address_to_the_sign_in_log(app, tmp_path, caplog, hops, address):
    proxied = create_app(app_config(app.config["DATABASE_URL"], PROXY_HOPS=hops),
                         instance_path=tmp_path / "instance")
    caplog.set_level(logging.INFO, logger="webapp")
    proxied.test_client().post("/sign-in", data={"identifier": MANAGER, "password": "nope"},
                               headers={"X-Forwarded-For": "203.0.113.7"})
    [line] = lines(caplog, "webapp.signin")
    assert f"address={address}" in line.getMessage()
