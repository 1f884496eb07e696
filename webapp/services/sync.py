"""Synchronization: load a source system's CSV or JSON export into its external accounts.

A run reads the file, checks it, and compares it with the database user by user, a chunk
of users at a time (a few queries per chunk, never one per row). A preview only reports
the differences. Applying computes them again inside one transaction, writes them as it
goes, and commits only if they are exactly what the preview showed (same digest);
otherwise the transaction is rolled back and nothing is written.

Rules (SPEC 1, 2 and 4): users are matched by (source, external ID); source-managed
fields in `source` or `temporary` state take the file's value, `protected` ones keep
theirs and only remember the file's value as the source value; library-managed fields
edited here are kept; external segments are replaced by the file's, internal ones are
never touched. A file never changes an internal account, roles, or another source's users.

An unchanged user costs a comparison, not a write. Each applied row leaves a fingerprint
of itself and the user's version (SyncState); when the next file has the same row and the
user's version has not moved (every change to a user raises it), the row is skipped
without reading the record.
"""

import csv
import dataclasses
import datetime
import gc
import hashlib
import io
import json
import operator
import re
import types

from peewee import __exception_wrapper__ as exception_wrapper

from webapp import db as database
from webapp.db import db
from webapp.models import SEGMENT_MODELS, FieldState, History, Identifier, SyncRun, SyncState, User
from webapp.services import DomainError, ValidationError, search
from webapp.services.clock import now
from webapp.services.fields import (
    BOOLEAN_FIELDS,
    GENERAL_FIELDS,
    LABELS,
    SEGMENT_BOOLEANS,
    SEGMENT_DATES,
    SEGMENT_FIELDS,
    SEGMENT_LABELS,
    SOURCE_MANAGED,
    TEMPORARY,
)
from webapp.services.history import as_text
from webapp.services.users import SegmentChange, _describe, clean_general, clean_segment

# Rows compared per round trip: a few queries load a chunk's users, provenance and segments.
CHUNK = 1000
# What a report keeps of long lists; the counts are always complete.
KEEP_DIFFS = 500
KEEP_OVERWRITTEN = 2000
KEEP_ERRORS = 10000

# Run statuses.
RUNNING = "running"
PREVIEWED = "previewed"
DRY_RUN = "dry run"
APPLIED = "applied"
REJECTED = "rejected"
STALE = "stale"
FAILED = "failed"

# The resource sharing library is the library's choice and names a local library: not in files.
FILE_FIELDS = tuple(f for f in GENERAL_FIELDS if f != "rs_library")
REQUIRED_COLUMNS = ("external_id", "primary_id", "last_name", "user_group")
# CSV identifier columns and the identifier type each holds.
IDENTIFIER_COLUMNS = {
    "barcode": "barcode",
    "university_id": "university_id",
    "library_card": "library_card",
    "other_id": "other",
}
# CSV columns of the one email, phone and address a row may carry: column -> segment field.
CSV_SEGMENT_COLUMNS = {
    "emails": {"email": "address", "email_type": "email_type"},
    "phones": {"phone": "number", "phone_type": "phone_type"},
    "addresses": {
        "address_line1": "line1",
        "address_line2": "line2",
        "address_city": "city",
        "address_region": "region",
        "address_postal_code": "postal_code",
        "address_country": "country",
        "address_type": "address_type",
    },
}
# The column that must be there when any column of its group is.
CSV_GROUP_NEEDS = {
    "emails": ("email",),
    "phones": ("phone",),
    "addresses": ("address_line1", "address_city"),
}
CSV_COLUMNS = (
    ("external_id",)
    + FILE_FIELDS
    + tuple(IDENTIFIER_COLUMNS)
    + tuple(c for group in CSV_SEGMENT_COLUMNS.values() for c in group)
)
JSON_KEYS = ("external_id",) + FILE_FIELDS + tuple(SEGMENT_FIELDS)

# Part of every row's fingerprint: change it when a file row comes to mean something else.
FINGERPRINT_VERSION = "1"

_TRUE = {"yes", "y", "true", "1", "on"}
_FALSE = {"no", "n", "false", "0", "off", ""}
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


class SyncRefused(DomainError):
    """The run cannot be applied (already applied, rejected, or its file is gone)."""


class StalePreview(SyncRefused):
    """The database changed since the preview: nothing was applied; preview again."""


class _Rollback(Exception):
    """Raised inside the apply transaction to undo everything it wrote."""


# ---------------------------------------------------------------- reading the file


class FileSegment:
    """One identifier, email, phone, address, note or block as the file gives it."""

    __slots__ = ("values", "where", "key")

    def __init__(self, kind, values, where, key=None):
        self.values = values  # segment field -> text
        self.where = where  # segment field -> the column or JSON path to name in an error
        self.key = _segment_key(kind, values) if key is None else key


class Row:
    """One user of the file, its values normalized to text."""

    __slots__ = ("line", "external_id", "fields", "segments", "errors", "fingerprint")

    def __init__(self, line, external_id, fields=None, segments=None, errors=None):
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
    layout: object = None  # the _CsvLayout of a CSV file's header
    estimate: int = 0  # rows expected, for a progress bar
    # Filled while the rows are read: the line of each external ID, and how many rows.
    lines_of: dict = dataclasses.field(default_factory=dict)
    total: int = 0


def _text(value, boolean=False):
    """Return a file value as text ('yes'/'no' for a flag), or raise ValueError."""
    if boolean:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if value is None:
            return "no"
        if isinstance(value, str):
            folded = value.strip().lower()
            if folded in _TRUE:
                return "yes"
            if folded in _FALSE:
                return "no"
        raise ValueError("Enter yes or no.")
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("Enter text, not a number, list or object.")


def _stored(value, boolean=False):
    """Return a stored value as the text a file would give for it."""
    if boolean:
        return "yes" if value else "no"
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _shown(value, boolean=False):
    """Return a stored value as the history shows it (None stays None)."""
    if value is None:
        return None
    return _stored(value, boolean)


_SEGMENT_DEFAULTS = {
    kind: {
        f: _stored(SEGMENT_MODELS[kind]._meta.fields[f].default, f in SEGMENT_BOOLEANS)
        for f in fields
    }
    for kind, fields in SEGMENT_FIELDS.items()
}
# "Preferred" is the library's choice on a stored segment; the rest is the source's.
_SEGMENT_COMPARED = {kind: tuple(f for f in fields if f != "preferred")
                     for kind, fields in SEGMENT_FIELDS.items()}


_SEGMENT_KEY = {kind: operator.itemgetter(*fields) for kind, fields in _SEGMENT_COMPARED.items()}


def _segment_key(kind, values):
    """Return what a segment says, for comparing a file's segment with a stored one."""
    return _SEGMENT_KEY[kind]({**_SEGMENT_DEFAULTS[kind], **values})


