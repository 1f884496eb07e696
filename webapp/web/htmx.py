"""The one way to tell an htmx request, answer page or partial, send messages, set htmx headers."""

from flask import make_response, render_template, request

# htmx response headers by the keyword hx_headers() takes for each.
HX_HEADERS = {
    "redirect": "HX-Redirect",
    "push_url": "HX-Push-Url",
    "replace_url": "HX-Replace-Url",
    "reswap": "HX-Reswap",
}
# The message area: base.html includes it, and every fragment carries it out of band.
MESSAGES = "_messages.html"


def wants_fragment():
    """Tell whether to answer with a fragment: an htmx request that is not a history restore.

    On Back with no history cache, htmx asks again with HX-History-Restore-Request and
    puts the answer in place of the whole body, so that request needs the whole page.
    """
    return bool(request.htmx) and not request.htmx.history_restore_request


def messages_oob():
    """Return the message area with the messages flashed so far, to swap out of band."""
    return render_template(MESSAGES, oob=True)


def render(page, partial, status=200, **context):
    """Render PAGE, or for an htmx request the PARTIAL that PAGE includes, with STATUS.

    A fragment carries the message area out of band, so what was just flashed shows at
    once (and what an earlier answer said goes), instead of waiting for the next page.
    """
    if wants_fragment():
        body = render_template(partial, **context) + messages_oob()
    else:
        body = render_template(page, **context)
    response = make_response(body, status)
    # The same address answers page or partial: caches must keep them apart.
    response.vary.add("HX-Request")
    return response


def hx_headers(response, **headers):
    """Set htmx response headers (redirect, push_url, replace_url, reswap) on RESPONSE; return it.

    htmx-flask 0.1.0 rejects some reswap values and modifiers, so they are set directly.
    """
    response = make_response(response)
    for name, value in headers.items():
        if value is not None:
            response.headers[HX_HEADERS[name]] = value
    return response
