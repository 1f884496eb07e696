"""Two gunicorn workers: throttling, session invalidation and sync runs hold across processes.

Each request below goes out on a new connection, and gunicorn hands connections to
whichever worker accepts first, so every check is answered by both workers in turn.
"""

import re
import uuid
from pathlib import Path

import pytest

from bench.harness import STAFF_PASSWORD, Session
from tests.conftest import TEST_DB
from tests.servers import wait_until
from tests.soak.server import AppServer
from tests.soak.verify import SOURCE, sync_file
from tests.test_server_errors import HEADERS as SECURITY_HEADERS
from tests.test_server_errors import exchange

ASKS = 12  # requests per check: enough that both workers answer some


def worker_pids(server):
    """Return the pids of the server's worker processes (children of the gunicorn master)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid:
            pids.append(int(stat.parent.name))
    return pids


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """Serve the demo data with two workers of two threads, on the suite's database kind."""
    url = None
    if TEST_DB == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        url = cluster.create_database(f"workers_{uuid.uuid4().hex[:8]}")
    with AppServer(tmp_path_factory.mktemp("workers") / "instance", url, workers=2, threads=2) as running:
        running.prepare(20)
        running.start()
        # Both workers up before any check, so each check is answered by both.
        wait_until(lambda: len(worker_pids(running)) == 2, timeout=60, what="the second worker")
        yield running


def bare_session(server, cookie="", csrf=""):
    """Return a bench Session that has not signed in (or holds a copied cookie)."""
    session = Session.__new__(Session)
    session.port, session.cookie, session.csrf = server.port, cookie, csrf
    return session


def sign_in_status(server, password):
    session = bare_session(server)
    page = session.request("GET", "/sign-in")[2]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return session.request("POST", "/sign-in", {"identifier": "desk", "password": password,
                                                "csrf_token": token})[0]


def test_two_workers_serve(server):
    assert len(worker_pids(server)) == 2
    assert "webapp.gunicorn_worker.Worker" in server.log_path.read_text()


def test_gunicorns_own_error_answers_carry_the_security_headers(server):
    too_long = exchange(server.port, b"GET /?" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    malformed = exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    for (status, headers), expected in ((too_long, 414), (malformed, 400)):
        assert status == expected
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name) == value, name
    assert exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200


def test_sign_in_throttling_counts_failures_of_every_worker(server):
    statuses = [sign_in_status(server, "wrong password") for _ in range(ASKS)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert sign_in_status(server, STAFF_PASSWORD) == 429


def test_sign_out_ends_the_session_in_every_worker(server):
    session = Session(server.port, "admin")
    copy = bare_session(server, session.cookie, session.csrf)
    assert {copy.request("GET", "/users/")[0] for _ in range(ASKS)} == {200}
    assert session.request("POST", "/sign-out", {})[0] == 302
    assert {copy.request("GET", "/users/")[0] for _ in range(ASKS)} == {302}


def test_every_worker_shows_the_same_runs(server, tmp_path):
    path = tmp_path / "k.csv"
    path.write_bytes(sync_file(5, tag="W"))
    server.flask("sync-users", str(path), "--source", SOURCE)
    session = Session(server.port, "admin")
    pages = [session.request("GET", "/admin/sync")[2] for _ in range(ASKS)]
    runs = {tuple(re.findall(r"Run (\d+)</a>", page)) for page in pages}
    assert len(runs) == 1 and runs.pop()
    assert all("applied" in page for page in pages)
