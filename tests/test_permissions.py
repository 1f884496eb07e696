"""The role x route matrix: every route refuses every role without its permission."""

import pytest

from tests.conftest import ROLE_LOGINS, HtmxClient, sign_in
from tests.routes import app_routes
from webapp.db import db
from webapp.models import User
from webapp.services.permissions import PERMISSIONS, ROLES, permissions_of


def test_every_route_declares_what_it_needs(app):
    undeclared = [
        route.rule
        for route in app_routes(app)
        if not getattr(route.view, "public", False) and not hasattr(route.view, "required_permission")
    ]
    assert undeclared == []
    for route in app_routes(app):
        needed = getattr(route.view, "required_permission", None)
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
    requests = HtmxClient(client) if as_htmx else client
    checked = 0
    for route in app_routes(app):
        method = route.method
        if getattr(route.view, "public", False) or route.endpoint == "auth.sign_out":
            continue
        needed = route.view.required_permission
        url = route.url(patron.id)
        response = requests.open(url, method=method, data={})
        assert response.status_code != 500, f"{method} {url} as {role}: 500"
        if not ROLE_LOGINS[role]:
            expected = (401,) if as_htmx else (302,)
            assert response.status_code in expected, f"{method} {url} anonymous"
        elif needed is not None and needed not in held:
            assert response.status_code == 403, f"{method} {url} as {role}"
            checked += 1
    if ROLE_LOGINS[role] and role != "General System Administrator":
        assert checked > 0
