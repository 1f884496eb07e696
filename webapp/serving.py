"""Production servers: waitress for one process, gunicorn with threaded workers for several.

On SQLite one process is the default: the file has one writer at a time whatever the
number of processes, and a process's threads already share it well. Several workers on
SQLite work (each save still waits its turn on the write lock) but add memory, not
throughput. On PostgreSQL writers run side by side, so one worker per core is the default.
"""

import os

from webapp.db import db
from webapp.web.security import CSP

# What every answer carries, the app's own and the server's (a 400 or 431 from waitress).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


def with_security_headers(headers):
    """Return HEADERS (name, value pairs) with each security header it lacks added."""
    present = {name.lower() for name, _ in headers}
    return list(headers) + [(n, v) for n, v in SECURITY_HEADERS if n.lower() not in present]


class SecurityHeaders:
    """WSGI middleware: every answer of the app carries the security headers, whoever made it."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, with_security_headers(headers), exc_info)

        return self.app(environ, start)


def cores():
    """Return how many cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(sqlite):
    """Return the default number of worker processes for the database kind."""
    return 1 if sqlite else cores()


def close_connections():
    """Close every database connection, pooled ones too, so no worker inherits one by fork."""
    if not db.is_closed():
        db.close()
    close_all = getattr(db.obj, "close_all", None)
    if close_all is not None:
        close_all()


def waitress_server(app, host, port, threads):
    """Return a waitress server for APP whose own error answers carry the security headers."""
    import waitress
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class ServerError(ErrorTask):
        """An answer waitress writes itself: a request too large, malformed, or a crash."""

        def build_response_header(self):
            self.response_headers = with_security_headers(self.response_headers)
            return super().build_response_header()

    class Channel(HTTPChannel):
        error_task_class = ServerError

    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="Patron Desk")
    server.channel_class = Channel
    return server


def serve_waitress(app, host, port, threads):
    """Serve APP in this process with waitress."""
    server = waitress_server(app, host, port, threads)
    server.print_listen("Serving on http://{}:{}")
    server.run()


def gunicorn_options(host, port, workers, threads):
    """Return the gunicorn settings the app is served with."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # gthread, with the security headers on gunicorn's own error answers.
        "worker_class": "webapp.gunicorn_worker.Worker",
        # The app writes its own access lines (without query strings); gunicorn's would
        # repeat them with the query, which can hold a patron's name.
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "keepalive": 5,
        "graceful_timeout": 30,
        "proc_name": "patron-desk",
    }


def serve_gunicorn(app, host, port, workers, threads):
    """Serve APP with gunicorn: WORKERS processes of THREADS threads each."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            """Apply the options of gunicorn_options."""
            for key, value in gunicorn_options(host, port, workers, threads).items():
                self.cfg.set(key, value)

        def load(self):
            """Return the app the workers serve."""
            return app

    close_connections()
    Server().run()
