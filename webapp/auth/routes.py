"""Sign in, sign out, and the home page."""

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from webapp.auth.forms import SignInForm
from webapp.services import auth
from webapp.services.permissions import permissions_of
from webapp.web.security import StaffMember, may_sign_in, permission_required, public_route

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "The identifier or password is not right, or this account cannot sign in here."


def _safe_next(target):
    """Return TARGET if it is a path on this site, else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public_route
def sign_in():
    """Sign a staff member in with primary identifier and password."""
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = SignInForm()
    error = None
    status = 200
    if form.validate_on_submit():
        config = current_app.config
        try:
            user = auth.authenticate(
                form.identifier.data,
                form.password.data,
                request.remote_addr or "",
                max_account=config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"],
                max_address=config["SIGNIN_MAX_FAILURES_PER_ADDRESS"],
                window_minutes=config["SIGNIN_WINDOW_MINUTES"],
                may_sign_in=may_sign_in,
            )
        except auth.Throttled:
            user, status = None, 429
            error = "Too many failed sign-ins. Wait a few minutes, then try again."
        if user is not None:
            # A new session at sign-in: nothing of the anonymous session carries over.
            session.clear()
            login_user(StaffMember(user, permissions_of(user)), remember=False)
            session["seen"] = int(time.time())
            return redirect(_safe_next(request.args.get("next")) or url_for("index"))
        if error is None:
            error, status = GENERIC_FAILURE, 401
    elif request.method == "POST":
        error, status = GENERIC_FAILURE, 401
    return render_template("auth/sign_in.html", form=form, error=error), status


@bp.route("/sign-out", methods=["POST"])
@permission_required(None)
def sign_out():
    """Sign out and end every copy of this session."""
    auth.end_sessions(current_user.user)
    auth.log(current_user.name, request.remote_addr or "", "sign-out", True)
    logout_user()
    session.clear()
    return redirect(url_for("auth.sign_in"))


@permission_required(None)
def home():
    """Send a staff member to the first page their roles allow."""
    if current_user.can("users.view"):
        return redirect(url_for("users.search"))
    if current_user.can("desk.use"):
        return redirect(url_for("desk.index"))
    return render_template("home.html")


@bp.route("/healthz")
@public_route
def healthz():
    """Answer that the app is up (monitoring, and the benchmark's trivial route)."""
    return "ok", 200, {"Content-Type": "text/plain"}
