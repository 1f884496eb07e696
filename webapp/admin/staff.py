"""Admin › Staff: every account holding a role, several student workers at once, and Who can…"""

from flask import flash, redirect, request, url_for

from webapp.admin.forms import BULK_ACTIONS, parse_bulk, parse_staff_filters
from webapp.admin.routes import bp
from webapp.services import Forbidden, NotFound, ValidationError
from webapp.services import roles as role_service
from webapp.services.libraries import list_libraries
from webapp.services.permissions import PERMISSIONS, ROLES
from webapp.web import current_actor, permission_required, render


def _staff_page(filters, status=200, **extra):
    """Render Admin › Staff for FILTERS (the table alone for an htmx request)."""
    context = {"filters": filters, "libraries": list_libraries(), "actions": BULK_ACTIONS,
               "rows": role_service.staff_overview(filters.role, filters.library,
                                                   filters.expiring),
               "problem": None, "confirm": None}
    context.update(extra)
    return render("admin/staff.html", "admin/_staff_table.html", status, **context)


@bp.route("/staff")
@permission_required("users.admin")
def staff():
    """List every account holding a role, filtered by role, library and expiring soon."""
    return _staff_page(parse_staff_filters(request.args, ROLES))


@bp.route("/staff", methods=["POST"])
@permission_required("users.admin")
def staff_bulk():
    """Extend or remove the selected roles at once, after one confirmation."""
    filters = parse_staff_filters(request.form, ROLES)
    bulk = parse_bulk(request.form)
    if bulk is None or not bulk.assignment_ids:
        return _staff_page(filters, 422, problem="Select at least one role, then an action.")
    if not bulk.confirmed:
        chosen = set(bulk.assignment_ids)
        selected = [h for h in role_service.staff_overview() if h.assignment_id in chosen]
        return _staff_page(filters, confirm={"action": bulk.action, "selected": selected})
    try:
        if bulk.action == "extend":
            done = role_service.extend_to_next_semester(bulk.assignment_ids, actor=current_actor())
            message = f"{done} role(s) now run to the end of next semester."
        else:
            done = role_service.remove_roles(bulk.assignment_ids, actor=current_actor())
            message = f"{done} role(s) removed; those accounts' sessions have ended."
    except (Forbidden, NotFound, ValidationError) as exc:
        status = 403 if isinstance(exc, Forbidden) else 422
        return _staff_page(filters, status, problem=str(exc))
    flash(message, "success")
    return redirect(url_for("admin.staff", **filters.query()), code=303)


@bp.route("/who-can")
@permission_required("users.admin")
def who_can():
    """Show every account that holds a permission now, and through which role."""
    permission = request.args.get("permission", "")
    holders = role_service.who_can(permission) if permission in PERMISSIONS else None
    return render("admin/who_can.html", "admin/_who_can.html", permission=permission,
                  holders=holders)
