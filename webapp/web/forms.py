"""What every edit form posts besides its fields (version, loaded values, own edits), and its segments."""

import json
import re

from flask import abort

from webapp.services.fields import SEGMENT_BOOLEANS, SEGMENT_FIELDS, as_id


def form_version(form):
    """Return the record version FORM was loaded with, or answer 400 when it is missing."""
    version = as_id(form.get("version", ""))
    if version is None:
        abort(400, "The form is missing the record's version. Reload the page and try again.")
    return version


# The hidden "loaded" input holds {input name: text or list of texts}: one level of
# nesting, and far less than this many characters (a User Details form is a few KB).
LOADED_MAX_CHARS = 64_000
LOADED_MAX_DEPTH = 2
LOADED_REFUSED = ("The form's record of its loaded values is not readable. "
                  "Reload the page and try again.")
# A JSON string (skipped whole, so brackets inside it do not count) or a bracket.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(text):
    """Return how deeply TEXT's JSON arrays and objects nest, without parsing it."""
    depth = deepest = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth -= 1
    return deepest


def _text_or_texts(value):
    return isinstance(value, str) or (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value))


def loaded_values(form):
    """Return the values an edit form was loaded with (its hidden "loaded" input), or {}.

    Anything but a flat mapping of input name to text (or list of texts) answers 422:
    it was not written by the form, and a deep one would exhaust the JSON parser.
    """
    raw = form.get("loaded") or ""
    if not raw.strip():
        return {}
    if len(raw) > LOADED_MAX_CHARS or json_depth(raw) > LOADED_MAX_DEPTH:
        abort(422, LOADED_REFUSED)
    try:
        loaded = json.loads(raw)
    except ValueError:
        abort(422, LOADED_REFUSED)
    if not isinstance(loaded, dict) or not all(_text_or_texts(v) for v in loaded.values()):
        abort(422, LOADED_REFUSED)
    return loaded


def own_edits(form, loaded):
    """Return {input name: value} of what the staff member changed from LOADED.

    After an edit conflict only these are re-applied over the record as it is now, so a
    value the other person saved is not written back with the stale one the form held.
    An input absent from the post (an unticked checkbox) counts as empty.
    """
    edits = {}
    for name, was in loaded.items():
        now = form.getlist(name)[-1] if name in form else ""
        if str(now) != str(was):
            edits[name] = now
    return edits


def conflict_rows(current, rows):
    """Return the edit-conflict box: ROWS of (label, theirs, yours) and who changed CURRENT when."""
    return {"rows": rows, "modified_by": current.modified_by, "modified_at": current.modified_at}


def segment_values(form, kind, prefix):
    """Return the posted values of one segment of KIND whose inputs are named PREFIX.field.

    An unticked checkbox sends nothing, so a flag absent from the post reads as empty;
    any other field absent from the post is left out and keeps its value.
    """
    values = {}
    for field in SEGMENT_FIELDS[kind]:
        name = f"{prefix}.{field}"
        if field in SEGMENT_BOOLEANS:
            values[field] = form.get(name, "")
        elif name in form:
            values[field] = form[name]
    return values


def posted_segment(form, kind):
    """Return the prefix (KIND.<segment id> or KIND.new) of FORM's first input of KIND, or None.

    A form loaded before someone else's change still names the segment it was loaded
    with; its values are read under that prefix wherever they are shown again.
    """
    fields = "|".join(map(re.escape, SEGMENT_FIELDS[kind]))
    pattern = re.compile(rf"({re.escape(kind)}\.(?:\d+|new))\.(?:{fields})")
    found = (pattern.fullmatch(name) for name in form)
    return next((match.group(1) for match in found if match), None)
