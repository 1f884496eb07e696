"""User search in a real browser: live results, hyperlink, Back, the ⋯ menu, a scan."""

import re
import time

import pytest
from flask import request

from tests.browser.conftest import axe_violations, browser_sign_in
from webapp.db import db
from webapp.models import Identifier, User
from webapp.services.search import index_users


@pytest.fixture
def patrons(app):
    """Create a few patrons; return {primary id: user id}."""
    with db.connection_context(), db.atomic():
        ids = {}
        for primary_id, first, last in (("P1", "Amina", "Smith"), ("P2", "Jonas", "Smithson"),
                                        ("P3", "Wei", "Jones")):
            user = User.create(primary_id=primary_id, first_name=first, last_name=last,
                               user_group="Graduate")
            Identifier.create(user=user, id_type="barcode", value=f"2900{user.id:06d}")
            ids[primary_id] = user.id
        index_users(ids.values())
    return ids


def result_names(page):
    return page.locator("#search-results tbody td:first-child a").all_inner_texts()


def test_type_open_result_go_back_then_edit_from_the_menu(page, patrons):
    browser_sign_in(page, "User Manager")
    page.goto("/users/")
    entries = page.evaluate("history.length")
    box = page.get_by_role("searchbox", name="Find a user")
    box.press_sequentially("Sm", delay=40)
    page.wait_for_url(re.compile(r"/users/\?q=Sm$"))
    box.press_sequentially("i", delay=40)
    page.wait_for_url(re.compile(r"/users/\?q=Smi$"))
    assert page.evaluate("history.length") == entries  # typing refines one entry
    # Screen readers hear the new count from the stable live region.
    assert page.locator("#search-announce").inner_text() == "2 users found for “Smi”."
    assert result_names(page) == ["Smith, Amina", "Smithson, Jonas"]
    # The list came in place: the box still has the focus and all that was typed.
    assert page.evaluate("document.activeElement.id") == "topbar-q"
    assert box.input_value() == "Smi"

    page.get_by_role("link", name="Smith, Amina").click()
    page.wait_for_url(f"**/users/{patrons['P1']}")
    assert page.get_by_role("heading", name="Amina Smith").is_visible()

    page.go_back()
    page.wait_for_url(re.compile(r"/users/\?q=Smi$"))
    assert result_names(page) == ["Smith, Amina", "Smithson, Jonas"]
    assert page.get_by_role("searchbox", name="Find a user").input_value() == "Smi"

    page.locator("summary", has_text="Actions for Smith, Amina").click()
    page.get_by_role("link", name="Edit").click()
    page.wait_for_url(f"**/users/{patrons['P1']}?edit=1")


def test_ellipsis_menu_works_from_the_keyboard(page, patrons):
    browser_sign_in(page, "Circulation Desk Operator")
    page.goto("/users/?q=jones")
    menu = page.locator("details.row-menu").first
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("open") is not None
    links = menu.get_by_role("link")
    assert links.all_inner_texts() == ["View", "Manage patron services"]
    page.keyboard.press("Escape")
    assert menu.get_attribute("open") is None
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/desk/?patron={patrons['P3']}")


def test_filters_narrow_the_list_and_the_url(page, patrons):
    with db.connection_context():
        User.update(status="inactive").where(User.primary_id == "P2").execute()
    browser_sign_in(page, "User Manager")
    page.goto("/users/?q=smith")
    assert result_names(page) == ["Smith, Amina", "Smithson, Jonas"]
    page.get_by_label("Status").select_option("inactive")
    page.wait_for_url(re.compile(r"status=inactive"))
    assert result_names(page) == ["Smithson, Jonas"]
    page.reload()
    assert result_names(page) == ["Smithson, Jonas"]
    assert page.get_by_label("Status").input_value() == "inactive"


def test_a_scanned_barcode_opens_the_patron_from_any_page(page, patrons):
    browser_sign_in(page, "Circulation Desk Operator")
    page.goto(f"/users/{patrons['P1']}")
    barcode = f"2900{patrons['P3']:06d}"
    page.get_by_role("searchbox", name="Find a user").fill(barcode)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/users/{patrons['P3']}")
    # From the search page too, where the box searches as one types.
    page.goto("/users/")
    page.get_by_role("searchbox", name="Find a user").fill(barcode)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/users/{patrons['P3']}")


def test_a_slow_older_answer_never_replaces_a_newer_one(app, page, patrons):
    @app.before_request
    def hold_the_first_query():
        if request.args.get("q") == "Jo":
            time.sleep(1.5)

    browser_sign_in(page, "User Manager")
    page.goto("/users/")
    box = page.get_by_role("searchbox", name="Find a user")
    box.press_sequentially("Jo")
    page.wait_for_timeout(600)  # the request for "Jo" is on its way, held by the server
    box.press_sequentially("nes")
    page.wait_for_url(re.compile(r"q=Jones$"))
    page.locator("#search-results", has_text="for “Jones”").wait_for()
    page.wait_for_timeout(1500)  # long enough for the held answer to come back
    assert result_names(page) == ["Jones, Wei"]
    assert page.url.endswith("q=Jones")


def test_results_with_an_open_menu_meet_wcag_aa(page, patrons):
    browser_sign_in(page, "General System Administrator")
    page.goto("/users/?q=smi&status=active")
    page.locator("summary", has_text="Actions for Smith, Amina").click()
    assert axe_violations(page) == []
