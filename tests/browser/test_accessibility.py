"""WCAG 2.2 AA checks with axe-core on the pages staff use, in each state that matters."""

import pytest

from tests.browser.conftest import axe_violations, browser_sign_in
from webapp.db import db
from webapp.models import Note


@pytest.fixture
def patron(patrons):
    """The external patron, with a note shown at the desk."""
    with db.connection_context():
        Note.create(user=patrons["external"], text="Prefers large print", show_at_desk=True)
    return patrons["external"]


def test_sign_in_page(page):
    page.goto("/sign-in")
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ["", "?edit=1", "/contact", "/identifiers", "/notes",
                                  "/history"])
def test_user_details_states(page, patron, path):
    browser_sign_in(page, "General System Administrator")
    page.goto(f"/users/{patron}{path}")
    assert axe_violations(page) == []


def test_open_for_update_dialog(page, patron):
    browser_sign_in(page, "User Manager")
    page.goto(f"/users/{patron}?edit=1")
    page.get_by_role("link", name="Open for Update").click()
    assert page.get_by_role("dialog").is_visible()
    assert axe_violations(page) == []


def test_add_user_page(page):
    browser_sign_in(page, "User Manager")
    page.goto("/users/new")
    assert axe_violations(page) == []
