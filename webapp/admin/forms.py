"""The synchronization upload form, checked for presence only, and the Sign-ins filter.

Every rule about the file and the source system is in services/sync.
"""

import dataclasses

from webapp.services.signins import SignInFilter


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
