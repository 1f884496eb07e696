"""The User Details page: tabs, Edit and Save, Open for Update, segments, password, account type."""

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from webapp.services import EditConflict, ValidationError, fields, history
from webapp.services import roles as role_service
from webapp.services import users as user_service
from webapp.services.fields import SEGMENT_FIELDS
from webapp.services.permissions import may_edit
from webapp.services.users import SegmentChange, get_user
from webapp.users.forms import AccountTypeForm, AddUserForm
from webapp.web import (
    conflict_rows,
    current_actor,
    form_version,
    loaded_values,
    own_edits,
    permission_required,
    render,
    segment_values,
    wants_fragment,
)
from webapp.web.password_forms import SetPasswordForm

bp = Blueprint("users", __name__, url_prefix="/users")

EXTERNAL_SIGN_IN = (" It has no password here: it signs in through the library's directory or"
                    " single sign-on, while it holds an active role.")

TABS = {
    "general": "General",
    "contact": "Contact",
    "identifiers": "Identifiers",
    "notes": "Notes",
    "blocks": "Blocks",
    "roles": "Roles",
    "history": "History",
}
# The segment kinds each tab shows.
TAB_KINDS = {
    "contact": ("emails", "phones", "addresses"),
    "identifiers": ("identifiers",),
    "notes": ("notes",),
    "blocks": ("blocks",),
}


def _tabs_for(user):
    # A public record shows Roles to whoever may give it its first role.
    shown = user.record_type == "staff" or current_actor().can("users.admin")
    return {k: v for k, v in TABS.items() if k != "roles" or shown}


def opened_state(user_id):
    """Return how this staff member opened the user for update ('temporary'/'protected') or None."""
    return session.get("opened", {}).get(str(user_id))


def _set_opened(user_id, state):
    opened = dict(session.get("opened", {}))
    if state is None:
        opened.pop(str(user_id), None)
    else:
        opened[str(user_id)] = state
    session["opened"] = opened


def _context(user, tab, **extra):
    """Return what the details templates need for USER on TAB."""
    context = {
        "user": user,
        "tab": tab,
        "tabs": _tabs_for(user),
        "provenance": user_service.provenance(user),
        "opened": opened_state(user.id),
        "mode": "view",
        "errors": {},
        "values": None,
        "conflict": None,
        "libraries": user_service.library_choices(),
    }
    if tab in TAB_KINDS:
        context["kinds"] = TAB_KINDS[tab]
        context["segments"] = {kind: user_service.segments(user, kind) for kind in TAB_KINDS[tab]}
    if tab == "history":
        context["history"] = history.for_user(user)
    if tab == "roles":
        context["holdings"] = role_service.roles_of(user.id)
        context.update(role_service.tab_choices(current_actor()))
    context.update(extra)
    if context["values"] is None:
        context["values"] = user_service.form_values(user)
    if context["mode"] == "edit" and "loaded" not in context:
        context["loaded"] = _editable_values(user, context["opened"])
    return context


def _editable_values(user, opened):
    """Return the values of the General inputs the form shows enabled, as it loads them."""
    locked = user.is_external and not opened
    return {f: v for f, v in user_service.form_values(user).items()
            if not (locked and f in fields.SOURCE_MANAGED)}


def render_tab(user, tab, status=200, **extra):
    """Render the whole page, or for an HTMX request the tabs area and the record's header."""
    return render("users/details.html", "users/_tabs_fragment.html", status,
                  **_context(user, tab, **extra))


def _version():
    return form_version(request.form)


@bp.route("/<int:user_id>")
@permission_required("users.view")
def details(user_id):
    """Show a user's record on the General tab; edit=1 opens it for editing."""
    user = get_user(user_id)
    if request.args.get("edit") and may_edit(current_actor(), user):
        return render_tab(user, "general", mode="edit")
    return render_tab(user, "general")


@bp.route("/<int:user_id>/<tab>")
@permission_required("users.view")
def tab(user_id, tab):
    """Show one tab of a user's record."""
    user = get_user(user_id)
    if tab not in _tabs_for(user):
        abort(404, "There is no such tab for this user.")
    return render_tab(user, tab)


@bp.route("/<int:user_id>/general/edit")
@permission_required("users.edit")
def edit_general(user_id):
    """Swap the read-only General fields for inputs."""
    user = get_user(user_id)
    user_service.require_edit(current_actor(), user)
    return render_tab(user, "general", mode="edit")


