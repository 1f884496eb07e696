"""The answers the WSGI server writes itself carry the security headers too."""

import socket
import threading

import pytest

from tests.servers import free_port
from webapp.serving import waitress_server
from webapp.web.security import CSP

HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
           "referrer-policy": "same-origin", "x-frame-options": "DENY"}


@pytest.fixture
def served(app):
    """Serve the test app with the production waitress setup on a free port; yield the port."""
    port = free_port()
    server = waitress_server(app, "127.0.0.1", port, threads=2)
    stopping = threading.Event()

    def run():
        try:
            server.run()
        except OSError:  # its sockets closed under the poll, from this thread's stop below
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield port
    stopping.set()
    server.task_dispatcher.shutdown()
    server.close()
    thread.join(timeout=10)


def exchange(port, raw):
    """Send RAW bytes on a new connection; return (status, {header: value}) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(raw)
        except OSError:  # the server may answer and close before it has read everything
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:])
    return int(head[0].split()[1]), {k.lower(): v for k, v in headers.items()}


def test_a_300_kb_request_line_gets_431_with_the_security_headers(served):
    status, headers = exchange(served, b"GET /?" + b"a" * 300_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 431
    for name, value in HEADERS.items():
        assert headers.get(name) == value, name


def test_a_malformed_request_gets_400_with_the_security_headers(served):
    status, headers = exchange(served, b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n")
    assert status == 400
    for name, value in HEADERS.items():
        assert headers.get(name) == value, name


def test_the_app_answers_through_the_same_server_with_the_headers(served):
    status, headers = exchange(served, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert headers["content-security-policy"] == CSP
