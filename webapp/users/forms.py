"""User Details forms: Add user, account type, the Roles tab; every rule is in the services."""

import dataclasses
import datetime

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField

from webapp.services.fields import LABELS, as_id, parse_date

# The account fields Add user offers; the others start as the service sets them.
ACCOUNT_FIELDS = ("primary_id", "first_name", "middle_name", "last_name", "birth_date",
                  "user_group", "expiry_date", "purge_date")


@dataclasses.dataclass
class RoleForm:
    """A posted add, change or remove form of the Roles tab, or Make student worker."""

    role: str = ""
    libraries: list = dataclasses.field(default_factory=list)
    starts_on: datetime.date | None = None
    expires_on: datetime.date | None = None
    library: str = ""
    confirm_staff: bool = False
    revert_to_public: bool = False
    version: int | None = None
    values: dict = dataclasses.field(default_factory=dict)
    errors: dict = dataclasses.field(default_factory=dict)


def _date(form, name, parsed):
    text = form.get(name, "")
    try:
        return parse_date(text)
    except ValueError:
        parsed.errors[name] = "Enter a date as YYYY-MM-DD."
        return None


def parse_role_form(form):
    """Return the RoleForm of a posted FORM; unreadable dates are errors beside their field."""
    parsed = RoleForm(role=form.get("role", ""), libraries=form.getlist("libraries"),
                      library=form.get("library", ""),
                      confirm_staff=form.get("confirm_staff") == "yes",
                      revert_to_public=form.get("revert_to_public") == "yes")
    parsed.starts_on = _date(form, "starts_on", parsed)
    parsed.expires_on = _date(form, "expires_on", parsed)
    version = form.get("version", "")
    parsed.version = as_id(version)
    # What the form shows again: as typed, so nothing is lost on a refusal.
    parsed.values = {"role": parsed.role, "libraries": parsed.libraries,
                     "starts_on": form.get("starts_on", ""), "expires_on": form.get("expires_on", ""),
                     "library": parsed.library}
    return parsed


def assignment_values(holding):
    """Return the change form's values for HOLDING, as it loads them."""
    scope = holding.scope
    return {"role": scope.role, "libraries": [str(lib.id) for lib in scope.libraries],
            "starts_on": scope.starts_on.isoformat() if scope.starts_on else "",
            "expires_on": scope.expires_on.isoformat() if scope.expires_on else "",
            "library": ""}


class AddUserForm(FlaskForm):
    """Add user: a new internal account's fields, its first identifier and email, a password.

    The form reads what was posted; every rule (required fields, dates, lengths) is the
    user service's, which answers with the errors shown beside the fields.
    """

    primary_id = StringField(LABELS["primary_id"], default="")
    first_name = StringField(LABELS["first_name"], default="")
    middle_name = StringField(LABELS["middle_name"], default="")
    last_name = StringField(LABELS["last_name"], default="")
    birth_date = StringField(LABELS["birth_date"], default="")
    user_group = StringField(LABELS["user_group"], default="")
    expiry_date = StringField(LABELS["expiry_date"], default="")
    purge_date = StringField(LABELS["purge_date"], default="")
    id_type = StringField("Identifier type", name="identifiers.new.id_type", default="barcode")
    identifier = StringField("Identifier (e.g. barcode)", name="identifiers.new.value", default="")
    email = StringField("Email", name="emails.new.address", default="")
    email_type = StringField("Email type", name="emails.new.email_type", default="personal")
    password = PasswordField("Password (optional)", default="")
    # Set once the possible duplicates were shown: create the account anyway.
    confirm = HiddenField(default="")

    def values(self):
        """Return the new account's fields as typed, for the service and the form shown again."""
        return {name: self[name].data for name in ACCOUNT_FIELDS}

    def identifier_values(self):
        """Return the first identifier as typed."""
        return {"id_type": self.id_type.data, "value": self.identifier.data}

    def email_values(self):
        """Return the first email as typed."""
        return {"address": self.email.data, "email_type": self.email_type.data}

    def confirmed(self):
        """Tell whether the staff member chose Create anyway after the possible duplicates."""
        return self.confirm.data == "yes"


class AccountTypeForm(FlaskForm):
    """Change account type: a password to turn internal, or the source record to turn external.

    The user service checks both.
    """

    password = PasswordField("Password for the account")
    source = StringField(LABELS["source"])
    external_id = StringField(LABELS["external_id"])
