"""Sign-in limits under concurrency: many wrong passwords at once against a threaded server."""

import concurrent.futures
import http.client
import threading
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROLE_LOGINS
from webapp.db import db
from webapp.models import SignInLog
from webapp.services import credentials

ADMIN = ROLE_LOGINS["General System Administrator"]
BURST = 16
LIMIT = 5


@pytest.fixture
def port(app):
    """Serve APP from a thread that answers each request in a thread of its own."""
    served = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    yield served.server_port
    served.shutdown()


@pytest.fixture
def hash_checks(monkeypatch):
    """Count the password hashes checked."""
    checked = []
    real = credentials.check_secret

    def counting(stored, secret):
        checked.append(secret)
        return real(stored, secret)

    monkeypatch.setattr(credentials, "check_secret", counting)
    return checked


def post_sign_in(port, password, source="127.0.0.1", barrier=None):
    """POST the sign-in form from SOURCE (a loopback address); return (status, Retry-After)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0))
    body = urlencode({"identifier": ADMIN, "password": password})
    if barrier is not None:
        barrier.wait()
    connection.request("POST", "/sign-in", body, {"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, response.getheader("Retry-After")


def burst(port, passwords, source="127.0.0.1"):
    """Send every one of PASSWORDS from SOURCE at once; return the answers in the same order."""
    barrier = threading.Barrier(len(passwords))
    with concurrent.futures.ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(lambda p: post_sign_in(port, p, source, barrier), passwords))


def logged(event):
    with db.connection_context():
        return SignInLog.select().where(SignInLog.event == event).count()


def test_a_burst_of_wrong_passwords_checks_at_most_the_limit(app, port, hash_checks):
    answers = burst(port, ["wrong password!"] * BURST)
    statuses = [status for status, _ in answers]
    assert statuses.count(401) <= LIMIT and set(statuses) <= {401, 429}
    assert len(hash_checks) <= LIMIT
    assert logged("failure") == statuses.count(401) and logged("throttled") == statuses.count(429)
    assert all(retry and int(retry) > 0 for status, retry in answers if status == 429)
    # The right password in the next burst is refused too, unchecked.
    checked = len(hash_checks)
    again = burst(port, ["wrong password!"] * 7 + [PASSWORD])
    assert [status for status, _ in again] == [429] * 8
    assert len(hash_checks) == checked


def test_a_stranger_throttled_does_not_stop_the_right_password_from_another_address(app, port):
    answers = burst(port, ["wrong password!"] * BURST, source="127.0.0.2")
    assert [status for status, _ in answers].count(429) >= BURST - LIMIT
    assert post_sign_in(port, PASSWORD, "127.0.0.2")[0] == 429
    assert post_sign_in(port, PASSWORD, "127.0.0.1")[0] == 302
