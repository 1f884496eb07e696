"""Small helpers every blueprint uses to answer a page or the fragment the page includes."""

from flask import request


def wants_fragment():
    """Tell whether to answer with a fragment: an htmx request that is not a history restore.

    On Back with no history cache, htmx asks again with HX-History-Restore-Request and
    puts the answer in place of the whole body, so that request needs the whole page.
    """
    return bool(request.htmx) and not request.htmx.history_restore_request
