"""Staff accounts and their roles."""

from webapp.db import db
from webapp.models import RoleAssignment, RoleScope, User
from webapp.services import ValidationError, clock, settings
from webapp.services.clock import now
from webapp.services.passwords import hash_secret, password_problem
from webapp.services.permissions import ROLES
from webapp.services.roles import scopes_of
from webapp.services.users import record_change


def create_staff(identifier, password, role, *, first_name="", last_name="Staff",
                 user_group="Staff", expires_on=None, actor_name="system", libraries=()):
    """Create an internal staff account holding ROLE (at LIBRARIES, ids; none: all); return it."""
    identifier = (identifier or "").strip()
    errors = {}
    if not identifier:
        errors["identifier"] = "An identifier is required."
    elif User.get_or_none(User.primary_id == identifier):
        errors["identifier"] = "Another user already has this identifier."
    problem = password_problem(password or "")
    if problem:
        errors["password"] = problem
    if role not in ROLES:
        errors["role"] = "Unknown role."
    if errors:
        raise ValidationError(errors)
    with db.atomic():
        when = now()
        user = User.create(
            primary_id=identifier,
            first_name=first_name,
            last_name=last_name,
            user_group=user_group,
            record_type="staff",
            account_type="internal",
            password_hash=hash_secret(password),
            # Version 0: the write path that records the creation makes it the first version.
            version=0,
            created_at=when,
            created_by=actor_name,
            modified_at=when,
            modified_by=actor_name,
        )
        assignment = RoleAssignment.create(user=user, role=role, expires_on=expires_on,
                                           assigned_by=actor_name)
        if libraries:
            RoleScope.insert_many([{"assignment": assignment, "library": library}
                                   for library in libraries]).execute()
            role = scopes_of(user.id)[assignment.id].describe()
        record_change(user, [("Record", None, "created"), ("Role", None, role)],
                      actor=actor_name, via="system", at=when, reindex=True)
    return user


def role_expiry_for_semester(today=None):
    """Return the end of the current semester, when student workers' roles end."""
    return settings.current_semester_end(today or clock.today())
