"""Small helpers every blueprint uses to answer a page or the fragment the page includes."""

import json

from flask import request


def wants_fragment():
    """Tell whether to answer with a fragment: an htmx request that is not a history restore.

    On Back with no history cache, htmx asks again with HX-History-Restore-Request and
    puts the answer in place of the whole body, so that request needs the whole page.
    """
    return bool(request.htmx) and not request.htmx.history_restore_request


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
