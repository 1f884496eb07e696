"""The seed's "From a user search" walks on User Details, in a real browser."""

from playwright.sync_api import expect

from tests.browser.conftest import browser_sign_in
from webapp.db import db
from webapp.models import FieldState, User


def test_external_open_for_update_no_change_save_shows_temporary(page, patrons):
    browser_sign_in(page, "User Manager")
    page.goto(f"/users/{patrons['external']}")
    page.get_by_role("link", name="Edit", exact=True).click()
    middle = page.get_by_label("Middle name", exact=True)
    expect(middle).to_be_disabled()
    expect(page.locator("#middle_name-hint")).to_contain_text("Managed by SIS")
    opener = page.get_by_role("link", name="Open for Update")
    opener.click()
    dialog = page.get_by_role("dialog", name="Protect your changes from the next synchronization?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("will overwrite them")
    # Focus is trapped in the dialog: Escape closes it and returns focus to the opener.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    opener.click()
    dialog.get_by_role("button", name="No", exact=True).click()
    expect(middle).to_be_enabled()
    expect(page.locator("#opened-notice")).to_contain_text("temporary")
    middle.fill("Kay")
    page.get_by_role("button", name="Save", exact=True).click()
    row = page.locator("dd", has_text="Kay")
    expect(row).to_contain_text("Temporary")
    expect(row).to_contain_text("the next synchronization will overwrite this")
    expect(row.get_by_role("button", name="Release to source")).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("Saved.")
    with db.connection_context():
        assert FieldState.get(FieldState.user == patrons["external"]).state == "temporary"


def test_internal_edit_change_save(page, patrons):
    browser_sign_in(page, "User Manager")
    page.goto(f"/users/{patrons['internal']}")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_role("textbox", name="Last name", exact=True).fill("Inman-Smith")
    page.get_by_label("User group").select_option("Faculty")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("dl.record-fields")).to_contain_text("Inman-Smith")
    page.get_by_role("link", name="History").click()
    expect(page).to_have_url(f"{page.url.split('/users')[0]}/users/{patrons['internal']}/history")
    expect(page.locator("table.history")).to_contain_text("Inman-Smith")
    page.go_back()
    expect(page.get_by_role("heading", name="General")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # the whole page is back
    expect(page.locator("#user-tabs")).to_have_count(1)


def test_validation_error_is_shown_beside_the_field(page, patrons):
    browser_sign_in(page, "User Manager")
    page.goto(f"/users/{patrons['internal']}?edit=1")
    page.get_by_label("First name", exact=True).fill("Typed")
    page.get_by_role("textbox", name="Last name", exact=True).fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#last_name-error")).to_have_text("Last name is required.")
    expect(page.get_by_label("First name", exact=True)).to_have_value("Typed")
    last_name = page.get_by_role("textbox", name="Last name", exact=True)
    expect(last_name).to_have_attribute("aria-invalid", "true")


def test_two_staff_editing_one_patron_second_gets_conflict(page, second_page, patrons):
    uid = patrons["internal"]
    for p in (page, second_page):
        browser_sign_in(p, "User Manager")
        p.goto(f"/users/{uid}?edit=1")
    page.get_by_role("textbox", name="Last name", exact=True).fill("FirstSaver")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("dl.record-fields")).to_contain_text("FirstSaver")
    second_page.get_by_role("textbox", name="Last name", exact=True).fill("SecondSaver")
    second_page.get_by_role("button", name="Save", exact=True).click()
    conflict = second_page.locator("#conflict")
    expect(conflict).to_contain_text("while you were editing")
    expect(conflict).to_contain_text("FirstSaver")
    expect(conflict).to_contain_text("SecondSaver")
    expect(second_page.get_by_role("textbox", name="Last name", exact=True)).to_have_value("SecondSaver")
    with db.connection_context():
        assert User.get_by_id(uid).last_name == "FirstSaver"
    # Re-applying stores the second person's value; nothing was lost on the way.
    second_page.get_by_role("button", name="Save", exact=True).click()
    expect(second_page.locator("dl.record-fields")).to_contain_text("SecondSaver")


def test_add_internal_email_on_external_account(page, patrons):
    browser_sign_in(page, "User Manager")
    page.goto(f"/users/{patrons['external']}/contact")
    page.get_by_text("Add an email").click()
    expect(page.get_by_label("Add as external").first).not_to_be_checked()
    page.locator("#emails-new-address").fill("ezra@home.org")
    page.locator("#emails-new-preferred").check()
    page.get_by_role("button", name="Add", exact=True).first.click()
    item = page.locator("li.segment", has_text="ezra@home.org")
    expect(item).to_contain_text("Added here")
    expect(item).to_contain_text("Preferred")