def decode(data, filename="", max_bytes=None):
    """Return the SyncFile for DATA (bytes): format detected, text decoded, or file errors."""
    name = (filename or "").lower()
    if max_bytes is not None and len(data) > max_bytes:
        return SyncFile(None, errors=[f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return SyncFile(None, errors=[f"Line {line}: the file is not UTF-8 text (byte {exc.start + 1} "
                                      "cannot be read). Save it as UTF-8 and upload it again."])
    if not text.strip():
        return SyncFile(None, errors=["The file is empty."])
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return SyncFile(None, errors=[f"Line {line}: the file contains a NUL character; it is not a "
                                      "CSV or JSON text file."])
    if name.endswith(".json"):
        fmt = "json"
    elif name.endswith((".csv", ".txt")):
        fmt = "csv"
    else:
        fmt = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    sync_file = SyncFile(fmt, text)
    if fmt == "csv":
        sync_file.estimate = max(text.count("\n") - 1, 1)
        _read_header(sync_file)
    elif text.lstrip()[:1] != "[":
        sync_file.errors.append("A JSON file holds a list of users: [ {\"external_id\": …}, … ].")
    else:
        sync_file.estimate = max(text.count('"external_id"'), 1)
    return sync_file


def _csv_records(text):
    """Yield (line, cells) for each non-blank CSV record; raise ValueError naming the line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ValueError(f"Line {reader.line_num}: the file cannot be read as CSV: {exc}.") from exc
        start, last = last + 1, reader.line_num
        if record and any(record):
            yield start, record


def _read_header(sync_file):
    """Check the CSV header; keep its layout on SYNC_FILE or add file errors."""
    try:
        line, header = next(_csv_records(sync_file.text))
    except StopIteration:
        sync_file.errors.append("The file has no header row.")
        return
    except ValueError as exc:
        sync_file.errors.append(str(exc))
        return
    columns = [c.strip().lower() for c in header]
    errors = sync_file.errors
    if any(not c for c in columns):
        errors.append(f"Line {line}: column {columns.index('') + 1} of the header has no name.")
    doubled = sorted({c for c in columns if c and columns.count(c) > 1})
    if doubled:
        errors.append(f"Line {line}: these columns appear more than once: {', '.join(doubled)}.")
    unknown = [c for c in columns if c and c not in CSV_COLUMNS]
    if unknown:
        errors.append(f"Line {line}: unknown columns: {', '.join(unknown)}. The known columns are "
                      f"{', '.join(CSV_COLUMNS)}.")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        errors.append(f"Line {line}: required columns are missing: {', '.join(missing)}.")
    for kind, group in CSV_SEGMENT_COLUMNS.items():
        if any(c in columns for c in group):
            lacking = [c for c in CSV_GROUP_NEEDS[kind] if c not in columns]
            if lacking:
                errors.append(f"Line {line}: the {SEGMENT_LABELS[kind].lower()} columns need "
                              f"{' and '.join(lacking)} as well.")
    if not errors:
        sync_file.layout = _CsvLayout(columns)


class _CsvLayout:
    """Where each value sits in a CSV record, worked out once from the header."""

    def __init__(self, columns):
        at = {c: n for n, c in enumerate(columns)}
        self.width = len(columns)
        self.external_id = at["external_id"]
        self.names = [f for f in FILE_FIELDS if f in at]
        self.values = operator.itemgetter(*[at[f] for f in self.names])
        self.booleans = [f for f in self.names if f in BOOLEAN_FIELDS]
        self.identifiers = None
        if any(c in at for c in IDENTIFIER_COLUMNS):
            self.identifiers = [(id_type, at[c], {"id_type": c, "value": c})
                                for c, id_type in IDENTIFIER_COLUMNS.items() if c in at]
        # Columns whose values identify a user: checked for doubles across the file.
        self.identifying = [("primary_id", at["primary_id"])] + [
            (c, at[c]) for c in IDENTIFIER_COLUMNS if c in at]
        # A row's fingerprint covers the header too: the same cells under other columns differ.
        self.prefix = "\x1e".join([FINGERPRINT_VERSION] + columns) + "\x1d"
        self.groups = []
        for kind, group in CSV_SEGMENT_COLUMNS.items():
            present = [(f, at[c]) for c, f in group.items() if c in at]
            if present:
                # The type column alone does not make an entry.
                needed = [n for f, n in present if not f.endswith("_type")]
                where = {f: c for c, f in group.items()}
                self.groups.append((kind, present, needed, where))

    def row(self, line, cells):
        """Return the Row of one record."""
        if len(cells) != self.width:
            ext = cells[self.external_id].strip() if len(cells) > self.external_id else ""
            return Row(line, ext, errors=[f"The row has {len(cells)} values; the header has "
                                          f"{self.width}."])
        cells = [c.strip() for c in cells]
        row = Row(line, cells[self.external_id], dict(zip(self.names, self.values(cells), strict=True)))
        fields = row.fields
        for field in self.booleans:
            try:
                fields[field] = _text(fields[field], True)
            except ValueError as exc:
                row.errors.append(f"{field}: {exc}")
        segments = row.segments
        if self.identifiers is not None:
            found = []
            for id_type, n, where in self.identifiers:
                value = cells[n]
                if value:
                    found.append(FileSegment("identifiers", {"id_type": id_type, "value": value}, where,
                                             (id_type, value, "")))
            segments["identifiers"] = found
        for kind, present, needed, where in self.groups:
            for n in needed:
                if cells[n]:
                    break
            else:
                segments[kind] = []
                continue
            values = dict(_SEGMENT_DEFAULTS[kind])
            for f, n in present:
                values[f] = cells[n]
            key = _SEGMENT_KEY[kind](values)
            values["preferred"] = "yes"
            segments[kind] = [FileSegment(kind, values, where, key)]
        return row

    def identity(self, cells):
        """Return (external ID, [(identifying value, column)], fingerprint) of a record."""
        fingerprint = _fingerprint(self.prefix + "\x1f".join(cells))
        if len(cells) != self.width:
            return "", [], fingerprint
        return (cells[self.external_id].strip(),
                [(cells[n].strip(), c) for c, n in self.identifying], fingerprint)


def _json_records(text):
    """Yield (line, value) for each entry of the top-level JSON list, or raise ValueError."""
    decoder = json.JSONDecoder()
    pos = _JSON_SPACE.match(text, 0).end()
    line, counted = 1, 0

    def line_at(at):
        nonlocal line, counted
        line += text.count("\n", counted, at)
        counted = at
        return line

    if text[pos : pos + 1] != "[":
        raise ValueError(f"Line {line_at(pos)}: a JSON file holds a list of users.")
    pos = _JSON_SPACE.match(text, pos + 1).end()
    if text[pos : pos + 1] == "]":
        pos += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"Line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}.") from exc
            except RecursionError as exc:
                raise ValueError(f"Line {line_at(pos)}: the entry is nested too deeply.") from exc
            yield line_at(pos), value
            pos = _JSON_SPACE.match(text, end).end()
            if text[pos : pos + 1] == ",":
                pos = _JSON_SPACE.match(text, pos + 1).end()
                continue
            if text[pos : pos + 1] == "]":
                pos += 1
                break
            raise ValueError(f"Line {line_at(pos)}: expected ',' or ']' after an entry.")
    rest = _JSON_SPACE.match(text, pos).end()
    if rest < len(text):
        raise ValueError(f"Line {line_at(rest)}: unexpected text after the list of users.")


def _records(sync_file):
    """Yield (line, record) of the file: a CSV record's cells, or a JSON entry."""
    if sync_file.format == "csv":
        records = _csv_records(sync_file.text)
        next(records, None)  # the header
        yield from records
    else:
        yield from _json_records(sync_file.text)


def _json_identity(raw):
    """Return (external ID, [(identifying value, where)], fingerprint) of a JSON entry."""
    fingerprint = _fingerprint(FINGERPRINT_VERSION + json.dumps(
        raw, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    if not isinstance(raw, dict):
        return "", [], fingerprint
    ext = raw.get("external_id")
    ext = str(ext).strip() if isinstance(ext, str | int) and not isinstance(ext, bool) else ""
    primary = raw.get("primary_id")
    values = [(primary.strip(), "primary_id")] if isinstance(primary, str) else []
    idents = raw.get("identifiers")
    if isinstance(idents, list):
        for n, item in enumerate(idents, 1):
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                values.append((item["value"].strip(), f"identifiers[{n}].value"))
    return ext, values, fingerprint


def _fingerprint(text):
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _json_row(line, raw):
    """Return the Row of a JSON entry."""
    if not isinstance(raw, dict):
        return Row(line, "", errors=["Each entry must be an object: {\"external_id\": …, …}."])
    errors = []
    unknown = [str(k) for k in raw if k not in JSON_KEYS]
    if unknown:
        errors.append(f"unknown fields: {', '.join(unknown)}. The known fields are {', '.join(JSON_KEYS)}.")
    try:
        ext = _text(raw.get("external_id"))
    except ValueError as exc:
        errors.append(f"external_id: {exc}")
        ext = ""
    row = Row(line, ext, errors=errors)
    for field in REQUIRED_COLUMNS[1:]:
        if field not in raw:
            errors.append(f"{field}: {LABELS[field]} is required.")
    for field in FILE_FIELDS:
        if field in raw:
            try:
                row.fields[field] = _text(raw[field], field in BOOLEAN_FIELDS)
            except ValueError as exc:
                errors.append(f"{field}: {exc}")
    for kind, fields in SEGMENT_FIELDS.items():
        if kind not in raw:
            continue
        items = raw[kind]
        if not isinstance(items, list):
            errors.append(f"{kind}: give a list of {SEGMENT_LABELS[kind].lower()} objects.")
            continue
        segments = []
        for n, item in enumerate(items, 1):
            path = f"{kind}[{n}]"
            if not isinstance(item, dict):
                errors.append(f"{path}: give an object such as {{\"{next(iter(fields))}\": …}}.")
                continue
            strange = [str(k) for k in item if k not in fields]
            if strange:
                errors.append(f"{path}: unknown fields: {', '.join(strange)}. The known fields are "
                              f"{', '.join(fields)}.")
            values = {}
            for field in fields:
                if field in item:
                    try:
                        values[field] = _text(item[field], field in SEGMENT_BOOLEANS)
                    except ValueError as exc:
                        errors.append(f"{path}.{field}: {exc}")
            segments.append(FileSegment(kind, values, {f: f"{path}.{f}" for f in fields}))
        row.segments[kind] = segments
    return row


class Entry:
    """One record of the file before it is read in full: where it is and who it is about."""

    __slots__ = ("line", "raw", "external_id", "fingerprint", "errors")

    def __init__(self, line, raw, external_id, fingerprint, errors):
        self.line = line
        self.raw = raw
        self.external_id = external_id
        self.fingerprint = fingerprint
        self.errors = errors  # found across rows, e.g. an identifier given on an earlier line


def entries(sync_file):
    """Yield the Entries of a decoded file, checking across rows as they go by.

    An identifier given on two lines is an error of the later row. Doubled external IDs,
    and a file that cannot be read to its end, become errors of the whole file, added to
    SYNC_FILE.errors when the entries run out.
    """
    identity = sync_file.layout.identity if sync_file.format == "csv" else _json_identity
    lines_of, first_of_value, doubled = sync_file.lines_of, {}, {}
    try:
        for line, raw in _records(sync_file):
            sync_file.total += 1
            ext, values, fingerprint = identity(raw)
            if ext:
                if ext in lines_of:
                    doubled.setdefault(ext, [lines_of[ext]]).append(line)
                else:
                    lines_of[ext] = line
            yield Entry(line, raw, ext, fingerprint, _check_repeats(line, values, first_of_value))
    except ValueError as exc:
        sync_file.errors.append(str(exc))
    for ext, lines in list(doubled.items())[:20]:
        sync_file.errors.append(
            f"External ID {ext} is on more than one line: {', '.join(str(n) for n in lines)}.")
    if len(doubled) > 20:
        sync_file.errors.append(f"… and {len(doubled) - 20} more external IDs on more than one line.")
    if sync_file.total == 0 and not sync_file.errors:
        sync_file.errors.append("The file has no users in it.")


def read_row(sync_file, entry):
    """Return the Row of ENTRY, its values normalized and every error found so far attached."""
    row = (sync_file.layout.row if sync_file.format == "csv" else _json_row)(entry.line, entry.raw)
    row.fingerprint = entry.fingerprint
    if not row.external_id and not any(m.startswith("external_id") for m in row.errors):
        row.errors.append("external_id: External ID is required.")
    row.errors.extend(entry.errors)
    return row


def _check_repeats(line, values, first_of_value):
    """Return errors for identifying VALUES that an earlier row (or this one) gave already."""
    errors = []
    seen_here = {}
    for value, where in values:
        if not value:
            continue
        folded = value.lower()
        if folded in seen_here:
            # A user's primary identifier may also be one of its identifiers.
            if where != "primary_id" and seen_here[folded] != "primary_id":
                errors.append(f"{where}: the same identifier is entered twice.")
            continue
        seen_here[folded] = where
        if folded in first_of_value:
            errors.append(f"{where}: {value} is also an identifier on line {first_of_value[folded]}.")
        else:
            first_of_value[folded] = line
    return errors


# ---------------------------------------------------------------- comparing with the database


class _Stored:
    """A stored segment: its record (see _SEGMENT_COLUMNS) and what it says (its key)."""

    __slots__ = ("kind", "record", "key")

    def __init__(self, kind, record, key):
        self.kind = kind
        self.record = record
        self.key = key

    @property
    def id(self):
        return self.record[0]

    @property
    def segment(self):
        return self.record[2]

    @property
    def edited_locally(self):
        return bool(self.record[3])

    @property
    def preferred(self):
        return bool(self.record[4]) and "preferred" in SEGMENT_FIELDS[self.kind]

    def described(self):
        """Return the segment as the history describes it."""
        return _described(self.kind, dict(zip(_SEGMENT_COLUMNS[self.kind], self.record, strict=True)))


class _Plan:
    """What one row (or one missing user) changes: fields, provenance, segments, history."""

    __slots__ = ("row", "user", "action", "errors", "fields", "log", "drop_states",
                 "source_values", "drop_segments", "restore_segments", "add_segments",
                 "replace_segments", "overwritten", "claims", "reindex", "missing")

    def __init__(self, row, user, missing=False):
        self.row = row
        self.user = user  # the stored user as a dict of raw values, None for a new one
        self.action = "unchanged"  # created | updated | deactivated | unchanged | rejected
        self.errors = list(row.errors)
        self.fields = {}  # field -> value to store
        self.log = []  # (label, old, new) history entries
        self.drop_states = []  # FieldState ids
        self.source_values = []  # (FieldState id, text)
        self.drop_segments = {}  # kind -> [ids]
        self.restore_segments = {}  # kind -> [ids]
        self.add_segments = {}  # kind -> [values]
        self.replace_segments = {}  # kind -> [(id, values)]
        self.overwritten = []  # (what, local value, file's value)
        self.claims = []  # (identifying value, where)
        self.reindex = False
        self.missing = missing  # a user of the source that the file no longer lists

    @property
    def user_id(self):
        return self.user["id"] if self.user else None


_USER_COLUMNS = ("id", "version", "account_type", "external_id") + FILE_FIELDS
_SEGMENT_COLUMNS = {kind: ("id", "user", "segment", "edited_locally",
                           "preferred" if "preferred" in fields else "id") + tuple(fields)
                    for kind, fields in SEGMENT_FIELDS.items()}


def _in_chunks(values, size=1000):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _select_in(model, names, field, values, equal=None):
    """Return rows (tuples of stored values) of MODEL whose FIELD is one of VALUES.

    EQUAL is an optional (field, value) condition as well. The SQL is written here, a
    thousand values at a time: the query builder spends longer on a long IN list than
    the database spends on the query.
    """
    param = db.obj.param
    columns = ", ".join(_column(model, n) for n in names)
    where, prefix = "", ()
    if equal:
        where, prefix = f"{_column(model, equal[0])} = {param} AND ", (equal[1],)
    found = []
    for part in _in_chunks(values):
        sql = (f"SELECT {columns} FROM {_quoted(model._meta.table_name)} WHERE {where}"
               f"{_column(model, field)} IN ({', '.join([param] * len(part))})")
        found.extend(db.execute_sql(sql, prefix + tuple(part)).fetchall())
    return found


def _user_records(source, external_ids):
    """Return {external ID: record} of SOURCE's users with these external IDs.

    A record holds the _USER_COLUMNS, then the fingerprint and version of the user's
    SyncState (None when the user was never synchronized): one query gives both.
    """
    param = db.obj.param
    columns = ", ".join(f"u.{_column(User, c)}" for c in _USER_COLUMNS)
    head = (f"SELECT {columns}, s.{_quoted('fingerprint')}, s.{_quoted('version')} "
            f"FROM {_quoted(User._meta.table_name)} u LEFT JOIN {_quoted(SyncState._meta.table_name)} s "
            f"ON s.{_quoted('user_id')} = u.{_quoted('id')} WHERE u.{_quoted('source')} = {param} "
            f"AND u.{_quoted('external_id')} IN (")
    found = {}
    for part in _in_chunks(external_ids):
        for record in db.execute_sql(head + ", ".join([param] * len(part)) + ")", (source, *part)):
            found[record[3]] = record
    return found


def _as_user(record):
    """Return a user record as a dict of its _USER_COLUMNS."""
    return dict(zip(_USER_COLUMNS, record, strict=False)) if record is not None else None


def _field_states(user_ids):
    """Return {user id: {field: FieldState values}} for USER_IDS."""
    found = {}
    names = ("id", "user", "field", "state", "source_value")
    for fs_id, uid, field, state, source_value in _select_in(FieldState, names, "user", user_ids):
        found.setdefault(uid, {})[field] = types.SimpleNamespace(
            id=fs_id, state=state, source_value=source_value)
    return found


def _key_maker(kind):
    """Return a function that turns a stored record of KIND into the segment's key."""
    names = _SEGMENT_COLUMNS[kind]
    positions = [(names.index(f), f in SEGMENT_BOOLEANS, f in SEGMENT_DATES)
                 for f in _SEGMENT_COMPARED[kind]]
    if not any(b or d for _, b, d in positions):
        # Text columns that are never NULL: the values themselves are the key.
        return operator.itemgetter(*[p for p, _, _ in positions])
    return lambda record: tuple([_stored(record[p], b) for p, b, _ in positions])


_KEY_MAKERS = {kind: _key_maker(kind) for kind in SEGMENT_FIELDS}


def _stored_segments(kind, user_ids):
    """Return {user id: [record]} of KIND for USER_IDS, internal segments included."""
    found = {}
    for record in _select_in(SEGMENT_MODELS[kind], _SEGMENT_COLUMNS[kind], "user", user_ids):
        bucket = found.get(record[1])
        if bucket is None:
            found[record[1]] = [record]
        else:
            bucket.append(record)
    return found


_FIELD_DEFAULTS = {kind: {f: SEGMENT_MODELS[kind]._meta.fields[f].default for f in fields}
                   for kind, fields in SEGMENT_FIELDS.items()}


def _described(kind, values):
    """Return a segment given as a dict as the user service's history describes it."""
    return _describe(kind, types.SimpleNamespace(**{**_FIELD_DEFAULTS[kind], **values}))


def _as_sent(kind, items, records):
    """Tell whether RECORDS are exactly the file's ITEMS, all external and none edited here.

    The common case, checked first and cheaply: nothing of this kind changes.
    """
    make_key = _KEY_MAKERS[kind]
    if len(items) == 1:
        record = records[0]
        return record[2] == "external" and not record[3] and items[0].key == make_key(record)
    for record in records:
        if record[2] != "external" or record[3]:
            return False
    if sorted([i.key for i in items]) != sorted([make_key(r) for r in records]):
        return False
    return sum(1 for i in items if i.values.get("preferred") == "yes") < 2


def _errors_of(exc, where):
    """Turn a ValidationError from the user service into 'column: message' lines."""
    messages = []
    for key, message in exc.errors.items():
        field = key.rsplit(".", 1)[-1]
        messages.append(f"{where.get(field, field)}: {message}")
    return messages


def _max(model, field):
    return model._meta.fields[field].max_length


def _check_identifier(value, where, errors, *, model, field, label):
    """Add an error unless VALUE is a present identifier of acceptable length."""
    if not value:
        errors.append(f"{where}: {label} is required.")
    elif len(value) > _max(model, field):
        errors.append(f"{where}: Use at most {_max(model, field)} characters.")


def _user_name(user, row):
    if user and "last_name" in user:
        first = user.get("pref_first_name") or user.get("first_name") or ""
        last = user.get("pref_last_name") or user.get("last_name") or ""
    else:
        first = row.fields.get("pref_first_name") or row.fields.get("first_name", "")
        last = row.fields.get("pref_last_name") or row.fields.get("last_name", "")
    return f"{last}, {first}" if first else last


_INDEXED = frozenset(search.NAME_FIELDS) | {"primary_id"}


class _Pass:
    """One comparison of a file with the database; writes too when WRITE is true."""

    def __init__(self, source, actor, run_id, *, write, deactivate_missing, skip_invalid,
                 progress=None):
        self.source = source
        self.actor = actor
        self.via = f"sync {run_id}"
        self.write = write
        self.deactivate_missing = deactivate_missing
        self.skip_invalid = skip_invalid
        self.progress = progress
        self.when = now()
        # The time as SQLite stores it (peewee's own format), converted once instead of per row.
        self.stamp = self.when.isoformat(" ") if database.is_sqlite() else self.when
        self.counts = {"created": 0, "updated": 0, "unchanged": 0, "deactivated": 0, "rejected": 0}
        self.digest = hashlib.sha256()
        self.errors, self.errors_total = [], 0
        self.diffs, self.diffs_total = [], 0
        self.overwritten, self.overwritten_total = [], 0
        self.unnumbered = []  # (plan, report entry) of created users, see _record
        self.done = 0

    # -- driving

    def run(self, sync_file):
        """Compare every row of SYNC_FILE, then the users missing from it."""
        self.file = sync_file
        # The pass makes and drops millions of small objects and no reference cycles:
        # the cycle collector would only walk them again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            chunk = []
            for entry in entries(sync_file):
                chunk.append(entry)
                if len(chunk) == CHUNK:
                    self._chunk(chunk)
                    chunk = []
            if chunk:
                self._chunk(chunk)
            if self.deactivate_missing and not sync_file.errors:
                self._missing(set(sync_file.lines_of))
        finally:
            if collecting:
                gc.enable()

    @property
    def writing(self):
        return self.write and not self.file.errors and (self.skip_invalid or not self.errors_total)

    def _chunk(self, chunk):
        wanted = [e.external_id for e in chunk if e.external_id]
        records = _user_records(self.source, wanted) if wanted else {}
        fingerprint_at = len(_USER_COLUMNS)
        plans = []
        for entry in chunk:
            record = records.get(entry.external_id)
            if record is not None and record[fingerprint_at] == entry.fingerprint \
                    and record[fingerprint_at + 1] == record[1] and not entry.errors:
                # The same row as last time, and nobody changed the user since: nothing to do.
                self.counts["unchanged"] += 1
                continue
            plans.append(self._plan_for(read_row(self.file, entry), _as_user(record)))
        self._settle(plans)
        self.done += len(chunk)
        if self.progress:
            self.progress(self.done, max(self.file.estimate, self.done))

    def _missing(self, present):
        """Deactivate the users of this source that the file no longer lists."""
        param = db.obj.param
        sql = (f"SELECT {_column(User, 'external_id')} FROM {_quoted(User._meta.table_name)} "
               f"WHERE {_column(User, 'source')} = {param} AND {_column(User, 'account_type')} = {param}")
        missing = [ext for (ext,) in db.execute_sql(sql, (self.source, "external")) if ext not in present]
        for part in _in_chunks(missing, CHUNK):
            records = _user_records(self.source, part)
            self._settle([self._plan_for(Row(None, ext, fields={"status": "inactive"}), _as_user(record),
                                         missing=True) for ext, record in records.items()])

    def _plan_for(self, row, user, missing=False):
        plan = _Plan(row, user, missing)
        if not plan.errors and user is not None and user["account_type"] != "external":
            plan.errors.append(f"external_id: {row.external_id} belongs to an internal account; a "
                               "synchronization never changes an internal account.")
        return plan

    def _settle(self, plans):
        """Load what the plans need in bulk, work out each plan, then record and write them."""
        ids = [p.user["id"] for p in plans if p.user and not p.errors]
        states = _field_states(ids) if ids else {}
        kinds = {k for p in plans if not p.errors for k in p.row.segments}
        stored = {kind: _stored_segments(kind, ids) if ids else {} for kind in kinds}
        for plan in plans:
            if plan.errors:
                continue
            uid = plan.user_id
            self._compare_fields(plan, states.get(uid))
            for kind, items in plan.row.segments.items():
                records = stored[kind].get(uid, ())
                if len(items) == len(records):
                    if len(items) == 1:
                        record = records[0]
                        if record[2] == "external" and not record[3] \
                                and items[0].key == _KEY_MAKERS[kind](record):
                            continue
                    elif _as_sent(kind, items, records):
                        continue
                self._compare_segments(plan, kind, items, records)
        self._check_claims([p for p in plans if p.claims and not p.errors])
        for plan in plans:
            self._record(plan)
        if self.writing:
            self._write([p for p in plans if p.log and not p.errors])
            self._remember([p for p in plans if not p.errors and p.row.fingerprint])
            for plan, entry in self.unnumbered:
                entry["user_id"] = plan.user_id
        self.unnumbered = []

    # -- fields

    def _compare_fields(self, plan, states):
        row, user = plan.row, plan.user
        if user is None:
            self._new_user(plan)
            return
        # Only values that would change are checked: an unchanged user costs a comparison.
        wanted = {}
        for field, text in row.fields.items():
            current = user[field]
            if current.__class__ is not str:
                current = _stored(current, field in BOOLEAN_FIELDS)
            state = states.get(field) if states else None
            if state is None or (state.state == TEMPORARY and field in SOURCE_MANAGED):
                if text != current:
                    wanted[field] = text
            elif text != (state.source_value or ""):
                wanted[field] = text
        if not wanted and not states:
            return
        cleaned = self._clean_fields(plan, wanted)
        if plan.errors:
            return
        for field in row.fields:
            state = states.get(field) if states else None
            label = LABELS[field]
            if state is not None and not (state.state == TEMPORARY and field in SOURCE_MANAGED):
                # Protected (or a library-managed field edited here): keep it, remember the file's.
                if field in cleaned:
                    plan.source_values.append((state.id, as_text(cleaned[field])))
                    plan.log.append((f"{label} (source value)", state.source_value,
                                     as_text(cleaned[field])))
                continue
            if field in cleaned:
                old = _shown(user[field], field in BOOLEAN_FIELDS)
                plan.fields[field] = cleaned[field]
                plan.log.append((label, old, as_text(cleaned[field])))
                if field == "primary_id":
                    plan.claims.append((cleaned[field], "primary_id"))
                if field in _INDEXED:
                    plan.reindex = True
                if state is not None:
                    plan.overwritten.append((label, old, as_text(cleaned[field])))
            if state is not None:
                # The temporary edit gives way: the field holds the source's value again.
                plan.drop_states.append(state.id)
                plan.log.append((f"{label} (provenance)", TEMPORARY, "source"))
        if plan.missing and "status" in plan.fields:
            plan.action = "deactivated"

    def _new_user(self, plan):
        cleaned = self._clean_fields(plan, plan.row.fields)
        if plan.errors:
            return
        plan.action = "created"
        plan.fields = cleaned
        plan.claims.append((cleaned["primary_id"], "primary_id"))
        plan.log.append(("Record", None, "created"))
        plan.log.extend((LABELS[f], None, as_text(cleaned[f])) for f in FILE_FIELDS
                        if cleaned.get(f) not in (None, ""))
        plan.reindex = True

    def _clean_fields(self, plan, wanted):
        """Return WANTED cleaned by the user service's rules; add any errors to PLAN."""
        if not wanted:
            return {}
        values = {f: t for f, t in wanted.items() if f != "primary_id"}
        user = plan.user
        context = None
        if user is not None and ("expiry_date" in values or "purge_date" in values):
            context = types.SimpleNamespace(
                expiry_date=_as_date(user["expiry_date"]), purge_date=_as_date(user["purge_date"]))
        try:
            cleaned = clean_general(values, context)
        except ValidationError as exc:
            plan.errors.extend(_errors_of(exc, {}))
            cleaned = {}
        if "primary_id" in wanted:
            # Its uniqueness is checked for the whole chunk at once (_check_claims).
            _check_identifier(wanted["primary_id"], "primary_id", plan.errors, model=User,
                              field="primary_id", label=LABELS["primary_id"])
            cleaned["primary_id"] = wanted["primary_id"]
        return cleaned

    # -- segments

    def _compare_segments(self, plan, kind, items, records):
        make_key = _KEY_MAKERS[kind]
        stored = [_Stored(kind, r, make_key(r)) for r in (sorted(records) if len(records) > 1 else records)]
        external = [s for s in stored if s.record[2] == "external"]
        if len(items) == len(external) and not any(s.record[3] for s in external):
            # The common case: the file says what is stored, so nothing changes.
            if len(items) < 2:
                if not items or items[0].key == external[0].key:
                    return
            elif sorted(i.key for i in items) == sorted(s.key for s in external):
                self._check_preferred(plan, kind, items)
                return
        pool = {}
        for segment in external:
            pool.setdefault(segment.key, []).append(segment)
        # An identifier the user holds as an internal one already needs no external twin.
        held = ({s.key[1] for s in stored if s.segment == "internal"} if kind == "identifiers"
                else ())
        kept, added = [], []
        for item in items:
            bucket = pool.get(item.key)
            if bucket:
                kept.append(bucket.pop(0))
            elif not (held and item.values.get("value") in held):
                added.append(item)
        dropped = [s for bucket in pool.values() for s in bucket]
        restored = [s for s in kept if s.edited_locally]
        if not (dropped or added or restored) and len(items) < 2:
            return
        cleaned = self._clean_segments(plan, kind, items, added)
        if plan.errors or not (dropped or added or restored):
            return
        label = SEGMENT_LABELS[kind]
        # A dropped entry and an added one make a replaced entry, changed in place (and read as
        # one change, old -> new); it keeps its "preferred" flag, the library's choice.
        # Identifiers are deleted and inserted instead: their values must stay unique at every step.
        pairs = [] if kind == "identifiers" else list(zip(dropped, cleaned, strict=False))
        survivors = [s for s in stored if s.segment == "internal"] + kept + [d for d, _ in pairs]
        has_preferred = any(s.preferred for s in survivors)
        compared = _SEGMENT_COMPARED[kind]
        defaults = _FIELD_DEFAULTS[kind]
        for segment, values in pairs:
            full = {f: values.get(f, defaults[f]) for f in compared}
            plan.replace_segments.setdefault(kind, []).append((segment.id, full))
            before = segment.described()
            after = _described(kind, dict(full, preferred=segment.preferred, segment="external"))
            plan.log.append((label, before, after))
            if segment.edited_locally:
                plan.overwritten.append((label, before, after))
        dropped, cleaned = dropped[len(pairs):], cleaned[len(pairs):]
        after = []
        for values in cleaned:
            if values.get("preferred") and has_preferred:
                # The library's preferred entry stays preferred.
                values["preferred"] = False
            plan.add_segments.setdefault(kind, []).append(values)
            after.append(_described(kind, dict(values, segment="external")))
        if dropped:
            plan.drop_segments[kind] = [s.id for s in dropped]
        for n in range(max(len(dropped), len(after))):
            before = dropped[n].described() if n < len(dropped) else None
            new = after[n] if n < len(after) else None
            plan.log.append((label, before, new))
            if n < len(dropped) and dropped[n].edited_locally:
                plan.overwritten.append((label, before, new))
        for segment in restored:
            # Edited here, and the source now says the same: it holds the source's value again.
            plan.restore_segments.setdefault(kind, []).append(segment.id)
            plan.log.append((f"{label} (provenance)", "edited here",
                             f"source: {segment.described()}"))
        if plan.action == "unchanged":
            plan.action = "updated"
        if kind in ("identifiers", "emails") and (dropped or cleaned or pairs):
            plan.reindex = True

    def _check_preferred(self, plan, kind, items):
        if len(items) > 1 and sum(1 for item in items if item.values.get("preferred") == "yes") > 1:
            plan.errors.append(f"{kind}: Only one entry can be preferred.")

    def _clean_segments(self, plan, kind, items, added):
        """Return the cleaned values of the ADDED segments; add any errors to PLAN."""
        self._check_preferred(plan, kind, items)
        cleaned = []
        for item in added:
            values = dict(item.values)
            if kind == "identifiers":
                # Its uniqueness is checked for the whole chunk at once (_check_claims).
                value = values.pop("value", "")
                values.setdefault("id_type", "")
                _check_identifier(value, item.where["value"], plan.errors, model=Identifier,
                                  field="value", label=SEGMENT_FIELDS[kind]["value"])
            action = "update" if kind == "identifiers" else "add"
            try:
                result = clean_segment(SegmentChange(kind, action, values))
            except ValidationError as exc:
                plan.errors.extend(_errors_of(exc, item.where))
                continue
            if kind == "identifiers":
                result["value"] = value
                plan.claims.append((value, item.where["value"]))
            cleaned.append(result)
        return cleaned

    def _check_claims(self, plans):
        """Refuse identifiers that another user holds: two queries for the whole chunk."""
        wanted = {value for p in plans for value, _ in p.claims}
        if not wanted:
            return
        by_primary = dict(_select_in(User, ("primary_id", "id"), "primary_id", wanted))
        by_identifier = dict(_select_in(Identifier, ("value", "user"), "value", wanted))
        for plan in plans:
            uid = plan.user_id
            for value, where in plan.claims:
                if by_primary.get(value, uid) != uid or by_identifier.get(value, uid) != uid:
                    plan.errors.append(f"{where}: {value}: another user already has this identifier.")

    # -- recording

    def _record(self, plan):
        """Count PLAN, add it to the digest and the report."""
        row = plan.row
        if plan.errors:
            plan.action = "rejected"
            self.counts["rejected"] += 1
            for message in plan.errors:
                self.errors_total += 1
                self.digest.update(repr(("error", row.line, message)).encode())
                if len(self.errors) < KEEP_ERRORS:
                    self.errors.append({"line": row.line, "external_id": row.external_id,
                                        "message": message})
            return
        if not plan.log:
            if not plan.missing:
                self.counts["unchanged"] += 1
            return
        if plan.action == "unchanged":
            plan.action = "updated"
        self.counts[plan.action] += 1
        self.digest.update(repr((plan.action, row.external_id, plan.user_id, plan.log)).encode())
        self.diffs_total += 1
        name = _user_name(plan.user, row)
        if len(self.diffs) < KEEP_DIFFS:
            entry = {"action": plan.action, "external_id": row.external_id, "user_id": plan.user_id,
                     "name": name, "line": row.line, "changes": [list(e) for e in plan.log]}
            self.diffs.append(entry)
            if plan.user is None:
                # A created user gets its id when written; the report links to it then.
                self.unnumbered.append((plan, entry))
        for what, local, incoming in plan.overwritten:
            self.overwritten_total += 1
            if len(self.overwritten) < KEEP_OVERWRITTEN:
                self.overwritten.append({"external_id": row.external_id, "user_id": plan.user_id,
                                         "name": name, "what": what, "local": local,
                                         "file": incoming})

    def report(self):
        """Return the counts and lists of this pass as a report."""
        return {
            "counts": dict(self.counts),
            "digest": self.digest.hexdigest(),
            "errors": self.errors,
            "errors_total": self.errors_total,
            "diffs": self.diffs,
            "diffs_total": self.diffs_total,
            "overwritten": self.overwritten,
            "overwritten_total": self.overwritten_total,
        }

    # -- writing

    def _write(self, plans):
        """Write the changes of PLANS with a few bulk statements."""
        when, actor = self.stamp, self.actor.name
        groups = {}
        for plan in plans:
            if plan.user is not None:
                groups.setdefault(tuple(sorted(plan.fields)), []).append(plan)
        new = [p for p in plans if p.user is None]
        if new:
            self._create_users(new)
        for fields, members in groups.items():
            columns = list(fields) + ["last_synced_at", "modified_at", "modified_by"]
            converters = [User._meta.fields[f].db_value for f in fields]
            _executemany(
                _update_sql(User, columns, bump="version"),
                [tuple(conv(p.fields[f]) for conv, f in zip(converters, fields, strict=True))
                 + (when, when, actor, p.user_id) for p in members],
            )
        _delete_ids(FieldState, [i for p in plans for i in p.drop_states])
        _executemany(_update_sql(FieldState, ["source_value"]),
                     [(text, fs_id) for p in plans for fs_id, text in p.source_values])
        for kind, model in SEGMENT_MODELS.items():
            _delete_ids(model, [i for p in plans for i in p.drop_segments.get(kind, ())])
            _executemany(_update_sql(model, ["edited_locally"]),
                         [(False, i) for p in plans for i in p.restore_segments.get(kind, ())])
            compared = _SEGMENT_COMPARED[kind]
            _executemany(_update_sql(model, list(compared) + ["edited_locally"]),
                         [tuple(values[f] for f in compared) + (False, i)
                          for p in plans for i, values in p.replace_segments.get(kind, ())])
            self._add_segments(kind, plans)
        via = self.via
        _insert_rows(History, ("user", "at", "actor", "via", "field", "old", "new"),
                     [(p.user_id, when, actor, via, label, old, new)
                      for p in plans for label, old, new in p.log])
        reindex = [p.user_id for p in plans if p.reindex]
        if reindex:
            search.index_users(reindex)

    def _remember(self, plans):
        """Keep each row's fingerprint with the user's version after this run (see SyncState)."""
        if not plans:
            return
        param = db.obj.param
        table, user, version = _quoted("sync_state"), _quoted("user_id"), _quoted("version")
        fingerprint = _quoted("fingerprint")
        _executemany(
            f"INSERT INTO {table} ({user}, {fingerprint}, {version}) VALUES ({param}, {param}, {param}) "
            f"ON CONFLICT ({user}) DO UPDATE SET {fingerprint} = excluded.{fingerprint}, "
            f"{version} = excluded.{version}",
            [(p.user_id, p.row.fingerprint, 1 if p.action == "created" else
              p.user["version"] + (1 if p.log else 0)) for p in plans],
        )

    def _create_users(self, plans):
        when, actor = self.stamp, self.actor.name
        _insert(User, [dict(plan.fields, source=self.source, external_id=plan.row.external_id,
                            account_type="external", record_type="public", last_synced_at=when,
                            created_at=when, created_by=actor, modified_at=when, modified_by=actor)
                       for plan in plans])
        ids = dict(_select_in(User, ("external_id", "id"), "external_id",
                              [p.row.external_id for p in plans], equal=("source", self.source)))
        for plan in plans:
            plan.user = {"id": ids[plan.row.external_id]}

    def _add_segments(self, kind, plans):
        records = []
        for plan in plans:
            for values in plan.add_segments.get(kind, ()):
                record = dict(values, user=plan.user_id, segment="external", edited_locally=False)
                if kind == "notes":
                    record.update(created_by=self.actor.name, created_at=self.stamp)
                records.append(record)
        _insert(SEGMENT_MODELS[kind], records)


def _as_date(value):
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


# ---------------------------------------------------------------- bulk statements


def _quoted(name):
    quote = db.obj.quote
    return f"{quote[0]}{name}{quote[1]}"


def _column(model, name):
    return _quoted(model._meta.fields[name].column_name)


def _update_sql(model, columns, bump=None):
    """Return 'UPDATE table SET col = ?, … WHERE id = ?' for executemany."""
    param = db.obj.param
    sets = [f"{_column(model, c)} = {param}" for c in columns]
    if bump:
        sets.append(f"{_column(model, bump)} = {_column(model, bump)} + 1")
    return (f"UPDATE {_quoted(model._meta.table_name)} SET {', '.join(sets)} "
            f"WHERE {_column(model, 'id')} = {param}")


def _executemany(sql, params):
    """Run SQL once per parameter tuple with one prepared statement."""
    if params:
        with exception_wrapper:
            db.cursor().executemany(sql, params)


def _insert(model, records):
    """Insert RECORDS (dicts of field -> value; the model's defaults fill the rest) in bulk.

    Values go to the driver as they are (text, numbers, dates, ids), as peewee would
    pass them; converting each through the field costs more than the insert.
    """
    if not records:
        return
    fields = [f for f in model._meta.sorted_fields if not f.primary_key]
    defaults = {}
    for field in fields:
        default = field.default
        defaults[field.name] = default() if callable(default) else default
    names = [f.name for f in fields]
    params = [tuple([r[n] if n in r else defaults[n] for n in names]) for r in records]
    columns = ", ".join(_quoted(f.column_name) for f in fields)
    marks = ", ".join([db.obj.param] * len(fields))
    _executemany(f"INSERT INTO {_quoted(model._meta.table_name)} ({columns}) VALUES ({marks})", params)


def _insert_rows(model, names, rows):
    """Insert ROWS, tuples of values for the fields NAMES (every other field has a database default)."""
    columns = ", ".join(_column(model, n) for n in names)
    marks = ", ".join([db.obj.param] * len(names))
    _executemany(f"INSERT INTO {_quoted(model._meta.table_name)} ({columns}) VALUES ({marks})", rows)


def _delete_ids(model, ids):
    """Delete the rows of MODEL with these ids, a thousand per statement."""
    param = db.obj.param
    for part in _in_chunks(ids):
        db.execute_sql(f"DELETE FROM {_quoted(model._meta.table_name)} WHERE {_column(model, 'id')} "
                       f"IN ({', '.join([param] * len(part))})", tuple(part))


# ---------------------------------------------------------------- runs


def _read_transaction():
    """Return a transaction that sees one consistent snapshot and takes no write lock."""
    return db.atomic("DEFERRED") if database.is_sqlite() else db.atomic()


def report(run):
    """Return the report of RUN as a dict."""
    try:
        found = json.loads(run.report or "{}")
    except ValueError:
        found = {}
    found.setdefault("file_errors", [])
    for key in ("errors", "diffs", "overwritten"):
        found.setdefault(key, [])
        found.setdefault(f"{key}_total", len(found[key]))
    found.setdefault("options", {})
    return found


def get_run(run_id):
    """Return the run with RUN_ID or raise NotFound."""
    from webapp.services import NotFound

    run = SyncRun.get_or_none(SyncRun.id == run_id)
    if run is None:
        raise NotFound(f"There is no synchronization run {run_id}.")
    return run


def recent_runs(limit=50):
    """Return the latest runs, newest first."""
    return list(SyncRun.select().order_by(SyncRun.id.desc()).limit(limit))


def _start(data, *, filename, source, actor, options):
    """Record a new run and return it with its decoded file."""
    source = (source or "").strip()
    errors = {}
    if not source:
        errors["source"] = "Source system is required."
    elif len(source) > _max(SyncRun, "source"):
        errors["source"] = f"Use at most {_max(SyncRun, 'source')} characters."
    if errors:
        raise ValidationError(errors)
    sync_file = decode(data, filename, options.get("max_bytes"))
    with db.atomic():
        run = SyncRun.create(at=now(), by=actor.name, source=source,
                             filename=(filename or "upload")[: _max(SyncRun, "filename")],
                             sha256=hashlib.sha256(data).hexdigest(), status=RUNNING)
    return run, sync_file


_NOTHING = {"counts": {}, "errors": [], "errors_total": 0, "diffs": [], "diffs_total": 0,
            "overwritten": [], "overwritten_total": 0, "digest": None}


def _finish(run, status, sync_file, result, options):
    """Store the outcome of a pass on RUN (call inside the transaction that wrote it)."""
    if sync_file.errors:
        # A file rejected as a whole changes nothing: only its errors are worth reading.
        result = dict(_NOTHING, errors=result["errors"] if result else [],
                      errors_total=result["errors_total"] if result else 0)
    counts = result["counts"]
    for key in ("created", "updated", "unchanged", "deactivated", "rejected"):
        setattr(run, key, counts.get(key, 0))
    run.status = status
    body = dict(result, format=sync_file.format, rows=sync_file.total, file_errors=sync_file.errors,
                message=_outcome_message(status, sync_file, result),
                options={k: v for k, v in options.items() if k != "max_bytes"})
    run.report = json.dumps(body, ensure_ascii=False, default=str)
    run.save()
    return run


def _outcome_message(status, sync_file, result):
    if sync_file.errors:
        return "Rejected: the file cannot be used as it is; nothing was changed."
    counts = result["counts"]
    rows_have = "row has" if counts["rejected"] == 1 else "rows have"
    summary = ", ".join(f"{counts[k]:,} {k}" for k in ("created", "updated", "unchanged", "deactivated",
                                                       "rejected"))
    return {
        PREVIEWED: f"Preview: {summary}. Nothing changes until you confirm.",
        DRY_RUN: f"Dry run: {summary}. Nothing was changed.",
        APPLIED: f"Applied: {summary}.",
        REJECTED: f"Rejected: {counts['rejected']:,} {rows_have} errors; nothing was changed.",
        STALE: "Not applied: the records changed since this preview. Preview the file again.",
    }[status]


def _status(sync_file, result, options, ok):
    """Return OK, or REJECTED when the file or (without skip_invalid) a row has errors."""
    if sync_file.errors or (result["errors_total"] and not options["skip_invalid"]):
        return REJECTED
    return ok


def _pass(run, actor, options, progress, write):
    return _Pass(run.source, actor, run.id, write=write, deactivate_missing=options["deactivate_missing"],
                 skip_invalid=options["skip_invalid"], progress=progress)


def _read_pass(run, sync_file, actor, options, progress):
    """Compare SYNC_FILE with one snapshot of the database; return the report."""
    work = _pass(run, actor, options, progress, write=False)
    with _read_transaction():
        work.run(sync_file)
    return work.report()


def _mark(run, status):
    with db.atomic():
        SyncRun.update(status=status).where(SyncRun.id == run.id).execute()
    run.status = status


def _write_pass(run, sync_file, actor, options, progress, expected=None):
    """Compare and write in one transaction; commit only if the run is acceptable.

    EXPECTED is the previewed report: the writes are kept only when they have the same
    digest and counts. Returns (status, report); unless APPLIED nothing was written.
    """
    work = _pass(run, actor, options, progress, write=True)
    outcome = {}
    try:
        with db.atomic():
            if expected is not None:
                fresh = SyncRun.get_by_id(run.id)
                if fresh.status != PREVIEWED:
                    raise SyncRefused(f"This run is {fresh.status}; it cannot be applied.")
            work.run(sync_file)
            result = outcome["result"] = work.report()
            outcome["status"] = _status(sync_file, result, options, APPLIED)
            if outcome["status"] == APPLIED and expected is not None and (
                result["digest"] != expected.get("digest") or result["counts"] != expected.get("counts")
            ):
                outcome["status"] = STALE
            if outcome["status"] != APPLIED:
                raise _Rollback
            _finish(run, APPLIED, sync_file, result, options)
    except _Rollback:
        pass
    return outcome["status"], outcome["result"]


def _options(deactivate_missing, skip_invalid, max_bytes):
    return {"deactivate_missing": bool(deactivate_missing), "skip_invalid": bool(skip_invalid),
            "max_bytes": max_bytes}


def preview(data, *, filename, source, actor, deactivate_missing=False, skip_invalid=False,
            max_bytes=None, progress=None):
    """Compute and record what synchronizing DATA would change; change nothing else."""
    options = _options(deactivate_missing, skip_invalid, max_bytes)
    run, sync_file = _start(data, filename=filename, source=source, actor=actor, options=options)
    result = None
    if not sync_file.errors:
        try:
            result = _read_pass(run, sync_file, actor, options, progress)
        except Exception:
            _mark(run, FAILED)
            raise
    status = REJECTED if result is None else _status(sync_file, result, options, PREVIEWED)
    with db.atomic():
        return _finish(run, status, sync_file, result, options)


def apply(run_id, data, *, actor, max_bytes=None, progress=None):
    """Apply a previewed run exactly as it was previewed, or raise and change nothing."""
    run = get_run(run_id)
    if run.status != PREVIEWED:
        raise SyncRefused(f"This run is {run.status}; only a previewed run can be applied.")
    if data is None or hashlib.sha256(data).hexdigest() != run.sha256:
        raise SyncRefused("The file of this preview is no longer here; upload it again.")
    previous = report(run)
    options = _options(previous["options"].get("deactivate_missing"),
                       previous["options"].get("skip_invalid"), max_bytes)
    sync_file = decode(data, run.filename, max_bytes)
    if sync_file.errors:
        raise SyncRefused("The file of this preview can no longer be read; upload it again.")
    try:
        status, result = _write_pass(run, sync_file, actor, options, progress, expected=previous)
    except SyncRefused:
        raise
    except Exception:
        _mark(run, FAILED)
        raise
    if status != APPLIED:
        with db.atomic():
            _finish(run, STALE, sync_file, previous, options)
        raise StalePreview("The records changed since this preview, so nothing was applied. "
                           "Preview the file again to see the changes as they are now.")
    return get_run(run.id)


def synchronize(data, *, filename, source, actor, dry_run=False, deactivate_missing=False,
                skip_invalid=False, max_bytes=None, progress=None):
    """Preview DATA and, unless DRY_RUN, apply it in one transaction; return the recorded run."""
    options = _options(deactivate_missing, skip_invalid, max_bytes)
    run, sync_file = _start(data, filename=filename, source=source, actor=actor, options=options)
    result = None
    if not sync_file.errors:
        try:
            if dry_run:
                result = _read_pass(run, sync_file, actor, options, progress)
                status = _status(sync_file, result, options, DRY_RUN)
            else:
                status, result = _write_pass(run, sync_file, actor, options, progress)
        except Exception:
            _mark(run, FAILED)
            raise
    if result is None:
        status = REJECTED
    if status != APPLIED:
        with db.atomic():
            _finish(run, status, sync_file, result, options)
    return get_run(run.id)
