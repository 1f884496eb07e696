"""The synchronization upload form, checked for presence only, and the Sign-ins filter.

Every rule about the file and the source system is in services/sync.
"""

import dataclasses

from webapp.services.signins import SignInFilter
from webapp.web.ids import as_id, parse_ids


@dataclasses.dataclass
class SyncUpload:
    """The posted file and options of a synchronization preview."""

    source: str = ""
    deactivate_missing: bool = False
    skip_invalid: bool = False
    filename: str = ""
    data: bytes | None = None
    errors: dict = dataclasses.field(default_factory=dict)

    @property
    def values(self):
        """Return the values the form shows again."""
        return {"source": self.source, "deactivate_missing": self.deactivate_missing,
                "skip_invalid": self.skip_invalid}


def blank_upload(last_source=""):
    """Return the form as first shown: most libraries have one source, so offer the one used last."""
    return SyncUpload(source=last_source)


def parse_upload(form, files):
    """Return the SyncUpload of a posted FORM and its FILES, with errors for what is missing."""
    upload = SyncUpload(source=form.get("source", ""),
                        deactivate_missing=bool(form.get("deactivate_missing")),
                        skip_invalid=bool(form.get("skip_invalid")))
    posted = files.get("file")
    if posted is None or not posted.filename:
        upload.errors["file"] = "Choose the CSV or JSON file exported by the source system."
    if not upload.source.strip():
        upload.errors["source"] = "Source system is required."
    if not upload.errors:
        upload.filename, upload.data = posted.filename, posted.read()
    return upload


def parse_sign_in_filter(args):
    """Return the SignInFilter the Admin › Sign-ins query string ARGS asks for."""
    return SignInFilter(**{name: args.get(name, "")[:100]
                           for name in ("outcome", "reason", "identifier", "address")})


@dataclasses.dataclass
class StaffFilters:
    """The filters of Admin › Staff, as the address holds them."""

    role: str = ""
    library: str = ""
    expiring: bool = False

    def query(self):
        """Return the filters as query arguments, the empty ones left out."""
        args = {"role": self.role, "library": self.library, "expiring": "1" if self.expiring else ""}
        return {k: v for k, v in args.items() if v}


def parse_staff_filters(args, role_names):
    """Return the StaffFilters of the query ARGS; an unknown role or library filters nothing."""
    role = args.get("role", "")
    library = args.get("library", "")
    return StaffFilters(role=role if role in role_names else "",
                        library=str(as_id(library) or ""),
                        expiring=args.get("expiring") == "1")


BULK_ACTIONS = {"extend": "Extend to the end of next semester", "remove": "Remove role"}


@dataclasses.dataclass
class BulkAction:
    """A posted action on several role assignments of Admin › Staff."""

    action: str
    assignment_ids: list
    confirmed: bool


def parse_bulk(form):
    """Return the BulkAction of a posted FORM, or None when the action is unknown."""
    action = form.get("action", "")
    if action not in BULK_ACTIONS:
        return None
    ids = parse_ids(form.getlist("assignment"), "assignment")
    return BulkAction(action, ids, form.get("confirm") == "yes")
