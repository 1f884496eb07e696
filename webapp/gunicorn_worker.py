"""gunicorn's threaded worker, whose own error answers carry the security headers.

gunicorn writes a 400, 414, 431 or 500 of its own (a request line too long, a malformed
header) straight to the socket, past the app and its middleware. The worker hands that
writer a socket that puts the headers after the status line; everything else is gunicorn's.
"""

from gunicorn.workers.gthread import ThreadWorker

from webapp.serving import SECURITY_HEADERS

HEADER_LINES = "".join(f"{name}: {value}\r\n" for name, value in SECURITY_HEADERS).encode("latin-1")


class HeaderedSocket:
    """A client socket whose writes get the security headers after the status line."""

    def __init__(self, sock):
        self.sock = sock

    def __getattr__(self, name):
        return getattr(self.sock, name)

    def sendall(self, data):
        """Send DATA, an HTTP answer head first, with the security headers added."""
        status, crlf, rest = bytes(data).partition(b"\r\n")
        return self.sock.sendall(status + crlf + HEADER_LINES + rest if crlf else data)


class Worker(ThreadWorker):
    """gunicorn's gthread worker; its error answers carry the security headers."""

    def handle_error(self, req, client, addr, exc):
        return super().handle_error(req, HeaderedSocket(client), addr, exc)