@bp.route("/<int:user_id>/general", methods=["POST"])
@permission_required("users.edit")
def save_general(user_id):
    """Save the General fields; 422 with errors in place, 409 on an edit conflict."""
    user = get_user(user_id)
    submitted = {f: request.form.get(f, "") for f in fields.GENERAL_FIELDS
                 if f in request.form or f in fields.BOOLEAN_FIELDS}
    if user.is_external and not opened_state(user_id):
        # Disabled inputs are not sent; never read a missing source field as "cleared".
        submitted = {f: v for f, v in submitted.items()
                     if f in request.form or f not in fields.SOURCE_MANAGED}
    opened = opened_state(user_id)
    try:
        saved = user_service.save_user(user_id, version=_version(), actor=current_actor(),
                                       fields=submitted, opened=opened)
    except ValidationError as exc:
        values = dict(user_service.form_values(user), **submitted)
        return render_tab(user, "general", 422, mode="edit", errors=exc.errors, values=values,
                       loaded=loaded_values(request.form) or _editable_values(user, opened))
    except EditConflict:
        current = get_user(user_id)
        loaded = loaded_values(request.form)
        mine = own_edits(request.form, loaded) if loaded else submitted
        mine = {f: v for f, v in mine.items() if f in submitted}
        values = dict(user_service.form_values(current), **mine)
        conflict = _conflict_rows(current, mine)
        return render_tab(current, "general", 409, mode="edit", values=values, conflict=conflict)
    _set_opened(user_id, None)
    flash("Saved.", "success")
    if wants_fragment():
        return render_tab(saved, "general")
    return redirect(url_for("users.details", user_id=user_id))


def _conflict_rows(current, submitted):
    """Return (label, their value, your value) for each field the two versions disagree on."""
    theirs = user_service.form_values(current)
    rows = [(fields.LABELS[field], theirs.get(field, ""), mine)
            for field, mine in submitted.items() if str(theirs.get(field, "")) != str(mine)]
    return conflict_rows(current, rows)


@bp.route("/<int:user_id>/open", methods=["GET"])
@permission_required("users.edit")
def open_question(user_id):
    """Ask whether to protect the changes from the next synchronization (no-JavaScript page)."""
    user = get_user(user_id)
    user_service.open_for_update(user_id, actor=current_actor(), protect=False)
    return render_template("users/open.html", user=user)


@bp.route("/<int:user_id>/open", methods=["POST"])
@permission_required("users.edit")
def open_for_update(user_id):
    """Open an external account for update with the answer Yes (protect) or No (temporary)."""
    answer = request.form.get("protect")
    if answer not in ("yes", "no"):
        abort(400, "Answer Yes or No.")
    state = user_service.open_for_update(user_id, actor=current_actor(), protect=answer == "yes")
    _set_opened(user_id, state)
    user = get_user(user_id)
    if wants_fragment():
        return render_tab(user, "general", mode="edit")
    return redirect(url_for("users.edit_general", user_id=user_id))


@bp.route("/<int:user_id>/general/cancel", methods=["POST"])
@permission_required("users.view")
def cancel_edit(user_id):
    """Leave edit mode without saving; an opened record is closed again."""
    _set_opened(user_id, None)
    user = get_user(user_id)
    if wants_fragment():
        return render_tab(user, "general")
    return redirect(url_for("users.details", user_id=user_id))


@bp.route("/<int:user_id>/release/<field>", methods=["POST"])
@permission_required("users.edit")
def release(user_id, field):
    """Give a protected or temporary field back to the source's value."""
    if field not in fields.GENERAL_FIELDS:
        abort(404, "There is no such field.")
    try:
        user_service.release_field(user_id, field, version=_version(), actor=current_actor())
    except EditConflict:
        flash("Someone else changed this record meanwhile; nothing was released. Look again.",
              "error")
        user = get_user(user_id)
        return render_tab(user, "general", 409)
    flash(f"{fields.LABELS[field]} holds the source's value again.", "success")
    user = get_user(user_id)
    if wants_fragment():
        return render_tab(user, "general")
    return redirect(url_for("users.details", user_id=user_id))


def _segment_tab(kind):
    return next(t for t, kinds in TAB_KINDS.items() if kind in kinds)


def _check_kind(kind):
    if kind not in SEGMENT_FIELDS:
        abort(404, "There is no such part of a user record.")


def _save_segment(user_id, change, **render_extra):
    """Apply one segment change through the user service and answer page or fragment."""
    user = get_user(user_id)
    tab = _segment_tab(change.kind)
    try:
        user_service.save_user(user_id, version=_version(), actor=current_actor(),
                               changes=[change], opened=opened_state(user_id))
    except ValidationError as exc:
        return render_tab(user, tab, 422, errors=exc.errors, submitted=change, **render_extra)
    except EditConflict:
        return render_tab(get_user(user_id), tab, 409, submitted=change, stale=True, **render_extra)
    flash(f"{fields.SEGMENT_LABELS[change.kind]} saved.", "success")
    if wants_fragment():
        return render_tab(get_user(user_id), tab)
    return redirect(url_for("users.tab", user_id=user_id, tab=tab))


