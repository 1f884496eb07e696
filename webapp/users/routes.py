"""User search and the User Details page."""

from flask import Blueprint, render_template, request

from webapp.security import permission_required
from webapp.services import search as user_search
from webapp.services.users import get_user

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.route("/")
@permission_required("users.view")
def search():
    """Find users by name, identifier or email."""
    query = request.args.get("q", "").strip()
    results = user_search.simple_search(query) if query else []
    return render_template("users/search.html", query=query, results=results)


@bp.route("/<int:user_id>")
@permission_required("users.view")
def details(user_id):
    """Show a user's record."""
    user = get_user(user_id)
    return render_template("users/details.html", user=user)
