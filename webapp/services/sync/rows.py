"""The rows and segments a file gives, and its values as text."""

import dataclasses
import hashlib
import operator

from webapp.models import SEGMENT_MODELS
from webapp.services.fields import (
    GENERAL_FIELDS,
    SEGMENT_BOOLEANS,
    SEGMENT_FIELDS,
    describe_segment,
    parse_flag,
    to_text,
)
from webapp.services.text import LINE, UnsafeText, clean, rule_of

# The resource sharing library is the library's choice and names a local library: not in files.
FILE_FIELDS = tuple(f for f in GENERAL_FIELDS if f != "rs_library")
REQUIRED_COLUMNS = ("external_id", "primary_id", "last_name", "user_group")
# How the boundary for untrusted text checks each field of a file, and each segment field.
FIELD_RULES = {f: rule_of(f) for f in ("external_id",) + FILE_FIELDS}
SEGMENT_RULES = {kind: {f: rule_of(f"{kind}.{f}") for f in fields} for kind, fields in SEGMENT_FIELDS.items()}
# Part of every row's fingerprint: change it when a file row comes to mean something else.
FINGERPRINT_VERSION = "1"


def file_text(value, flag=False, rule=LINE):
    """Return a file value as text ('yes'/'no' for a flag), or raise ValueError saying why not.

    Text goes through the boundary for untrusted text with RULE (services/text.py).
    """
    if flag:
        return to_text(parse_flag(value))
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            return clean(value.strip(), "", rule)
        except UnsafeText as exc:
            raise ValueError(exc.message) from exc
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("Enter text, not a number, list or object.")


def stored_text(value, flag=False):
    """Return a stored value (a flag may come as 0/1) as the text a file would give for it."""
    return to_text(bool(value)) if flag else to_text(value)


def shown_text(value, flag=False):
    """Return a stored value as the history shows it (None stays None)."""
    return None if value is None else stored_text(value, flag)


def fingerprint(text):
    """Return the short digest that stands for a file row (see SyncState)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# The model's defaults of each segment field, as stored and as text.
FIELD_DEFAULTS = {kind: {f: SEGMENT_MODELS[kind]._meta.fields[f].default for f in fields}
                  for kind, fields in SEGMENT_FIELDS.items()}
SEGMENT_DEFAULTS = {
    kind: {f: stored_text(default, f in SEGMENT_BOOLEANS) for f, default in defaults.items()}
    for kind, defaults in FIELD_DEFAULTS.items()
}
# "Preferred" is the library's choice on a stored segment; the rest is the source's.
SEGMENT_COMPARED = {kind: tuple(f for f in fields if f != "preferred")
                    for kind, fields in SEGMENT_FIELDS.items()}
SEGMENT_KEY = {kind: operator.itemgetter(*fields) for kind, fields in SEGMENT_COMPARED.items()}


def segment_key(kind, values):
    """Return what a segment says, for comparing a file's segment with a stored one."""
    return SEGMENT_KEY[kind]({**SEGMENT_DEFAULTS[kind], **values})


def described(kind, values):
    """Return a segment given as a dict as the history describes it."""
    return describe_segment(kind, {**FIELD_DEFAULTS[kind], **values})


class FileSegment:
    """One identifier, email, phone, address, note or block as the file gives it."""

    __slots__ = ("values", "where", "key")

    def __init__(self, kind, values, where, key=None):
        """Hold a segment's VALUES, where each came from, and its key."""
        self.values = values  # segment field -> text
        self.where = where  # segment field -> the column or JSON path to name in an error
        self.key = segment_key(kind, values) if key is None else key


class Row:
    """One user of the file, its values normalized to text."""

    __slots__ = ("line", "external_id", "fields", "segments", "errors", "fingerprint")

    def __init__(self, line, external_id, fields=None, segments=None, errors=None):
        """Hold a row's line, external ID, values, segments and errors."""
        self.fingerprint = None  # of the raw record, see SyncState
        self.line = line
        self.external_id = external_id
        self.fields = {} if fields is None else fields  # field -> text
        self.segments = {} if segments is None else segments  # kind -> [FileSegment]
        self.errors = [] if errors is None else errors


@dataclasses.dataclass
class SyncFile:
    """A decoded file: its format, its text, and the errors that reject it as a whole."""

    format: str | None
    text: str = ""
    errors: list = dataclasses.field(default_factory=list)
    layout: object = None  # the CsvLayout of a CSV file's header
    estimate: int = 0  # rows expected, for a progress bar
    # Filled while the rows are read: the line of each external ID, and how many rows.
    lines_of: dict = dataclasses.field(default_factory=dict)
    total: int = 0
