"""Circulation at 200,000 items: check out, return, renew all of 20 loans, a page with 50 loans."""

import datetime

from bench.harness import HttpScenario

ITEMS = 200_000
# Request numbers a scenario may use: warm-up (-5..-1), one client, then the clients at once.
SLOTS = 2_000


def _stamp(moment):
    """Return MOMENT as SQLite stores it."""
    return moment.isoformat(" ")


def _fill(ctx):
    """Insert the items and the loans the scenarios use; return the ids and barcodes they need."""
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    soon = (now.date() + datetime.timedelta(days=60)).isoformat()
    with ctx.db.connect() as conn:
        library = conn.execute("SELECT id FROM library ORDER BY id LIMIT 1").fetchone()[0]
        conn.executemany(
            "INSERT INTO item (barcode, barcode_key, title, author, call_number, library_id,"
            " status, created_at, modified_at) VALUES (?, ?, ?, '', '', ?, 'available', ?, ?)",
            ((f"BI{n:07d}", f"bi{n:07d}", f"Bench Title {n % 5000}", library, _stamp(now),
              _stamp(now)) for n in range(ITEMS)))
        patrons = [row[0] for row in conn.execute(
            "SELECT id FROM \"user\" WHERE record_type = 'public' AND status = 'active'"
            " AND expiry_date > ? ORDER BY id", (soon,))]
        loaned = now - datetime.timedelta(days=10)
        due = datetime.datetime.combine(loaned.date() + datetime.timedelta(days=28),
                                        datetime.time(23, 59))
        plan = {"checkout": [], "return": [], "renew": [], "page": patrons[0]}
        rows, next_item = [], 1

        def lend(user_id, count):
            """Lend the next COUNT items to USER_ID."""
            nonlocal next_item
            for n in range(next_item, next_item + count):
                rows.append((user_id, n, library, f"Bench Title {n % 5000}", f"BI{n - 1:07d}",
                             _stamp(loaned), _stamp(due), _stamp(due)))
            next_item += count

        lend(plan["page"], 50)
        for user_id in patrons[1:1 + SLOTS]:
            lend(user_id, 20)
            plan["renew"].append(user_id)
        returned = next_item
        for n in range(SLOTS):
            lend(patrons[(n * 7) % len(patrons)], 1)
        plan["return"] = [f"BI{n - 1:07d}" for n in range(returned, returned + SLOTS)]
        plan["checkout"] = [(patrons[-1 - (n % 500)], f"BI{ITEMS - 1 - n:07d}")
                            for n in range(SLOTS)]
        conn.executemany(
            "INSERT INTO loan (user_id, item_id, library_id, title, item_barcode, loaned_at,"
            " due_at, policy_due_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')", rows)
        conn.execute("UPDATE item SET status = 'on_loan' WHERE id IN"
                     " (SELECT item_id FROM loan WHERE status = 'open')")
        # The checkouts spread over 500 patrons: the policy's 20 open loans are never reached.
        conn.execute("UPDATE loan_policy SET max_loans = 100")
    return plan


def http_scenarios(ctx):
    """Return the circulation routes to time, on a database filled for them."""
    plan = _fill(ctx)

    def pick(values, i):
        """Return the entry of VALUES that request I uses."""
        return values[i % len(values)]

    return [
        HttpScenario("check out (htmx)",
                     lambda i: f"/desk/patrons/{pick(plan['checkout'], i)[0]}/loans",
                     method="POST", data=lambda i, c: {"barcode": pick(plan["checkout"], i)[1]},
                     headers={"HX-Request": "true"}, budget_ms=20),
        HttpScenario("return (htmx)", lambda i: "/circulation/return", method="POST",
                     data=lambda i, c: {"barcode": pick(plan["return"], i)},
                     headers={"HX-Request": "true"}, budget_ms=20),
        HttpScenario("renew all, 20 loans (htmx)",
                     lambda i: f"/desk/patrons/{pick(plan['renew'], i)}/loans/renew",
                     method="POST", headers={"HX-Request": "true"}, data=lambda i, c: {},
                     budget_ms=30),
        HttpScenario("Patron Services page, 50 open loans",
                     lambda i: f"/desk/?patron={plan['page']}", budget_ms=10),
    ]
