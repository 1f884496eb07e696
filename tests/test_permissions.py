"""The role x route matrix: every route refuses every role without its permission."""

import pytest
from werkzeug.routing import IntegerConverter

from tests.conftest import ROLE_LOGINS, sign_in
from webapp.db import db
from webapp.models import User
from webapp.services.permissions import PERMISSIONS, ROLES, permissions_of


def routes(app):
    """Yield (rule, method, view) for every route but static files."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, app.view_functions[rule.endpoint]


def url_for_rule(rule, user_id):
    values = {}
    for name, converter in rule._converters.items():
        values[name] = user_id if isinstance(converter, IntegerConverter) else "general"
    return rule.build(values)[1]


def test_every_route_declares_what_it_needs(app):
    undeclared = [
        rule.rule
        for rule, _method, view in routes(app)
        if not getattr(view, "public", False) and not hasattr(view, "required_permission")
    ]
    assert undeclared == []
    for _rule, _method, view in routes(app):
        needed = getattr(view, "required_permission", None)
        assert needed is None or needed in PERMISSIONS


def test_roles_grant_what_the_spec_says():
    assert ROLES["User Manager"] == {"users.view", "users.edit"}
    assert ROLES["Circulation Desk Operator – Limited"] == {"desk.use"}
    assert ROLES["General System Administrator"] == set(PERMISSIONS)


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "fragment"])
def test_route_matrix(app, role, as_htmx):
    """Each role gets 403 (anonymous: sign-in) wherever it lacks the permission; never a 500."""
    client = app.test_client()
    with db.connection_context():
        patron = User.create(primary_id="matrix-patron", last_name="Matrix",
                             user_group="Community")
        held = set()
        if ROLE_LOGINS[role]:
            held = permissions_of(User.get(User.primary_id == ROLE_LOGINS[role]))
    if ROLE_LOGINS[role]:
        assert sign_in(client, ROLE_LOGINS[role]).status_code == 302
    headers = {"HX-Request": "true"} if as_htmx else {}
    checked = 0
    for rule, method, view in routes(app):
        if getattr(view, "public", False) or rule.endpoint == "auth.sign_out":
            continue
        needed = view.required_permission
        url = url_for_rule(rule, patron.id)
        response = client.open(url, method=method, headers=headers, data={})
        assert response.status_code != 500, f"{method} {url} as {role}: 500"
        if not ROLE_LOGINS[role]:
            expected = (401,) if as_htmx else (302,)
            assert response.status_code in expected, f"{method} {url} anonymous"
        elif needed is not None and needed not in held:
            assert response.status_code == 403, f"{method} {url} as {role}"
            checked += 1
    if ROLE_LOGINS[role] and role != "General System Administrator":
        assert checked > 0
