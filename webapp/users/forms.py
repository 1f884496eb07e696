"""The Roles tab's forms: what was posted, read as dates and lists; every rule is in services.roles."""

import dataclasses
import datetime

from webapp.services.fields import parse_date


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
    parsed.version = int(version) if version.isdigit() else None
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
