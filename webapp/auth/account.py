"""The signed-in staff member's own account: where they work, and why they cannot do something."""

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from webapp.auth.routes import bp, safe_next
from webapp.services import roles as role_service
from webapp.web import permission_required
from webapp.web.security import LIBRARY_KEY


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
