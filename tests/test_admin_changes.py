"""Admin › Changes: the configuration history, newest first, by kind, a page at a time."""

from tests.conftest import ROLE_LOGINS
from tests.servers.vnu import Pages
from webapp.db import db
from webapp.models import Library
from webapp.services import config_changes
from webapp.services.permissions import Actor

ADMIN = ROLE_LOGINS["General System Administrator"]


def test_changes_made_in_the_admin_pages_are_listed_by_kind(client, login_as):
    login_as("General System Administrator")
    assert client.post("/admin/libraries", data={"code": "SCI", "name": "Science"}).status_code == 303
    assert client.post("/admin/libraries", data={"code": "SCI", "name": "Again"}).status_code == 422
    assert client.post("/admin/settings", data={"end0": "06-30", "end1": "12-31"}).status_code == 303
    page = client.get("/admin/changes").get_data(as_text=True)
    assert '<li><a href="/admin/changes">Changes</a></li>' in page
    assert f"<td>{ADMIN}</td>" in page and "<td>Semester end dates</td>" in page
    assert "<td><em>none</em> → Science</td>" in page and "Again" not in page
    assert page.index("Semester end dates") < page.index("<td><em>none</em> → Science</td>")
    settings_only = client.get("/admin/changes?kind=setting").get_data(as_text=True)
    assert "<td>07-31 12-31 → 06-30 12-31</td>" in settings_only and "→ Science<" not in settings_only
    assert "No change to item records." in client.get("/admin/changes?kind=item").get_data(as_text=True)


def test_the_changes_are_paged_newest_first(client, login_as, app):
    with db.connection_context():
        for n in range(config_changes.PAGE_SIZE + 1):
            config_changes.record(Actor("admin1", frozenset()), "item", f"B-{n}",
                                  [("Title", None, f"Title {n}")])
    login_as("General System Administrator")
    first = client.get("/admin/changes?kind=item").get_data(as_text=True)
    assert "<td>B-50</td>" in first and "<td>B-0</td>" not in first
    assert 'href="/admin/changes?page=2&amp;kind=item" rel="next"' in first
    second = client.get("/admin/changes?kind=item&page=2").get_data(as_text=True)
    assert "<td>B-0</td>" in second and "<td>B-50</td>" not in second and 'rel="prev"' in second


def test_a_bad_filter_is_refused_naming_the_field(client, login_as):
    login_as("General System Administrator")
    bad_kind = client.get("/admin/changes?kind=weather")
    assert bad_kind.status_code == 400
    assert "Kind: choose one from the list." in bad_kind.get_data(as_text=True)
    bad_page = client.get("/admin/changes?page=zero")
    assert bad_page.status_code == 400 and "Page: give a whole number" in bad_page.get_data(as_text=True)


def test_only_system_admin_reads_the_changes(client, login_as):
    login_as("User Administrator")
    assert client.get("/admin/changes").status_code == 403
    assert 'href="/admin/changes"' not in client.get("/").get_data(as_text=True)


def test_the_filter_answers_htmx_with_the_table_only(client, login_as, htmx_client):
    login_as("General System Administrator")
    text = htmx_client.get("/admin/changes?kind=library").get_data(as_text=True)
    assert text.startswith('<div id="changes">') and "<h1>" not in text


def test_the_changes_pages_are_valid_html(client, login_as, htmx_client):
    with db.connection_context():
        config_changes.record(Actor(ADMIN, frozenset()), "library", "MAIN",
                              [("Name", "Main Library", "Main <Library>"), ("Main library", None, True)])
        assert Library.select().count() == 1
    login_as("General System Administrator")
    html_pages = Pages()
    html_pages.add("Admin › Changes", client.get("/admin/changes").data)
    html_pages.add("Admin › Changes, by kind", htmx_client.get("/admin/changes?kind=library").data)
    html_pages.add("Admin › Changes, none", client.get("/admin/changes?kind=item").data)
    html_pages.add("Admin › Changes, refused", client.get("/admin/changes?kind=x").data)
    html_pages.assert_valid()
