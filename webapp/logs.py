"""Logs: one access line per request with a request id, sign-ins, sync runs and errors.

Every line of the webapp loggers carries the request id of the request it belongs to,
so an error quoted from the 500 page leads to its traceback. What is logged is chosen
so that no password, cookie, CSRF token or patron's personal data can reach a line: the
path without its query, the staff member's sign-in name, never a form or a header.
"""

import json
import logging
import re
import secrets
import time

from flask import g, has_request_context, request
from flask_login import current_user

LOGGER = "webapp"
access_log = logging.getLogger("webapp.access")

# An incoming X-Request-Id (from a proxy) is kept only if it is a short, plain token.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# The attributes every LogRecord has; anything else was passed with extra=.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def request_id():
    """Return the id of the current request, or "-" outside a request."""
    if has_request_context():
        return getattr(g, "request_id", "-")
    return "-"


class RequestIdFilter(logging.Filter):
    """Stamp each record with the request id of the request it was logged in."""

    def filter(self, record):
        """Add request_id to RECORD unless it has one."""
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line: time, level, logger, message, fields."""

    def format(self, record):
        """Return RECORD as one line of JSON."""
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure(level="INFO", fmt="text"):
    """Give the webapp loggers one handler on standard error (once per process)."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(str(level).upper())
    handler = next((h for h in logger.handlers if getattr(h, "patron_desk", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.patron_desk = True
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return logger


def _incoming_id():
    """Return the proxy's X-Request-Id if it is a safe token, else a new id."""
    offered = request.headers.get("X-Request-Id", "")
    if SAFE_REQUEST_ID.fullmatch(offered):
        return offered
    return secrets.token_hex(8)


def _staff():
    """Return the signed-in staff member's sign-in name, or "-"."""
    try:
        return current_user.name if current_user.is_authenticated else "-"
    except Exception:  # a failed session load must not stop the access line
        return "-"


def init_app(app):
    """Configure logging and log one line per request; expose the request id to templates."""
    configure(app.config.get("LOG_LEVEL", "INFO"), app.config.get("LOG_FORMAT", "text"))
    app.jinja_env.globals["request_id"] = request_id

    @app.before_request
    def _start():
        """Give the request its id and start its clock."""
        g.request_id = _incoming_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def _access(response):
        """Send the request id back and write the access line."""
        response.headers["X-Request-Id"] = request_id()
        started = getattr(g, "request_started", None)
        ms = round((time.perf_counter() - started) * 1000, 1) if started else 0.0
        fields = {"method": request.method, "path": request.path, "status": response.status_code,
                  "ms": ms, "staff": _staff(), "address": request.remote_addr or "-"}
        access_log.info("%(method)s %(path)s %(status)s %(ms)s ms staff=%(staff)s "
                        "address=%(address)s", fields, extra=fields)
        return response
