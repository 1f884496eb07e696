"""User search: the results page behind the persistent search box."""

from flask import render_template, request

from webapp.security import permission_required
from webapp.services import search as user_search
from webapp.users.routes import bp


@bp.route("/")
@permission_required("users.view")
def search():
    """Find users by name, identifier or email."""
    query = request.args.get("q", "").strip()
    results = user_search.simple_search(query) if query else []
    return render_template("users/search.html", query=query, results=results)