@bp.route("/<int:user_id>/segments/<kind>", methods=["POST"])
@permission_required("users.edit")
def add_segment(user_id, kind):
    """Add an email, phone, address, identifier, note or block."""
    _check_kind(kind)
    change = SegmentChange(kind, "add", segment_values(request.form, kind, f"{kind}.new"),
                           as_external=request.form.get("as_external") == "on")
    return _save_segment(user_id, change)


@bp.route("/<int:user_id>/segments/<kind>/<int:segment_id>/edit")
@permission_required("users.edit")
def edit_segment(user_id, kind, segment_id):
    """Swap one segment's row for an inline form."""
    _check_kind(kind)
    user = get_user(user_id)
    user_service.require_edit(current_actor(), user)
    return render_tab(user, _segment_tab(kind), editing=(kind, segment_id))


@bp.route("/<int:user_id>/segments/<kind>/<int:segment_id>", methods=["POST"])
@permission_required("users.edit")
def update_segment(user_id, kind, segment_id):
    """Save one segment's inline form."""
    _check_kind(kind)
    change = SegmentChange(kind, "update", segment_values(request.form, kind, f"{kind}.{segment_id}"),
                           segment_id=segment_id)
    return _save_segment(user_id, change, editing=(kind, segment_id))


@bp.route("/<int:user_id>/segments/<kind>/<int:segment_id>/remove", methods=["POST"])
@permission_required("users.edit")
def remove_segment(user_id, kind, segment_id):
    """Remove one segment."""
    _check_kind(kind)
    return _save_segment(user_id, SegmentChange(kind, "remove", segment_id=segment_id))


@bp.route("/<int:user_id>/password", methods=["POST"])
@permission_required("users.edit")
def set_password(user_id):
    """Set or reset another internal account's password (one's own changes under Change password)."""
    user = get_user(user_id)
    form = SetPasswordForm()
    if not form.validate():
        return render_tab(user, "general", 422, password_errors=form.problems())
    try:
        user_service.set_password(user_id, form.password.data, actor=current_actor())
    except ValidationError as exc:
        return render_tab(user, "general", 422, password_errors=exc.errors)
    flash("Password set. The account's other sessions have ended.", "success")
    if wants_fragment():
        return render_tab(get_user(user_id), "general")
    return redirect(url_for("users.details", user_id=user_id))


@bp.route("/<int:user_id>/account-type", methods=["GET", "POST"])
@permission_required("users.admin")
def account_type(user_id):
    """Change the account type (internal to external or back) after confirmation."""
    user = get_user(user_id)
    to = "internal" if user.is_external else "external"
    form = AccountTypeForm()
    errors, status = {}, 200
    if form.is_submitted():
        try:
            user_service.change_account_type(
                user_id, version=_version(), actor=current_actor(), to=to,
                password=form.password.data, source=form.source.data,
                external_id=form.external_id.data,
            )
        except ValidationError as exc:
            errors, status = exc.errors, 422
        except EditConflict:
            errors, status = {"version": "Someone else changed this record meanwhile. Look again."}, 409
        else:
            flash(f"The account is {to} now. Every value was kept."
                  + (EXTERNAL_SIGN_IN if to == "external" else ""), "success")
            return redirect(url_for("users.details", user_id=user_id))
        user = get_user(user_id)
    return render_template("users/account_type.html", user=user, to=to, errors=errors,
                           form=form), status


@bp.route("/new", methods=["GET", "POST"])
@permission_required("users.edit")
def add():
    """Create an internal account, after listing possible duplicates."""
    form = AddUserForm()
    context = {"form": form, "errors": {}, "duplicates": []}
    if not form.is_submitted():
        return render_template("users/add.html", **context)
    values, identifier, email = form.values(), form.identifier_values(), form.email_values()
    duplicates = user_service.possible_duplicates(dict(values, email=email["address"]))
    if duplicates and not form.confirmed():
        context["duplicates"] = duplicates
        return render_template("users/add.html", **context), 200
    try:
        user = user_service.create_user(values, actor=current_actor(), identifier=identifier,
                                        email=email, password=form.password.data or None)
    except ValidationError as exc:
        context["errors"] = exc.errors
        return render_template("users/add.html", **context), 422
    flash(f"{user.display_name} was added.", "success")
    return redirect(url_for("users.details", user_id=user.id))
