"""Administration pages."""

from flask import Blueprint, render_template

from webapp.models import Library
from webapp.security import permission_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@permission_required("system.admin")
def index():
    """Show the libraries and what an administrator can do."""
    return render_template("admin/index.html", libraries=list(Library.select().order_by(Library.name)))
