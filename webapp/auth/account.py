"""The signed-in staff member's own account: where they work, their sessions, their password."""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from webapp.auth.routes import bp, safe_next
from webapp.services import ValidationError, auth, sessions
from webapp.services import roles as role_service
from webapp.web import current_actor, permission_required
from webapp.web.password_forms import ChangePasswordForm
from webapp.web.security import LIBRARY_KEY, end_session, start_session


@bp.route("/currently-at", methods=["POST"])
@permission_required(None)
def currently_at():
    """Remember the library the staff member is working at, for this session."""
    chosen = request.form.get("library", "")
    places = {str(lib.id): lib for lib in current_user.workplaces}
    if chosen not in places:
        abort(400, "Choose one of the libraries you work at.")
    session[LIBRARY_KEY] = places[chosen].id
    return redirect(safe_next(request.form.get("next")) or url_for("index"), code=303)


@bp.route("/why")
@permission_required(None)
def why():
    """Show the staff member their roles, which role gives which menu and button, and whom to ask."""
    user = current_user.user
    return render_template(
        "auth/why.html",
        holdings=role_service.roles_of(user.id),
        access=role_service.access_of(user, current_user.library),
        contact=current_app.config["USER_ADMIN_CONTACT"],
    )


@bp.route("/account/sessions")
@permission_required(None)
def account_sessions():
    """List the staff member's open sessions, this one marked."""
    idle = current_app.config["IDLE_TIMEOUT_MINUTES"]
    return render_template("auth/sessions.html",
                           open_sessions=sessions.open_sessions(current_user.user, idle_minutes=idle))


@bp.route("/account/sessions/end", methods=["POST"])
@permission_required(None)
def sign_out_everywhere():
    """End every session of the account, this one included."""
    auth.log(current_user.name, request.remote_addr or "", "sign-out", True, "everywhere")
    auth.end_sessions(current_user.user)
    end_session()
    flash("You are signed out everywhere.", "success")
    return redirect(url_for("auth.sign_in"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@permission_required(None)
def account_password():
    """Change one's own password, which asks for the current one; the other sessions end."""
    form = ChangePasswordForm()
    errors, status = {}, 200
    if current_user.user.is_external:
        return render_template("auth/password.html", form=form, errors=errors)
    if form.validate_on_submit():
        try:
            user = auth.change_own_password(
                current_actor(), form.current_password.data, form.password.data,
                request.remote_addr or "", limits=auth.Limits.from_config(current_app.config))
        except ValidationError as refused:
            errors, status = refused.errors, 422
        except auth.Throttled as throttled:
            return render_template("auth/password.html", form=form, errors={
                "current_password": "Too many wrong passwords: wait, then try again."}), 429, {
                "Retry-After": str(throttled.retry_after)}
        else:
            library = session.get(LIBRARY_KEY)
            start_session(user)  # a fresh session here; every other one has ended
            if library is not None:
                session[LIBRARY_KEY] = library
            flash("Password changed. Your other sessions have ended.", "success")
            return redirect(url_for("auth.account_password"), code=303)
    elif request.method == "POST":
        errors, status = form.problems(), 422
    return render_template("auth/password.html", form=form, errors=errors), status
