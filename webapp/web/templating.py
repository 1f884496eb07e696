"""Template globals and filters: the field catalogue, can() and may_edit(), thousands."""

from flask_login import current_user

from webapp.services import fields
from webapp.services.permissions import PERMISSIONS, ROLES
from webapp.services.permissions import may_edit as actor_may_edit
from webapp.services.roles import ADMIN_ROLES, STUDENT_ROLE

# The catalogue as templates name it; templates read these, never a copied list.
CATALOGUE = {
    "labels": fields.LABELS,
    "source_managed": fields.SOURCE_MANAGED,
    "library_managed": fields.LIBRARY_MANAGED,
    "segment_fields": fields.SEGMENT_FIELDS,
    "segment_labels": fields.SEGMENT_LABELS,
    "type_choices": fields.TYPE_CHOICES,
    "user_groups": fields.USER_GROUPS,
    "statuses": fields.STATUSES,
    # The role table as templates name it: role -> permissions, permission -> what it allows.
    "role_permissions": ROLES,
    "permission_texts": PERMISSIONS,
    "admin_roles": ADMIN_ROLES,
    "student_role": STUDENT_ROLE,
}


def can(permission):
    """Tell whether the signed-in staff member holds PERMISSION."""
    return current_user.is_authenticated and current_user.can(permission)


def may_edit(user):
    """Tell whether the signed-in staff member may edit USER (permissions.may_edit)."""
    return current_user.is_authenticated and actor_may_edit(current_user.actor(), user)


def thousands(number):
    """Return NUMBER with a comma between thousands: 12,345."""
    return f"{number:,}"


def init_app(app):
    """Register the template globals and the thousands filter."""
    app.jinja_env.globals.update(CATALOGUE, can=can, may_edit=may_edit)
    app.jinja_env.filters["thousands"] = thousands
