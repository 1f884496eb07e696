"""Patron Services: the page with a patron open, finding a patron by name, and Update User."""

import datetime

from bench.harness import HttpScenario

# Last-name prefixes a desk types; bulk patrons are named from the demo lists.
NAMES = ("smi", "garc", "nakam", "weber", "zhang", "rossi", "kowal", "tanaka", "xu")


def _give_loans(ctx, patron_ids):
    """Give the patrons the page scenario opens one to three loans, some overdue."""
    today = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    rows = []
    for user_id in patron_ids:
        for _ in range(ctx.rng.randint(1, 3)):
            loaned = today - datetime.timedelta(days=ctx.rng.randint(1, 40))
            rows.append((user_id, "A History of Reading", f"I{ctx.rng.randint(10**7, 10**8 - 1)}",
                         loaned.isoformat(" "), (loaned + datetime.timedelta(days=28)).isoformat(" ")))
    with ctx.db.connect() as conn:
        conn.executemany(
            "INSERT INTO loan (user_id, title, item_barcode, loaned_at, due_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )


def _update_form(database, user_id, i):
    """Return an Update User post for USER_ID at its current version: a new phone and campus."""
    with database.connect() as conn:
        version = conn.execute('SELECT version FROM "user" WHERE id = ?', (user_id,)).fetchone()[0]
        internal = conn.execute(
            "SELECT id FROM phone WHERE user_id = ? AND preferred AND segment = 'internal'",
            (user_id,),
        ).fetchone()
    slot = f"phones.{internal[0]}" if internal else "phones.new"
    return {"version": str(version), f"{slot}.number": f"+1 555 {i % 1000:03d} 9{i % 1000:03d}",
            "campus": "Desk", "notices_opt_in": ["", "on"]}


def http_scenarios(ctx):
    ids = ctx.patron_ids
    external = ctx.external_ids or ids

    def shown(i):
        return ids[(i * 6007) % len(ids)]

    def updated(i):
        # A different external patron for every save: the desk adds an internal phone.
        return external[(i * 13 + 5) % len(external)]

    _give_loans(ctx, {shown(i) for i in range(-5, 1000)})
    return [
        HttpScenario("Patron Services page", lambda i: f"/desk/?patron={shown(i)}", budget_ms=10),
        HttpScenario("Patron Services find by name (htmx)",
                     lambda i: f"/desk/?q={NAMES[i % len(NAMES)]}",
                     headers={"HX-Request": "true"}, budget_ms=10),
        HttpScenario("Update User (Patron Services)", lambda i: f"/desk/patrons/{updated(i)}",
                     method="POST", data=lambda i, c: _update_form(c.db, updated(i), i),
                     headers={"HX-Request": "true"}, budget_ms=20),
    ]
