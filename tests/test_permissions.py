"""The role x route matrix: every route refuses every role without its permission."""

from pathlib import Path

import pytest

from tests.conftest import ROLE_LOGINS, HtmxClient, sign_in
from tests.routes import app_routes
from webapp.db import db
from webapp.models import User
from webapp.services.permissions import PERMISSIONS, ROLES, permissions_of

ROOT = Path(__file__).resolve().parent.parent


def test_every_route_declares_what_it_needs(app):
    undeclared = [
        route.rule
        for route in app_routes(app)
        if not getattr(route.view, "public", False) and not hasattr(route.view, "required_permissions")
    ]
    assert undeclared == []
    for route in app_routes(app):
        assert getattr(route.view, "required_permissions", set()) <= set(PERMISSIONS)


# Templates that show a patron's loans or desk notes: only Patron Services shows them.
DESK_ONLY_TEMPLATES = ("desk/_loans.html", "desk/_summary.html", "desk/_edit.html")


def test_routes_that_show_loans_or_desk_notes_require_desk_use(app):
    """Every Patron Services route (loans, desk notes) needs desk.use, whatever else it needs."""
    desk_routes = [route for route in app_routes(app) if route.endpoint.startswith("desk.")]
    assert desk_routes
    for route in desk_routes:
        assert "desk.use" in route.view.required_permissions, route.rule
    assert app.view_functions["desk.edit"].required_permissions == {"desk.use", "users.edit"}
    assert app.view_functions["desk.update"].required_permissions == {"desk.use", "users.edit"}
    templates = ROOT / "templates"
    for path in templates.rglob("*.html"):
        name = path.relative_to(templates).as_posix()
        if name.startswith("desk/"):
            continue
        text = path.read_text()
        assert not any(t in text for t in DESK_ONLY_TEMPLATES), name


def test_user_manager_does_not_reach_patron_services(app, patrons):
    """A User Manager (users.edit without desk.use) gets 403 from the desk edit routes."""
    client = app.test_client()
    assert sign_in(client, ROLE_LOGINS["User Manager"]).status_code == 302
    uid = patrons["internal"]
    assert client.get(f"/desk/patrons/{uid}/edit").status_code == 403
    assert client.post(f"/desk/patrons/{uid}", data={"version": "1",
                       "notes.new.text": "stored?"}).status_code == 403


def test_roles_grant_what_the_spec_says():
    assert ROLES["User Manager"] == {"users.view", "users.edit"}
    assert ROLES["Circulation Desk Operator – Limited"] == {"desk.use"}
    assert ROLES["General System Administrator"] == set(PERMISSIONS)


# Routes that end the session the matrix walks with (each is tested on its own).
SIGN_OUTS = ("auth.sign_out", "auth.sign_out_everywhere")


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
        if getattr(route.view, "public", False) or route.endpoint in SIGN_OUTS:
            continue
        needed = route.view.required_permissions
        url = route.url(patron.id)
        response = requests.open(url, method=method, data={})
        assert response.status_code != 500, f"{method} {url} as {role}: 500"
        if not ROLE_LOGINS[role]:
            expected = (401,) if as_htmx else (302,)
            assert response.status_code in expected, f"{method} {url} anonymous"
        elif not needed <= held:
            assert response.status_code == 403, f"{method} {url} as {role}"
            checked += 1
    if ROLE_LOGINS[role] and role != "General System Administrator":
        assert checked > 0
