"""User search at full size: a scan, typed identifiers, names, an email, a common name."""

import urllib.parse

from bench.harness import HttpScenario
from webapp.services.demo import FIRST, LAST

LIVE = {"HX-Request": "true", "X-Live-Search": "true"}


def _samples(ctx, count=200):
    """Return (barcodes, emails, [(first, last)]) of patrons spread over the database."""
    step = max(len(ctx.patron_ids) // count, 1)
    ids = ctx.patron_ids[::step][:count]
    marks = ", ".join("?" * len(ids))
    with ctx.db.connect() as con:
        barcodes = [r[0] for r in con.execute(
            f"SELECT value FROM identifier WHERE id_type = 'barcode' AND user_id IN ({marks})", ids)]
        emails = [r[0] for r in con.execute(
            f"SELECT address FROM email WHERE user_id IN ({marks})", ids)]
        names = con.execute(
            f'SELECT first_name, last_name FROM "user" WHERE id IN ({marks})', ids).fetchall()
    return barcodes, emails, names


def _search(query, **args):
    return "/users/?" + urllib.parse.urlencode({"q": query, **args})


def http_scenarios(ctx):
    barcodes, emails, names = _samples(ctx)
    prefixes = [last[:4] for last in LAST]
    pick = lambda values, i: values[(i * 7919) % len(values)]  # noqa: E731
    return [
        # A scanned barcode: answered with a redirect to User Details.
        HttpScenario("search: exact identifier (scan)", lambda i: _search(pick(barcodes, i)),
                     budget_ms=10),
        # The same identifier while still being typed: the list, the match first.
        HttpScenario("search: identifier typed, live",
                     lambda i: _search(pick(barcodes, i)[:-1]), headers=LIVE, budget_ms=10),
        HttpScenario("search: surname prefix", lambda i: _search(pick(prefixes, i)),
                     budget_ms=10),
        HttpScenario("search: surname prefix, live", lambda i: _search(pick(prefixes, i)),
                     headers=LIVE, budget_ms=10),
        HttpScenario("search: two-word name", lambda i: _search(" ".join(pick(names, i))),
                     budget_ms=10),
        HttpScenario("search: email", lambda i: _search(pick(emails, i)), budget_ms=10),
        # Thousands of matches: counted, ranked and paged (page 1 and a deep page).
        HttpScenario("search: thousands (smith)", lambda i: _search("smith"), budget_ms=10),
        HttpScenario("search: thousands, page 40, filtered",
                     lambda i: _search("smith", page=40, status="active"), budget_ms=10),
        # The hardest common shape: a one-letter word matches a tenth of all patrons.
        HttpScenario("search: first name + initial",
                     lambda i: _search(f"{pick(FIRST, i)} {pick(LAST, i + 3)[0]}"),
                     budget_ms=10),
    ]
