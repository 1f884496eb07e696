"""Sign in, see the menus of the role, sign out: in a real browser."""

import pytest

from tests.browser.conftest import browser_sign_in

MENUS = {
    "General System Administrator": {"Fulfillment", "Users", "Admin"},
    "User Manager": {"Users"},
    "Circulation Desk Operator": {"Fulfillment", "Users"},
    "Circulation Desk Operator – Limited": {"Fulfillment"},
}


@pytest.mark.parametrize("role", list(MENUS))
def test_sign_in_shows_the_menus_of_the_role_then_sign_out(page, role):
    browser_sign_in(page, role)
    menus = set(page.locator("nav[aria-label='Main menu'] summary").all_inner_texts())
    assert menus == MENUS[role]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    assert page.get_by_role("heading", name="Sign in to Patron Desk").is_visible()


def test_fulfillment_menu_opens_with_the_keyboard(page):
    browser_sign_in(page, "Circulation Desk Operator")
    page.locator("summary", has_text="Fulfillment").focus()
    page.keyboard.press("Enter")
    link = page.get_by_role("link", name="Manage Patron Services")
    assert link.is_visible()
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk/")
    assert page.get_by_role("heading", name="Manage Patron Services").is_visible()


def test_wrong_password_shows_generic_message(page):
    page.goto("/sign-in")
    page.get_by_label("Primary identifier").fill("admin-who-is-not")
    page.get_by_label("Password").fill("whatever it is")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("The identifier or password is not right")
