"""The trivial reference route, the User Details page and a save."""

from bench.harness import HttpScenario


def http_scenarios(ctx):
    ids = ctx.patron_ids
    internal = ctx.internal_ids

    def patron(i):
        return ids[(i * 7919) % len(ids)]

    def saved_patron(i):
        # A different internal patron for every save, so each starts at version 1.
        return internal[i % len(internal)]

    def save_form(i, ctx):
        return {"version": "1", "last_name": f"Saved{i}", "user_group": "Faculty",
                "campus": "North", "notices_opt_in": "on"}

    return [
        HttpScenario("trivial route", lambda i: "/healthz"),
        HttpScenario("user details page", lambda i: f"/users/{patron(i)}", budget_ms=10),
        HttpScenario("user details page (htmx tab)", lambda i: f"/users/{patron(i)}/contact",
                     headers={"HX-Request": "true"}, budget_ms=10),
        HttpScenario("save (User Details)", lambda i: f"/users/{saved_patron(i)}/general",
                     method="POST", data=save_form, headers={"HX-Request": "true"},
                     budget_ms=20),
    ]
