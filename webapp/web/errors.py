"""Error pages, as a whole page or as a fragment for an HTMX request."""

from flask import g
from flask_wtf.csrf import CSRFError
from peewee import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.services import Forbidden, NotFound
from webapp.services.permissions import roles_granting
from webapp.web.htmx import render

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Reload the page and try again."),
    401: ("Sign in required", "Sign in to continue."),
    403: ("Not allowed", "Your account does not have the permission this needs."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    409: ("Edit conflict", "Someone else changed this record while you were editing it."),
    413: ("Too large", "The file is larger than this library accepts."),
    422: ("Not saved", "Some values need correcting."),
    429: ("Too many attempts", "Wait a few minutes, then try again."),
    503: ("Not saved", "The database is full: it has no space left, so nothing was changed. Tell "
          "your system administrator; try again once space has been freed."),
    500: ("Something went wrong", "Nothing was changed. Try again; if it keeps happening, "
          "tell your system administrator."),
}


# SQLite has one writer: a save waits for it (busy_timeout), and past that wait says so.
BUSY = ("The database is busy: a long synchronization is being written, so nothing was changed. "
        "Try again in a minute.")


def render_error(code, detail=None, title=None):
    """Render the error page (or fragment) for CODE; TITLE and DETAIL replace the usual words."""
    usual, message = MESSAGES.get(code, (f"Error {code}", ""))
    title = title or usual
    missing = getattr(g, "missing_permission", None)
    context = {
        "code": code,
        "title": title,
        "message": detail or message,
        "missing_permission": missing,
        "granting_roles": roles_granting(missing) if missing else [],
    }
    return render("errors/error.html", "errors/_error.html", code, **context)


def init_app(app):
    """Register the error handlers."""

    @app.errorhandler(HTTPException)
    def http_error(exc):
        detail = exc.description if exc.code in (400, 403, 404, 422) and _custom(exc) else None
        return render_error(exc.code or 500, detail)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(
            400, "The form expired or did not come from this site. Reload the page and try again."
        )

    @app.errorhandler(Forbidden)
    def forbidden(exc):
        return render_error(403, str(exc))

    @app.errorhandler(NotFound)
    def not_found(exc):
        return render_error(404, str(exc))

    @app.errorhandler(OperationalError)
    def database_error(exc):
        """Answer 503 for a full or a busy database; let any other database error be a 500."""
        if disk_full(exc):
            app.logger.error("database full: %s", exc)
            return render_error(503)
        if "database is locked" in str(exc):
            app.logger.error("database busy beyond the wait for it: %s", exc)
            return render_error(503, BUSY)
        raise exc

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        return render_error(500)


def disk_full(exc):
    """Tell whether a database error says that its disk (or SQLite's page limit) is full.

    SQLite rolls a transaction back itself when the disk fills, so the ROLLBACK that
    follows fails too: the disk-full error is then the context of the one raised.
    """
    while exc is not None:
        text = str(exc).lower()
        if "disk is full" in text or "no space left" in text or type(exc).__name__ == "DiskFull":
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _custom(exc):
    """Tell whether an HTTPException carries a description written by our own code."""
    return exc.description != type(exc).description
