"""Fulfillment › Checkout/Checkin › Manage Patron Services: find a patron, Edit User Info."""

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from webapp.desk.circulation import page_section
from webapp.desk.forms import QuickForm
from webapp.services import EditConflict, NotFound, ValidationError, fields
from webapp.services import desk as desk_service
from webapp.services import users as user_service
from webapp.services.users import get_user
from webapp.web import (
    conflict_rows,
    current_actor,
    form_version,
    hx_headers,
    loaded_values,
    own_edits,
    permission_required,
    render,
    wants_fragment,
)
from webapp.web.ids import as_id

bp = Blueprint("desk", __name__, url_prefix="/desk")


def _patron_context(user, mode="view", form=None, errors=None, conflict=None, focus=None,
                    loaded=None, circulation=None):
    """Return what the patron panel templates need.

    LOADED is what the quick form's inputs held when it was first shown: after an edit
    conflict only the staff member's own changes from it are applied again.
    """
    if mode == "edit" and not loaded:
        loaded = (QuickForm.from_user(user) if conflict else form).loaded()
    return {
        "loaded": loaded or {},
        "user": user,
        "summary": desk_service.patron_summary(user),
        "mode": mode,
        "form": form,
        "errors": errors or {},
        "conflict": conflict,
        "focus": focus,
        "address_labels": fields.SEGMENT_FIELDS["addresses"],
        "libraries": user_service.library_choices() if mode == "edit" else [],
        "circulation": circulation or page_section(user, request.args),
    }


def _page(status=200, query="", lookup=None, missing_patron=False, user=None, **panel):
    """Render the whole Patron Services page, or its workspace for an htmx request."""
    context = {"query": query, "lookup": lookup, "missing_patron": missing_patron, "user": None}
    if user is not None:
        context.update(_patron_context(user, **panel))
    return render("desk/index.html", "desk/_workspace.html", status, **context)


def patron_page(user, status=200, circulation=None):
    """Render the whole Patron Services page of USER, its loans section as CIRCULATION says."""
    return _page(status, user=user, circulation=circulation)


def _panel(user, status=200, **panel):
    """Answer the patron panel (summary or quick form), or the whole page without htmx."""
    if not wants_fragment():
        return _page(status, user=user, **panel)
    return render("desk/index.html", "desk/_panel.html", status, **_patron_context(user, **panel))


@bp.route("/")
@permission_required("desk.use")
def index():
    """Show the Patron Services page; q= finds a patron, patron= opens one."""
    patron_id = request.args.get("patron", "").strip()
    if patron_id:
        try:
            user = get_user(as_id(patron_id)) if as_id(patron_id) else None
        except NotFound:
            user = None
        if user is None:
            return _page(404, missing_patron=True)
        return _page(user=user)
    query = request.args.get("q", "").strip()
    lookup = desk_service.find_patron(query) if query else None
    if lookup is not None and lookup.patron is not None:
        target = url_for("desk.index", patron=lookup.patron.id)
        if not wants_fragment():
            return redirect(target)
        return hx_headers(_page(user=lookup.patron), push_url=target)
    return _page(query=query, lookup=lookup)


@bp.route("/patrons/<int:user_id>/summary")
@permission_required("desk.use")
def summary(user_id):
    """Show the patron's summary again in place of the quick form (Cancel)."""
    if not wants_fragment():
        return redirect(url_for("desk.index", patron=user_id))
    return _panel(get_user(user_id), focus="summary")


@bp.route("/patrons/<int:user_id>/edit")
@permission_required("desk.use", "users.edit")
def edit(user_id):
    """Edit User Info: swap the summary for the quick form."""
    user = get_user(user_id)
    user_service.require_edit(current_actor(), user)
    form = QuickForm.from_user(user)
    return _panel(user, mode="edit", form=form, focus=form.slots[0].name(form.slots[0].fields[0]))


@bp.route("/patrons/<int:user_id>", methods=["POST"])
@permission_required("desk.use", "users.edit")
def update(user_id):
    """Update User: store the quick form through the user service; 422 or 409 in place."""
    version = form_version(request.form)
    user = get_user(user_id)
    form = QuickForm.from_request(user, request.form)
    try:
        saved = user_service.save_user(user_id, version=version, actor=current_actor(),
                                       fields=form.fields, changes=form.changes())
    except ValidationError as exc:
        return _panel(user, 422, mode="edit", form=form, errors=exc.errors,
                      focus=next(iter(exc.errors)), loaded=loaded_values(request.form))
    except EditConflict as exc:
        current = exc.user
        loaded = loaded_values(request.form)
        # Only what this staff member changed goes over the record as it is now.
        mine = MultiDict(own_edits(request.form, loaded)) if loaded else request.form
        form = QuickForm.from_request(current, mine)
        posted = QuickForm.from_request(current, request.form)
        form.note_text, form.note_show = posted.note_text, posted.note_show
        conflict = conflict_rows(current, form.differences(current))
        return _panel(current, 409, mode="edit", form=form, conflict=conflict, focus="conflict")
    if saved.version == version:
        flash("Nothing to update: no value was changed.", "success")
    else:
        flash(f"Updated {saved.display_name}.", "success")
    if wants_fragment():
        return _panel(saved, focus="summary")
    return redirect(url_for("desk.index", patron=user_id), 303)
