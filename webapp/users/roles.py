"""The Roles tab of User Details: add, change and remove roles, and Make student worker."""

from flask import abort, flash, redirect, request, url_for

from webapp.services import EditConflict, Forbidden, ValidationError
from webapp.services import roles as role_service
from webapp.services.users import get_user
from webapp.users.forms import assignment_values, parse_role_form
from webapp.users.routes import bp, render_tab
from webapp.web import current_actor, form_version, permission_required, wants_fragment


def _roles_tab(user, status=200, **extra):
    """Render the Roles tab with the form EXTRA asks for (role_form: add, change, remove…)."""
    context = {"role_form": None, "role_values": {}, "role_errors": {}, "assignment": None,
               "problem": None, "role_conflict": False}
    context.update(extra)
    return render_tab(user, "roles", status, **context)


def _posted():
    """Return the record version and the RoleForm this request posted."""
    return form_version(request.form), parse_role_form(request.form)


def _holding(user, assignment_id):
    """Return the Holding ASSIGNMENT_ID of USER, or answer 404."""
    for holding in role_service.roles_of(user.id):
        if holding.assignment_id == assignment_id:
            return holding
    abort(404, "This person holds no such role (any more).")


def _done(user_id, message):
    """Say what was done and show the Roles tab again (a redirect without JavaScript)."""
    flash(message, "success")
    if wants_fragment():
        return _roles_tab(get_user(user_id))
    return redirect(url_for("users.tab", user_id=user_id, tab="roles"), code=303)


def _attempt(user_id, posted, again, change, confirm_form=None):
    """Run CHANGE, a service call, for the POSTED form; return (its result, None) or (None, refusal).

    A refusal shows the form again (AGAIN says which, with what) and why: 422 beside the
    field, 409 with the roles as they are now, 403 with the rule; a first role on a public
    record shows the CONFIRM_FORM step instead. Nothing was changed.
    """
    try:
        if posted.errors:
            raise ValidationError(posted.errors)
        return change(), None
    except role_service.StaffRecordNeeded as exc:
        return None, _roles_tab(get_user(user_id), role_form=confirm_form, problem=str(exc),
                                role_values=posted.values)
    except ValidationError as exc:
        return None, _roles_tab(get_user(user_id), 422, role_errors=exc.errors, **again)
    except EditConflict:
        return None, _roles_tab(get_user(user_id), 409, role_conflict=True, **again)
    except Forbidden as exc:
        return None, _roles_tab(get_user(user_id), 403, problem=str(exc), **again)


@bp.route("/<int:user_id>/roles/new")
@permission_required("users.admin")
def role_new(user_id):
    """Show the form that adds a role."""
    return _roles_tab(get_user(user_id), role_form="add")


@bp.route("/<int:user_id>/roles", methods=["POST"])
@permission_required("users.admin")
def role_add(user_id):
    """Give a role; a first role on a public record asks for confirmation first."""
    version, posted = _posted()
    again = {"role_form": "add", "role_values": posted.values}
    _held, refusal = _attempt(user_id, posted, again, lambda: role_service.assign_role(
        user_id, posted.role, posted.libraries, posted.starts_on, posted.expires_on,
        actor=current_actor(), confirm_staff=posted.confirm_staff, version=version),
        confirm_form="confirm_staff")
    return refusal or _done(user_id, f"{posted.role} given.")


@bp.route("/<int:user_id>/roles/<int:assignment_id>/edit")
@permission_required("users.admin")
def role_edit(user_id, assignment_id):
    """Show the form that changes a role's libraries and dates."""
    user = get_user(user_id)
    holding = _holding(user, assignment_id)
    return _roles_tab(user, role_form="change", assignment=holding,
                      role_values=assignment_values(holding))


@bp.route("/<int:user_id>/roles/<int:assignment_id>", methods=["POST"])
@permission_required("users.admin")
def role_change(user_id, assignment_id):
    """Change a role's libraries and dates."""
    version, posted = _posted()
    holding = _holding(get_user(user_id), assignment_id)
    again = {"role_form": "change", "assignment": holding,
             "role_values": dict(posted.values, role=holding.scope.role)}
    _held, refusal = _attempt(user_id, posted, again, lambda: role_service.change_role(
        assignment_id, libraries=posted.libraries, starts_on=posted.starts_on,
        expires_on=posted.expires_on, actor=current_actor(), version=version))
    return refusal or _done(user_id, f"{holding.scope.role} changed.")


@bp.route("/<int:user_id>/roles/<int:assignment_id>/remove")
@permission_required("users.admin")
def role_remove(user_id, assignment_id):
    """Ask to confirm removing a role (and, for the last one, whether to turn the record back)."""
    user = get_user(user_id)
    return _roles_tab(user, role_form="remove", assignment=_holding(user, assignment_id))


@bp.route("/<int:user_id>/roles/<int:assignment_id>/remove", methods=["POST"])
@permission_required("users.admin")
def role_remove_confirmed(user_id, assignment_id):
    """Remove a role and end the account's sessions."""
    version, posted = _posted()
    holding = _holding(get_user(user_id), assignment_id)
    again = {"role_form": "remove", "assignment": holding}
    _user, refusal = _attempt(user_id, posted, again, lambda: role_service.remove_role(
        assignment_id, actor=current_actor(), version=version,
        revert_to_public=posted.revert_to_public))
    return refusal or _done(user_id, f"{holding.scope.role} removed; the account's sessions "
                                     "have ended.")


@bp.route("/<int:user_id>/student-worker", methods=["POST"])
@permission_required("users.admin")
def student_worker(user_id):
    """Make the user a student worker at one library until the end of the semester."""
    version, posted = _posted()

    def make():
        return role_service.make_student_worker(user_id, posted.library, actor=current_actor(),
                                                confirm_staff=posted.confirm_staff,
                                                version=version)

    held, refusal = _attempt(user_id, posted, {"role_form": "student",
                                               "role_values": posted.values},
                             make, confirm_form="confirm_student")
    if refusal:
        return refusal
    return _done(user_id, f"Student worker until {held.expires_on.isoformat()}.")
