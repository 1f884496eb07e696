"""The seed's "From the Checkout or Patron Services page" walks, in a real browser."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, browser_sign_in
from tests.conftest import PASSWORD
from webapp.db import db
from webapp.models import Email, Identifier, Loan, Phone, RoleAssignment, User
from webapp.services import search
from webapp.services.clock import now
from webapp.services.staff import create_staff


@pytest.fixture
def patrons(app):
    """An external and an internal patron, and a staff member with a user management role."""
    with db.connection_context():
        external = User.create(primary_id="EXT1", first_name="Ezra", last_name="Exton",
                               user_group="Graduate", account_type="external", source="SIS",
                               external_id="S1",
                               expiry_date=datetime.date.today() + datetime.timedelta(days=10))
        Identifier.create(user=external, id_type="barcode", value="B0001", segment="external")
        Email.create(user=external, address="ezra@uni.edu", preferred=True, segment="external")
        Loan.create(user=external, title="Rivers of the North", item_barcode="I-100",
                    loaned_at=now() - datetime.timedelta(days=40),
                    due_at=now() - datetime.timedelta(days=12))
        internal = User.create(primary_id="INT1", first_name="Ida", last_name="Inman",
                               user_group="Community")
        Identifier.create(user=internal, id_type="barcode", value="B0002")
        Phone.create(user=internal, number="+1 555 0100", preferred=True)
        search.index_users([external.id, internal.id])
        staff = create_staff("deskmanager", PASSWORD, "User Manager", first_name="Dana",
                             last_name="Desk")
        RoleAssignment.create(user=staff, role="Circulation Desk Operator")
    return {"external": external.id, "internal": internal.id}


def sign_in_desk_manager(page):
    page.goto("/sign-in")
    page.get_by_label("Primary identifier").fill("deskmanager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def open_patron_services(page):
    """Fulfillment > Checkout/Checkin > Manage Patron Services."""
    page.locator("summary", has_text="Fulfillment").click()
    page.get_by_role("link", name="Manage Patron Services").click()
    expect(page.get_by_role("heading", name="Manage Patron Services")).to_be_visible()


def find(page, typed):
    field = page.get_by_label("Find a patron")
    field.fill(typed)
    field.press("Enter")


def test_external_account_edit_user_info(page, patrons):
    sign_in_desk_manager(page)
    open_patron_services(page)
    # 1. Navigate to the patron's account: a scanned barcode opens it at once.
    find(page, "B0001")
    panel = page.locator("#patron-panel")
    expect(panel.get_by_role("heading", name="Ezra Exton")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/desk/\?patron={patrons['external']}$"))
    expect(page.locator("#patron-expiry")).to_contain_text("Expires soon")
    expect(page.locator(".desk-loans")).to_contain_text("Overdue")
    # 2. Click on the Edit User Info button.
    panel.get_by_role("button", name="Edit User Info").click()
    email = page.get_by_label("Preferred email")
    expect(email).to_be_focused()
    expect(email).to_have_value("ezra@uni.edu")
    expect(page.locator(".source-entries").first).to_contain_text("ezra@uni.edu")
    expect(page.get_by_role("link", name="open the record in User Details")).to_have_attribute(
        "href", f"/users/{patrons['external']}?edit=1")
    # 3. Update applicable information.
    email.fill("ezra@home.example")
    page.get_by_label("Note", exact=True).fill("New email given at the desk")
    # 4. Click on Update User.
    page.get_by_role("button", name="Update User").click()
    expect(page.locator("#messages")).to_contain_text("Updated Ezra Exton.")
    shown = page.locator("#patron-emails")
    expect(shown).to_contain_text("ezra@home.example")
    expect(shown).to_contain_text("Internal")
    expect(page.locator("#patron-notes")).to_contain_text("New email given at the desk")
    expect(panel.get_by_role("heading", name="Ezra Exton")).to_be_focused()
    with db.connection_context():
        rows = [(e.address, e.segment, e.preferred)
                for e in Email.select().where(Email.user == patrons["external"]).order_by(Email.id)]
    assert rows == [("ezra@uni.edu", "external", False), ("ezra@home.example", "internal", True)]


def test_internal_account_edit_user_info(page, patrons):
    sign_in_desk_manager(page)
    open_patron_services(page)
    # 1. Navigate to the patron's account: by name, from the pick list.
    find(page, "inm")
    page.get_by_role("link", name="Inman, Ida").click()
    panel = page.locator("#patron-panel")
    expect(panel.get_by_role("heading", name="Ida Inman")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/desk/\?patron={patrons['internal']}$"))
    # 2. Edit User Info; Cancel brings the summary back unchanged.
    panel.get_by_role("button", name="Edit User Info").click()
    page.get_by_role("link", name="Cancel").click()
    expect(panel.get_by_role("button", name="Edit User Info")).to_be_visible()
    panel.get_by_role("button", name="Edit User Info").click()
    # 3. Update applicable information; a mistake is shown beside its field, typed values kept.
    page.get_by_label("Preferred email").fill("ida-at-home")
    page.get_by_label("Preferred phone").fill("+1 555 0123")
    page.get_by_label("User group").select_option("Faculty")
    page.get_by_role("button", name="Update User").click()
    expect(page.locator("#emails-new-address-error")).to_have_text(
        "Enter an email address such as name@example.org.")
    expect(page.get_by_label("Preferred email")).to_be_focused()
    expect(page.get_by_label("Preferred phone")).to_have_value("+1 555 0123")
    expect(page.get_by_label("User group")).to_have_value("Faculty")
    page.get_by_label("Preferred email").fill("ida@home.example")
    # 4. Click on Update User.
    page.get_by_role("button", name="Update User").click()
    expect(page.locator("#messages")).to_contain_text("Updated Ida Inman.")
    expect(page.locator("#patron-phones")).to_contain_text("+1 555 0123")
    expect(page.locator("#patron-emails")).to_contain_text("ida@home.example")
    expect(panel).to_contain_text("Faculty")
    with db.connection_context():
        user = User.get_by_id(patrons["internal"])
        phones = [(p.number, p.preferred) for p in user.phones]
    assert user.user_group == "Faculty" and phones == [("+1 555 0123", True)]


def test_student_worker_view(page, patrons):
    browser_sign_in(page, "Circulation Desk Operator – Limited")
    open_patron_services(page)
    find(page, "B0002")
    panel = page.locator("#patron-panel")
    expect(panel.get_by_role("heading", name="Ida Inman")).to_be_visible()
    expect(panel.get_by_role("button", name="Edit User Info")).to_have_count(0)
    expect(panel).to_contain_text("Your account is missing a user management role, so Edit User "
                                  "Info is not available. Ask a User Administrator.")
    # No way into User Details; the one link explains the missing role.
    expect(panel.get_by_role("link")).to_have_count(1)
    expect(panel.get_by_role("link", name="Why can't I…?")).to_be_visible()


def test_unknown_value_keeps_the_field_filled_and_focused(page, patrons):
    browser_sign_in(page, "Circulation Desk Operator")
    open_patron_services(page)
    find(page, "B9999")
    field = page.get_by_label("Find a patron")
    expect(page.locator("#desk-q-error")).to_contain_text("No patron matches “B9999”.")
    expect(field).to_have_value("B9999")
    expect(field).to_be_focused()
    # Correcting it opens the patron.
    field.fill("B0001")
    field.press("Enter")
    expect(page.locator("#patron-panel").get_by_role("heading", name="Ezra Exton")).to_be_visible()


@pytest.mark.parametrize("state", ["summary", "pick list", "edit", "not found"])
def test_desk_pages_meet_wcag_aa(page, patrons, state):
    sign_in_desk_manager(page)
    target = {"summary": f"/desk/?patron={patrons['external']}", "pick list": "/desk/?q=i",
              "edit": f"/desk/patrons/{patrons['external']}/edit", "not found": "/desk/?q=zz9"}
    page.goto(target[state])
    assert axe_violations(page) == []
