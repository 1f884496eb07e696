"""Who is signed in, what they may do, and the headers every response carries."""

import functools

from flask import abort, current_app, g, make_response, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import UserMixin, current_user, login_user, logout_user

from webapp.extensions import login_manager
from webapp.services import sessions
from webapp.services.permissions import Actor, permissions_of, working
from webapp.web.htmx import hx_headers

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# The session key of the library a staff member chose in "Currently at".
LIBRARY_KEY = "library"


class StaffMember(UserMixin):
    """A signed-in staff account, the library it works at, and what its roles grant there."""

    def __init__(self, user, permissions, token, library=None, workplaces=()):
        self.user = user
        self.permissions = permissions
        self.token = token
        self.library = library
        self.workplaces = workplaces

    def get_id(self):
        # The signed cookie holds only the session's token: ending the row ends every copy.
        return self.token

    @property
    def session_key(self):
        return sessions.key_of(self.token)

    @property
    def name(self):
        return self.user.primary_id

    @property
    def display_name(self):
        return self.user.display_name

    def can(self, permission):
        return permission in self.permissions

    def actor(self):
        return Actor(self.user.primary_id, self.permissions, self.user.id)


def may_sign_in(user, permissions):
    """Tell whether USER may use the staff interface."""
    return (
        user is not None
        and user.record_type == "staff"
        and user.status == "active"
        and bool(permissions)
    )


@login_manager.user_loader
def load_staff_member(token):
    """Return the signed-in staff member, or None when the session ended, expired or may no longer be."""
    config = current_app.config
    found = sessions.resume(token, idle_minutes=config["IDLE_TIMEOUT_MINUTES"],
                            external_hours=config["EXTERNAL_SESSION_HOURS"])
    if found is None:
        return None
    # Read on every request: a role that expired or started today counts at once.
    now = working(found.user, session.get(LIBRARY_KEY))
    if not may_sign_in(found.user, now.permissions):
        # Deactivated or without a role (by any path, synchronization included): the
        # session ends, so it does not come back with the account.
        sessions.end(token)
        return None
    return StaffMember(found.user, now.permissions, token, now.library, now.workplaces)


@login_manager.unauthorized_handler
def unauthorized():
    """Send an anonymous visitor to sign in; an HTMX request gets HX-Redirect instead of a form."""
    target = url_for("auth.sign_in", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if request.htmx:
        return hx_headers(make_response("", 401), redirect=target)
    return redirect(target)


def current_actor():
    """Return the Actor the services act for: the signed-in staff member."""
    return current_user.actor()


def permission_required(*permissions):
    """Refuse the route (403) unless the signed-in staff member holds every one of PERMISSIONS.

    permission_required(None) asks only for a signed-in staff member.
    """
    needed = tuple(p for p in permissions if p is not None)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            missing = [p for p in needed if not current_user.can(p)]
            if missing:
                g.missing_permission = missing[0]
                abort(403)
            return view(*args, **kwargs)

        # The one declaration of what the route needs: the role x route test reads it.
        wrapped.required_permissions = frozenset(needed)
        return wrapped

    return decorator


def public_route(view):
    """Mark a route that needs no sign-in (the sign-in page)."""
    view.public = True
    return view


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app):
        # An intranet box may well serve plain HTTP; behind HTTPS the cookie never leaks.
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def start_session(user):
    """Sign USER in on a new session row: nothing of the anonymous session carries over."""
    session.clear()
    token = sessions.start(user, request.remote_addr or "", request.user_agent.string,
                           idle_minutes=current_app.config["IDLE_TIMEOUT_MINUTES"])
    login_user(StaffMember(user, permissions_of(user), token), remember=False)


def end_session():
    """Sign the current staff member out of this session only."""
    sessions.end(current_user.token)
    logout_user()
    session.clear()


def init_app(app):
    """Install the session and security headers (the idle timeout is the session row's)."""
    app.session_interface = SessionInterface()

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if current_user.is_authenticated and request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        if request.endpoint and request.endpoint != "static":
            response.vary.add("HX-Request")
        return response
