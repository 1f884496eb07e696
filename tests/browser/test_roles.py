"""The seed's "Managing student worker roles", in a real browser, and its pages checked with axe."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, browser_sign_in
from webapp.db import db
from webapp.models import Library
from webapp.services import search

STUDENT_PASSWORD = "shelving all semester"


@pytest.fixture
def science(patrons):
    with db.connection_context():
        search.index_users(list(patrons.values()))
        return Library.create(code="SCI", name="Science Library").id


def test_admin_makes_a_student_worker_who_signs_in_and_is_signed_out_when_removed(
        page, second_page, patrons, science):
    browser_sign_in(page, "General System Administrator")
    page.get_by_label("Find a user").fill("Ida")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Inman, Ida").click()
    page.get_by_role("link", name="Roles").click()
    expect(page.locator("#tab-panel")).to_contain_text("This is a public record")
    page.get_by_label("Library").select_option(label="Science Library")
    page.get_by_role("button", name="Make student worker").click()
    expect(page.get_by_role("alert")).to_contain_text("makes it a staff record")
    page.get_by_role("button", name="Yes", exact=True).click()
    expect(page.locator("table.roles-table")).to_contain_text("Circulation Desk Operator – Limited")
    expect(page.locator("table.roles-table")).to_contain_text("Science Library")
    page.get_by_role("link", name="General").click()
    page.get_by_label("New password", exact=True).fill(STUDENT_PASSWORD)
    page.get_by_label("New password again").fill(STUDENT_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("#messages")).to_contain_text("Password set")

    student = second_page
    student.goto("/sign-in")
    student.get_by_label("Primary identifier").fill("INT1")
    student.get_by_label("Password").fill(STUDENT_PASSWORD)
    student.get_by_role("button", name="Sign in").click()
    expect(student.get_by_role("heading", name="Manage Patron Services")).to_be_visible()
    menus = student.get_by_role("navigation", name="Main menu")
    expect(menus.locator("summary")).to_have_text(["Fulfillment"])
    expect(student.locator(".topbar")).to_contain_text("Currently at Science Library")
    expect(student.locator(".working-at")).to_contain_text("Science Library")
    expect(student.get_by_label("Find a user")).to_have_count(0)

    page.get_by_role("link", name="Roles").click()
    page.get_by_role("link", name="Remove Circulation Desk Operator – Limited").click()
    page.get_by_role("button", name="Remove role").click()
    expect(page.locator("#messages")).to_contain_text("removed")

    student.get_by_label("Find a patron").fill("EXT1")
    student.get_by_label("Find a patron").press("Enter")
    expect(student).to_have_url(re.compile(r"/sign-in\?next=/desk/"), timeout=10000)
    expect(student.get_by_role("button", name="Sign in")).to_be_visible()


@pytest.mark.parametrize("path", ["/admin/staff", "/admin/who-can?permission=desk.use",
                                  "/admin/libraries", "/admin/settings", "/why"])
def test_role_pages_meet_wcag(page, science, path):
    browser_sign_in(page, "General System Administrator")
    page.goto(path)
    assert axe_violations(page) == []


@pytest.mark.parametrize("form", ["", "/new"])
def test_roles_tab_and_its_forms_meet_wcag(page, patrons, science, form):
    browser_sign_in(page, "General System Administrator")
    page.goto(f"/users/{patrons['internal']}/roles{form}")
    assert axe_violations(page) == []
