"""What every edit form posts besides its fields (version, loaded values, own edits), and its segments."""

import json
import re

from flask import abort

from webapp.services.fields import SEGMENT_BOOLEANS, SEGMENT_FIELDS


def form_version(form):
    """Return the record version FORM was loaded with, or answer 400 when it is missing."""
    raw = form.get("version", "")
    if not raw.isdigit():
        abort(400, "The form is missing the record's version. Reload the page and try again.")
    return int(raw)


def loaded_values(form):
    """Return the values an edit form was loaded with (its hidden "loaded" input), or {}."""
    try:
        loaded = json.loads(form.get("loaded") or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


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
