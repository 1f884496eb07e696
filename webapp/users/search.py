"""User search: the results page behind the persistent search box."""

from flask import current_app, redirect, request, url_for

from webapp.services import search as user_search
from webapp.services.permissions import ROLES
from webapp.users.routes import bp
from webapp.web import hx_headers, permission_required, render, wants_fragment
from webapp.web.ids import as_id

# The search box's maxlength: longer text is cut, never an error.
MAX_QUERY = 200
FILTER_LABELS = {
    "account_type": ("Account type", {"internal": "Internal", "external": "External"}),
    "record_type": ("Record type", {"public": "Public", "staff": "Staff"}),
    "status": ("Status", {"active": "Active", "inactive": "Inactive"}),
    "role": ("Role", {name: name for name in ROLES}),
}


def _page_number(text):
    """Return the page asked for, 1 for anything that is not a positive number."""
    number = as_id(text)
    return number if number is not None and number < 100_000 else 1


@bp.route("/")
@permission_required("users.view")
def search():
    """Find users by name, identifier or email; open an exact identifier match directly."""
    query = request.args.get("q", "")[:MAX_QUERY]
    filters = {
        field: request.args.get(field, "")
        for field in FILTER_LABELS
        if request.args.get(field, "") in user_search.FILTER_VALUES[field]
    }
    # A scanned barcode or a typed identifier, submitted, opens the user. While the box
    # is still being typed in (live search), the match is listed first instead: a shorter
    # identifier may be the start of the one being typed.
    live = request.headers.get("X-Live-Search") == "true"
    if query.strip() and not live:
        user = user_search.find_by_identifier(query)
        if user is not None:
            target = url_for("users.details", user_id=user.id)
            if request.htmx:
                return hx_headers("", redirect=target)
            return redirect(target)
    page_size = current_app.config["SEARCH_PAGE_SIZE"]
    page = _page_number(request.args.get("page"))
    results = user_search.search_users(query, filters, page, page_size)
    if results.total and page > results.pages:
        results = user_search.search_users(query, filters, results.pages, page_size)
    context = {"results": results, "filters": filters, "filter_labels": FILTER_LABELS,
               "max_term_matches": user_search.MAX_TERM_MATCHES}
    response = render("users/search.html", "users/_results.html", **context)
    if live and wants_fragment():
        # Pauses while typing refine one search: the address is replaced, not pushed, so
        # Back leaves the search instead of stepping through every pause.
        return hx_headers(response, replace_url=request.full_path.rstrip("?"))
    return response
