"""WCAG 2.2 AA checks with axe-core on the pages staff use, in each state that matters."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import browser_sign_in
from webapp.db import db
from webapp.models import Email, Note, User

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                  "wcag22aa"]}}


@pytest.fixture
def patron(app):
    with db.connection_context():
        external = User.create(primary_id="EXT1", first_name="Ezra", last_name="Exton",
                               user_group="Graduate", account_type="external", source="SIS",
                               external_id="S1")
        Email.create(user=external, address="ezra@uni.edu", preferred=True, segment="external")
        Note.create(user=external, text="Prefers large print", show_at_desk=True)
    return external.id


def violations(page):
    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def test_sign_in_page(page):
    page.goto("/sign-in")
    assert violations(page) == []


@pytest.mark.parametrize("path", ["", "?edit=1", "/contact", "/identifiers", "/notes",
                                  "/history"])
def test_user_details_states(page, patron, path):
    browser_sign_in(page, "General System Administrator")
    page.goto(f"/users/{patron}{path}")
    assert violations(page) == []


def test_open_for_update_dialog(page, patron):
    browser_sign_in(page, "User Manager")
    page.goto(f"/users/{patron}?edit=1")
    page.get_by_role("link", name="Open for Update").click()
    assert page.get_by_role("dialog").is_visible()
    assert violations(page) == []


def test_add_user_page(page):
    browser_sign_in(page, "User Manager")
    page.goto("/users/new")
    assert violations(page) == []
