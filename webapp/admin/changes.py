"""Admin › Changes: who changed the library's configuration, what, when, old and new values."""

from flask import request

from webapp.admin.routes import bp
from webapp.services import config_changes
from webapp.services.fields import as_id
from webapp.web import permission_required, render


@bp.route("/changes")
@permission_required("system.admin")
def changes():
    """List the configuration changes, newest first, of one kind or all, a page at a time."""
    kind, page_text = request.args.get("kind", ""), request.args.get("page", "1")
    page, errors = as_id(page_text), {}
    if kind and kind not in config_changes.KINDS:
        errors["kind"] = "Kind: choose one from the list."
    if page is None:
        errors["page"] = "Page: give a whole number from 1."
    rows, more = [], False
    if not errors:
        rows, more = config_changes.recent(kind or None, page=page)
    return render("admin/changes.html", "admin/_changes.html", 400 if errors else 200,
                  changes=rows, more=more, page_number=page or 1, kind=kind if not errors.get("kind") else "",
                  kinds=config_changes.KINDS, errors=errors)
