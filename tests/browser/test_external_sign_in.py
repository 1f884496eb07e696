"""An external student worker signs in through the directory and reaches the desk: in a real browser."""

import pytest

from tests import directory_people as people
from tests.browser.conftest import axe_violations, browser_sign_in
from tests.directory_people import directory_server  # noqa: F401 (the directory fixture)
from webapp.db import db


@pytest.fixture
def ldap_app(app, directory):
    """The app with the test directory configured and its accounts loaded."""
    app.config.update(people.ldap_config(directory, LDAP_START_TLS=True, LDAP_CA_FILE=str(directory.ca_file)))
    with db.connection_context():
        people.directory_accounts()
    return app


def test_student_worker_signs_in_through_the_directory_and_reaches_the_desk(ldap_app, page):
    page.goto("/sign-in")
    page.get_by_label("Primary identifier").fill("alice")
    page.get_by_label("Password").fill(people.directory_password("alice"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/desk/")
    assert page.get_by_role("heading", name="Manage Patron Services").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")


def test_a_wrong_directory_password_shows_the_generic_message(ldap_app, page):
    page.goto("/sign-in")
    page.get_by_label("Primary identifier").fill("alice")
    page.get_by_label("Password").fill("not alice's password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("The identifier or password is not right")


def test_sign_in_with_single_sign_on_offered_and_the_sign_ins_page_are_accessible(app, page):
    app.config.update(SSO_HEADER="X-Remote-User", SSO_TRUSTED_PROXIES="10.0.0.0/8")
    page.goto("/sign-in")
    assert page.get_by_role("link", name="Sign in with single sign-on").is_visible()
    assert axe_violations(page) == []
    browser_sign_in(page, "User Administrator")
    page.goto("/admin/sign-ins")
    page.get_by_label("Outcome").select_option("success")
    page.wait_for_url("**/admin/sign-ins?*outcome=success*")
    assert page.locator("#sign-ins td", has_text="Signed in with the account's own password").count() >= 1
    assert axe_violations(page) == []
