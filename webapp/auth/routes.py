"""Sign in, sign out, and the home page."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.auth.forms import SignInForm
from webapp.services import auth
from webapp.services.directory import DirectorySettings, DirectoryUnavailable
from webapp.services.sso import SsoSettings
from webapp.web.security import end_session, may_sign_in, permission_required, public_route, start_session

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "The identifier or password is not right, or this account cannot sign in here."
NOT_ANSWERING = "The directory is not answering; try again, or ask an administrator."

# A wrong LDAP_* or SSO_* setting stops the app at start, not at the first sign-in.
bp.record_once(lambda state: (DirectorySettings.from_config(state.app.config),
                              SsoSettings.from_config(state.app.config)))


def safe_next(target):
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
    status, headers = 200, {}
    if form.validate_on_submit():
        config = current_app.config
        try:
            user = auth.authenticate(
                form.identifier.data,
                form.password.data,
                request.remote_addr or "",
                limits=auth.Limits.from_config(config),
                may_sign_in=may_sign_in,
                directory=DirectorySettings.from_config(config),
            )
        except auth.Throttled as throttled:
            user, status = None, 429
            headers["Retry-After"] = str(throttled.retry_after)
            error = f"Too many failed sign-ins from here. Try again in {wait_text(throttled.retry_after)}."
        except DirectoryUnavailable:
            current_app.logger.warning("sign-in: the directory is not answering", exc_info=True)
            user, status, error = None, 503, NOT_ANSWERING
        if user is not None:
            start_session(user)
            return redirect(safe_next(request.args.get("next")) or url_for("index"))
        if error is None:
            error, status = GENERIC_FAILURE, 401
    elif request.method == "POST":
        error, status = GENERIC_FAILURE, 401
    return render_template("auth/sign_in.html", form=form, error=error), status, headers


def wait_text(seconds):
    """Return SECONDS as the person waiting reads them: "40 seconds", "2 minutes"."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@bp.route("/sign-in/sso")
@public_route
def single_sign_on():
    """Sign in the user whom the trusted reverse proxy names in the SSO_HEADER."""
    settings = SsoSettings.from_config(current_app.config)
    if not settings.header:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    user = auth.authenticate_by_header(request.headers.get(settings.header),
                                       request.remote_addr or "", settings, may_sign_in=may_sign_in)
    if user is None:
        # From an untrusted address the header is ignored; the sign-in log says so.
        return render_template("auth/sign_in.html", form=SignInForm(), error=GENERIC_FAILURE), 401
    start_session(user)
    return redirect(safe_next(request.args.get("next")) or url_for("index"))


@bp.route("/sign-out", methods=["POST"])
@permission_required(None)
def sign_out():
    """Sign out of this session (every copy of its cookie); the account's other sessions stay."""
    auth.log(current_user.name, request.remote_addr or "", "sign-out", True)
    end_session()
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
