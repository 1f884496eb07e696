"""Admin › Sign-ins: recent attempts with outcome and reason, filtered, never a password."""

from tests.conftest import ROLE_LOGINS, sign_in
from tests.servers.vnu import Pages

ADMIN = ROLE_LOGINS["General System Administrator"]


def test_recent_attempts_with_their_reasons_and_filters(client, login_as):
    sign_in(client, "carol", "a typed secret")
    sign_in(client, ADMIN, "another typed secret")
    login_as("User Administrator")
    page = client.get("/admin/sign-ins").get_data(as_text=True)
    assert "<td>No account has this identifier, and no directory is configured</td>" in page
    assert "<td>Wrong identifier or password</td>" in page
    assert "<td>Signed in with the account&#39;s own password</td>" in page
    assert "typed secret" not in page
    refused = client.get("/admin/sign-ins?outcome=failure&reason=no_account").get_data(as_text=True)
    assert ">carol<" in refused and f">{ADMIN}<" not in refused
    by_name = client.get("/admin/sign-ins?identifier=CAR").get_data(as_text=True)
    assert ">carol<" in by_name and "<td>Wrong identifier or password</td>" not in by_name


def test_the_filter_answers_htmx_with_the_table_only(client, login_as, htmx_client):
    login_as("User Administrator")
    fragment = htmx_client.get("/admin/sign-ins?outcome=success")
    text = fragment.get_data(as_text=True)
    assert text.startswith('<div id="sign-ins">') and "<h1>" not in text


def test_only_users_admin_reads_the_sign_ins(client, login_as):
    login_as("User Manager")
    assert client.get("/admin/sign-ins").status_code == 403
    client.post("/sign-out")
    login_as("User Administrator")
    assert 'href="/admin/sign-ins"' in client.get("/admin/sign-ins").get_data(as_text=True)


def test_the_sign_ins_pages_are_valid_html(client, login_as, htmx_client):
    sign_in(client, "carol", "a typed secret")
    login_as("User Administrator")
    html_pages = Pages()
    html_pages.add("Admin › Sign-ins", client.get("/admin/sign-ins").data)
    html_pages.add("Admin › Sign-ins, filtered", htmx_client.get("/admin/sign-ins?outcome=failure").data)
    html_pages.add("Admin › Sign-ins, none", client.get("/admin/sign-ins?reason=no_match").data)
    html_pages.assert_valid()
