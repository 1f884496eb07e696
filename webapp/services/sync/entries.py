"""Walking a file: decoding it, its records one by one, and values repeated across rows."""

from webapp.services.sync.csv_format import csv_records, read_header
from webapp.services.sync.json_format import json_identity, json_records, json_row
from webapp.services.sync.rows import FIELD_RULES, SyncFile
from webapp.services.text import UnsafeText, clean, plain, shown


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
    if "\x00" in text[: text.find("\n") + 1 or None]:
        # A NUL further down rejects its row; on the first line it is a UTF-16 or binary file.
        return SyncFile(None, errors=["Line 1: the file contains a NUL character; it is not a "
                                      "CSV or JSON text file. Save it as UTF-8 and upload it again."])
    if name.endswith(".json"):
        fmt = "json"
    elif name.endswith((".csv", ".txt")):
        fmt = "csv"
    else:
        fmt = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    sync_file = SyncFile(fmt, text)
    if fmt == "csv":
        sync_file.estimate = max(text.count("\n") - 1, 1)
        read_header(sync_file)
    elif text.lstrip()[:1] != "[":
        sync_file.errors.append("A JSON file holds a list of users: [ {\"external_id\": …}, … ].")
    else:
        sync_file.estimate = max(text.count('"external_id"'), 1)
    return sync_file


def records(sync_file):
    """Yield (line, record) of the file: a CSV record's cells, or a JSON entry."""
    if sync_file.format == "csv":
        found = csv_records(sync_file.text)
        next(found, None)  # the header
        yield from found
    else:
        yield from json_records(sync_file.text)


class Entry:
    """One record of the file before it is read in full: where it is and who it is about."""

    __slots__ = ("line", "raw", "external_id", "fingerprint", "errors")

    def __init__(self, line, raw, external_id, fingerprint, errors):
        """Hold one record, its identity and the errors found across rows."""
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
    identity = sync_file.layout.identity if sync_file.format == "csv" else json_identity
    lines_of, first_of_value, doubled = sync_file.lines_of, {}, {}
    try:
        for line, raw in records(sync_file):
            sync_file.total += 1
            ext, values, fingerprint = identity(raw)
            if ext and not plain(ext):
                ext = lookup_key(ext)
            if ext:
                if ext in lines_of:
                    doubled.setdefault(ext, [lines_of[ext]]).append(line)
                else:
                    lines_of[ext] = line
            yield Entry(line, raw, ext, fingerprint, check_repeats(line, values, first_of_value))
    except ValueError as exc:
        sync_file.errors.append(str(exc))
    for ext, lines in list(doubled.items())[:20]:
        sync_file.errors.append(
            f"External ID {ext} is on more than one line: {', '.join(str(n) for n in lines)}.")
    if len(doubled) > 20:
        sync_file.errors.append(f"… and {len(doubled) - 20} more external IDs on more than one line.")
    if sync_file.total == 0 and not sync_file.errors:
        sync_file.errors.append("The file has no users in it.")


def lookup_key(ext):
    """Return external ID EXT as the database may be asked for it: normalized, or escaped.

    An ID the boundary refuses rejects its row (read_row says why); escaped, it can still
    be looked up and reported without a NUL or a lone surrogate reaching the database.
    """
    try:
        return clean(ext, "external_id", FIELD_RULES["external_id"])
    except UnsafeText:
        return shown(ext)


def read_row(sync_file, entry):
    """Return the Row of ENTRY, its values normalized and every error found so far attached."""
    row = (sync_file.layout.row if sync_file.format == "csv" else json_row)(entry.line, entry.raw)
    row.fingerprint = entry.fingerprint
    if not row.external_id and not any(m.startswith("external_id") for m in row.errors):
        row.errors.append("external_id: External ID is required.")
    row.errors.extend(entry.errors)
    return row


def check_repeats(line, values, first_of_value):
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
