"""CSV files: the header's columns and where each value of a record sits."""

import collections
import csv
import io
import operator

from webapp.services.fields import BOOLEAN_FIELDS, SEGMENT_LABELS
from webapp.services.sync.rows import (
    FILE_FIELDS,
    FINGERPRINT_VERSION,
    REQUIRED_COLUMNS,
    SEGMENT_DEFAULTS,
    SEGMENT_KEY,
    FileSegment,
    Row,
    file_text,
    fingerprint,
)
from webapp.services.text import UnsafeText, clean, plain, rule_of, shown, taken_as_is

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
KNOWN_COLUMNS = frozenset(CSV_COLUMNS)
# The field catalogue's name of each column that is not a field itself, for its text rule.
CATALOGUE_NAMES = {c: "identifiers.value" for c in IDENTIFIER_COLUMNS} | {
    c: f"{kind}.{field}" for kind, group in CSV_SEGMENT_COLUMNS.items() for c, field in group.items()}
# A wider header is refused before it is looked at: no file needs more columns.
MAX_COLUMNS = 500


def csv_records(text):
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


def read_header(sync_file):
    """Check the CSV header; keep its layout on SYNC_FILE or add file errors."""
    try:
        line, header = next(csv_records(sync_file.text))
    except StopIteration:
        sync_file.errors.append("The file has no header row.")
        return
    except ValueError as exc:
        sync_file.errors.append(str(exc))
        return
    errors = sync_file.errors
    if len(header) > MAX_COLUMNS:
        errors.append(f"Line {line}: the header has {len(header):,} columns; a file may have at most "
                      f"{MAX_COLUMNS}.")
        return
    columns = [c.strip().lower() for c in header]
    if any(not c for c in columns):
        errors.append(f"Line {line}: column {columns.index('') + 1} of the header has no name.")
    doubled = sorted(c for c, n in collections.Counter(columns).items() if c and n > 1)
    if doubled:
        errors.append(f"Line {line}: these columns appear more than once: {', '.join(doubled)}.")
    unknown = [c for c in columns if c and c not in KNOWN_COLUMNS]
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
        sync_file.layout = CsvLayout(columns)


class CsvLayout:
    """Where each value sits in a CSV record, worked out once from the header."""

    def __init__(self, columns):
        """Work out from the header's COLUMNS where each value sits."""
        at = {c: n for n, c in enumerate(columns)}
        self.width = len(columns)
        self.rules = [(c, rule_of(CATALOGUE_NAMES.get(c, c))) for c in columns]
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
            ext = shown(cells[self.external_id].strip()) if len(cells) > self.external_id else ""
            return Row(line, ext, errors=[f"The row has {len(cells)} values; the header has "
                                          f"{self.width}."])
        cells = list(map(str.strip, cells))
        # Most records are printable ASCII throughout, and most others hold a few accented
        # letters: one check of the whole record is enough.
        errors = [] if taken_as_is(" ".join(cells)) else self.checked(cells)
        row = Row(line, cells[self.external_id], dict(zip(self.names, self.values(cells), strict=True)),
                  errors=errors)
        fields = row.fields
        for field in self.booleans:
            try:
                fields[field] = file_text(fields[field], True)
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
            values = dict(SEGMENT_DEFAULTS[kind])
            for f, n in present:
                values[f] = cells[n]
            key = SEGMENT_KEY[kind](values)
            values["preferred"] = "yes"
            segments[kind] = [FileSegment(kind, values, where, key)]
        return row

    def checked(self, cells):
        """Put each of CELLS through the boundary for untrusted text, in place; return the errors.

        A refused value stays in the row escaped, so the report can quote it.
        """
        errors = []
        for n, (column, rule) in enumerate(self.rules):
            value = cells[n]
            if not plain(value):
                try:
                    cells[n] = clean(value, column, rule)
                except UnsafeText as exc:
                    errors.append(f"{column}: {exc.message}")
                    cells[n] = shown(value)
        return errors

    def identity(self, cells):
        """Return (external ID, [(identifying value, column)], fingerprint) of a record."""
        digest = fingerprint(self.prefix + "\x1f".join(cells))
        if len(cells) != self.width:
            return "", [], digest
        return (cells[self.external_id].strip(),
                [(cells[n].strip(), c) for c, n in self.identifying], digest)
