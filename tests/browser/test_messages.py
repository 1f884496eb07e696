"""The message area in a real browser: each htmx answer swaps it out of band."""

from playwright.sync_api import expect

from tests.browser.conftest import browser_sign_in


def test_settings_saved_with_htmx_say_so_at_once_and_once(page):
    browser_sign_in(page, "General System Administrator")
    page.goto("/admin/settings")
    page.get_by_label("Semester 1 ends on").fill("06-30")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_have_text("Semester end dates saved.")
    page.goto("/admin/libraries")
    expect(page.locator("#messages")).to_have_text("")


def test_the_next_tab_clears_what_the_save_said(page, patrons):
    browser_sign_in(page, "User Manager")
    page.goto(f"/users/{patrons['internal']}?edit=1")
    page.get_by_label("Middle name", exact=True).fill("Kay")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#messages")).to_have_text("Saved.")
    page.get_by_role("link", name="History").click()
    expect(page.locator("#tab-heading")).to_have_text("History")
    expect(page.locator("#messages")).to_have_text("")
