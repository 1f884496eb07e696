"""Fulfillment › Checkout/Checkin › Manage Patron Services."""

from flask import Blueprint, render_template

from webapp.security import permission_required

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.route("/")
@permission_required("desk.use")
def index():
    """Show the Patron Services page: find a patron."""
    return render_template("desk/index.html")
