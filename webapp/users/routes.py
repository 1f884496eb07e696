"""The User Details page."""

from flask import Blueprint, render_template

from webapp.security import permission_required
from webapp.services.users import get_user

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.route("/<int:user_id>")
@permission_required("users.view")
def details(user_id):
    """Show a user's record."""
    user = get_user(user_id)
    return render_template("users/details.html", user=user)
