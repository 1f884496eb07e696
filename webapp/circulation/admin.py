"""Admin › Items (find, add, edit) and Admin › Loan policies; both need system.admin."""

from flask import redirect, request, url_for

from webapp.circulation.forms import item_values, item_values_of, policy_values, policy_values_of
from webapp.circulation.routes import bp
from webapp.services import ValidationError, circulation, fields
from webapp.web import current_actor, hx_headers, permission_required, render, wants_fragment


def _go(target):
    """Send the browser to TARGET after a save: HX-Redirect for htmx, else 303."""
    if wants_fragment():
        return hx_headers(("", 204), redirect=target)
    return redirect(target, 303)


@bp.route("/admin/items")
@permission_required("system.admin")
def items():
    """Find items by barcode or title."""
    query = request.args.get("q", "").strip()
    found, more = circulation.search_items(query)
    return render("circulation/items.html", "circulation/_item_results.html", query=query,
                  found=found, more=more)


def _item_form(item=None, values=None, errors=None, status=200):
    """Render the add or edit item page with VALUES and ERRORS."""
    values = values or (item_values_of(item) if item else {"library": ""})
    return render("circulation/item.html", "circulation/_item_form.html", status, item=item,
                  values=values, errors=errors or {}, libraries=circulation.library_options(),
                  statuses=circulation.EDITABLE_STATUSES)


@bp.route("/admin/items/new")
@permission_required("system.admin")
def new_item():
    """Show the form to add an item."""
    return _item_form()


@bp.route("/admin/items/new", methods=["POST"])
@permission_required("system.admin")
def add_item():
    """Add the item; the form again with the errors beside the fields (422)."""
    values = item_values(request.form)
    try:
        item = circulation.add_item(current_actor(), values)
    except ValidationError as exc:
        return _item_form(values=values, errors=exc.errors, status=422)
    return _go(url_for("circulation.items", q=item.barcode))


@bp.route("/admin/items/<int:item_id>")
@permission_required("system.admin")
def item(item_id):
    """Show the form to edit an item."""
    return _item_form(circulation.get_item(item_id))


@bp.route("/admin/items/<int:item_id>", methods=["POST"])
@permission_required("system.admin")
def edit_item(item_id):
    """Save the item; the form again with the errors beside the fields (422)."""
    found = circulation.get_item(item_id)
    values = item_values(request.form)
    try:
        circulation.edit_item(current_actor(), found.id, values)
    except ValidationError as exc:
        return _item_form(found, values, exc.errors, 422)
    return _go(url_for("circulation.items", q=values["barcode"]))


def _policies(values=None, errors=None, status=200, editing=None):
    """Render the Loan policies page: the list and the form (a new policy, or EDITING)."""
    if values is None:
        values = policy_values_of(editing)
    return render("circulation/policies.html", "circulation/_policy_form.html", status,
                  policies=circulation.list_policies(), values=values, errors=errors or {},
                  editing=editing, libraries=circulation.library_options(), user_groups=fields.USER_GROUPS,
                  numbers=circulation.POLICY_NUMBERS, is_default=circulation.is_default)


@bp.route("/admin/loan-policies")
@permission_required("system.admin")
def policies():
    """List the loan policies with a form to add one."""
    return _policies()


@bp.route("/admin/loan-policies", methods=["POST"])
@permission_required("system.admin")
def add_policy():
    """Add a loan policy; the form again with the errors (422)."""
    values = policy_values(request.form)
    try:
        circulation.save_policy(current_actor(), values)
    except ValidationError as exc:
        return _policies(values, exc.errors, 422)
    return _go(url_for("circulation.policies"))


@bp.route("/admin/loan-policies/<int:policy_id>")
@permission_required("system.admin")
def policy(policy_id):
    """Show a loan policy's form."""
    return _policies(editing=circulation.get_policy(policy_id))


@bp.route("/admin/loan-policies/<int:policy_id>", methods=["POST"])
@permission_required("system.admin")
def save_policy(policy_id):
    """Save a loan policy; the form again with the errors (422)."""
    editing = circulation.get_policy(policy_id)
    values = policy_values(request.form)
    try:
        circulation.save_policy(current_actor(), values, editing.id)
    except ValidationError as exc:
        return _policies(values, exc.errors, 422, editing)
    return _go(url_for("circulation.policies"))


@bp.route("/admin/loan-policies/<int:policy_id>/delete", methods=["POST"])
@permission_required("system.admin")
def delete_policy(policy_id):
    """Delete a loan policy (not the default)."""
    editing = circulation.get_policy(policy_id)
    try:
        circulation.delete_policy(current_actor(), editing.id)
    except ValidationError as exc:
        return _policies(None, exc.errors, 422, editing)
    return _go(url_for("circulation.policies"))
