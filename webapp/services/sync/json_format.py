"""JSON files: a list of user objects, read entry by entry."""

import json
import re

from webapp.services.fields import BOOLEAN_FIELDS, LABELS, SEGMENT_BOOLEANS, SEGMENT_FIELDS, SEGMENT_LABELS
from webapp.services.sync.rows import (
    FIELD_RULES,
    FILE_FIELDS,
    FINGERPRINT_VERSION,
    REQUIRED_COLUMNS,
    SEGMENT_RULES,
    FileSegment,
    Row,
    file_text,
    fingerprint,
)
from webapp.services.text import shown

JSON_KEYS = ("external_id",) + FILE_FIELDS + tuple(SEGMENT_FIELDS)
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def json_records(text):
    """Yield (line, value) for each entry of the top-level JSON list, or raise ValueError."""
    decoder = json.JSONDecoder()
    pos = _JSON_SPACE.match(text, 0).end()
    line, counted = 1, 0

    def line_at(at):
        """Return the line of position AT, counting on from the last call."""
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


def json_identity(raw):
    """Return (external ID, [(identifying value, where)], fingerprint) of a JSON entry."""
    digest = fingerprint(FINGERPRINT_VERSION + json.dumps(
        raw, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    if not isinstance(raw, dict):
        return "", [], digest
    ext = raw.get("external_id")
    ext = str(ext).strip() if isinstance(ext, str | int) and not isinstance(ext, bool) else ""
    primary = raw.get("primary_id")
    values = [(primary.strip(), "primary_id")] if isinstance(primary, str) else []
    idents = raw.get("identifiers")
    if isinstance(idents, list):
        for n, item in enumerate(idents, 1):
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                values.append((item["value"].strip(), f"identifiers[{n}].value"))
    return ext, values, digest


def json_row(line, raw):
    """Return the Row of a JSON entry."""
    if not isinstance(raw, dict):
        return Row(line, "", errors=["Each entry must be an object: {\"external_id\": …, …}."])
    errors = []
    unknown = [str(k) for k in raw if k not in JSON_KEYS]
    if unknown:
        errors.append(f"unknown fields: {', '.join(unknown)}. The known fields are {', '.join(JSON_KEYS)}.")
    try:
        ext = file_text(raw.get("external_id"), rule=FIELD_RULES["external_id"])
    except ValueError as exc:
        errors.append(f"external_id: {exc}")
        # The report names the row by its external ID as given, escaped.
        ext = shown(raw["external_id"]) if isinstance(raw.get("external_id"), str) else ""
    row = Row(line, ext, errors=errors)
    for field in REQUIRED_COLUMNS[1:]:
        if field not in raw:
            errors.append(f"{field}: {LABELS[field]} is required.")
    for field in FILE_FIELDS:
        if field in raw:
            try:
                row.fields[field] = file_text(raw[field], field in BOOLEAN_FIELDS, FIELD_RULES[field])
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
                        values[field] = file_text(item[field], field in SEGMENT_BOOLEANS,
                                                  SEGMENT_RULES[kind][field])
                    except ValueError as exc:
                        errors.append(f"{path}.{field}: {exc}")
            segments.append(FileSegment(kind, values, {f: f"{path}.{f}" for f in fields}))
        row.segments[kind] = segments
    return row
