"""The trivial reference route and the pages every staff member opens."""

from bench.harness import HttpScenario


def http_scenarios(ctx):
    ids = ctx.patron_ids

    def patron(i):
        return ids[(i * 7919) % len(ids)]

    return [
        HttpScenario("trivial route", lambda i: "/healthz"),
        HttpScenario("user details page", lambda i: f"/users/{patron(i)}", budget_ms=10),
    ]
