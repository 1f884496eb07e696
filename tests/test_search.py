"""The user search page: page and fragment, exact identifier, ellipsis actions by role, URL."""

import re

import html5lib
import pytest

from webapp.db import db
from webapp.models import Identifier, User
from webapp.services.search import index_users


@pytest.fixture
def patrons(app):
    """Create three Smiths and a Jones; return {primary id: user id}."""
    with db.connection_context(), db.atomic():
        ids = {}
        for primary_id, first, last, status in (("P1", "Amina", "Smith", "active"),
                                                ("P2", "Jonas", "Smith", "inactive"),
                                                ("P3", "Rosa", "Smithson", "active"),
                                                ("P4", "Wei", "Jones", "active")):
            user = User.create(primary_id=primary_id, first_name=first, last_name=last,
                               user_group="Graduate", status=status)
            Identifier.create(user=user, id_type="barcode", value=f"BC-{primary_id}")
            ids[primary_id] = user.id
        index_users(ids.values())
    return ids


def names_in(html):
    """Return the result names of a results page or fragment, in order."""
    return re.findall(r'<td><a href="/users/\d+">([^<]+)</a>', html)


def test_page_lists_matches_with_their_columns(login_as, patrons):
    client = login_as("User Manager")
    response = client.get("/users/?q=smi")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and 'id="search-results"' in html
    assert names_in(html) == ["Smith, Amina", "Smith, Jonas", "Smithson, Rosa"]
    assert "3 users found for “smi”" in html
    for heading in ("Name", "Primary identifier", "User group", "Account type", "Record type",
                    "Status", "Expiry date"):
        assert f'<th scope="col">{heading}</th>' in html
    assert 'value="smi"' in html  # the box keeps the query
    assert "HX-Request" in response.headers["Vary"]


def test_fragment_is_the_result_list_alone(login_as, patrons, htmx_client):
    login_as("User Manager")
    response = htmx_client.get("/users/?q=smith")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "topbar" not in html
    assert names_in(html) == ["Smith, Amina", "Smith, Jonas", "Smithson, Rosa"]


def test_back_button_restore_gets_the_whole_page(login_as, patrons):
    client = login_as("User Manager")
    html = client.get("/users/?q=smith", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"}).get_data(as_text=True)
    assert "<html" in html and names_in(html) == ["Smith, Amina", "Smith, Jonas", "Smithson, Rosa"]


def test_exact_identifier_opens_user_details(login_as, patrons, htmx_client):
    client = login_as("User Manager")
    response = client.get("/users/?q=bc-p4")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/users/{patrons['P4']}")
    response = htmx_client.get("/users/?q=BC-P4")
    assert response.headers["HX-Redirect"] == f"/users/{patrons['P4']}"


def test_live_search_lists_an_exact_identifier_first_instead_of_leaving(login_as, patrons, htmx_client):
    client = login_as("User Manager")
    response = client.get("/users/?q=BC-P4", headers={"HX-Request": "true",
                                                       "X-Live-Search": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    assert names_in(html) == ["Jones, Wei"]
    assert "identifier match" in html
    # Typing refines one history entry; a submitted search adds its own.
    assert response.headers["HX-Replace-Url"] == "/users/?q=BC-P4"
    submitted = htmx_client.get("/users/?q=smith")
    assert "HX-Replace-Url" not in submitted.headers


def menu_links(html):
    """Return the link texts of the first result's ⋯ menu, with their addresses."""
    menu = html.split('<details class="menu row-menu">', 1)[1].split("</details>", 1)[0]
    return dict((text, href.replace("&amp;", "&")) for href, text in
                re.findall(r'<a href="([^"]+)">([^<]+)</a>', menu))


@pytest.mark.parametrize("role, expected", [
    ("General System Administrator", {"View", "Edit", "Manage patron services"}),
    ("User Manager", {"View", "Edit"}),
    ("Circulation Desk Operator", {"View", "Manage patron services"}),
    ("Circulation Desk Manager", {"View", "Manage patron services"}),
])
def test_ellipsis_menu_offers_what_the_role_allows(login_as, patrons, role, expected):
    html = login_as(role).get("/users/?q=amina").get_data(as_text=True)
    links = menu_links(html)
    assert set(links) == expected
    user_id = patrons["P1"]
    assert links["View"] == f"/users/{user_id}"
    if "Edit" in links:
        assert links["Edit"] == f"/users/{user_id}?edit=1"
    if "Manage patron services" in links:
        assert links["Manage patron services"] == f"/desk/?patron={user_id}"
    assert "Actions for Smith, Amina" in html


@pytest.mark.parametrize("as_htmx", [False, True])
def test_search_needs_users_view(login_as, patrons, as_htmx):
    client = login_as("Circulation Desk Operator – Limited")
    headers = {"HX-Request": "true"} if as_htmx else {}
    response = client.get("/users/?q=smith", headers=headers)
    assert response.status_code == 403
    assert "Smith" not in response.get_data(as_text=True)


def test_anonymous_is_sent_to_sign_in(client, patrons, htmx_client):
    response = client.get("/users/?q=smith")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    response = htmx_client.get("/users/?q=smith")
    assert response.status_code == 401 and "/sign-in" in response.headers["HX-Redirect"]


def test_filters_live_in_the_url_and_stay_selected(login_as, patrons):
    html = login_as("User Manager").get("/users/?q=smith&status=inactive&account_type=internal"
                                        ).get_data(as_text=True)
    assert names_in(html) == ["Smith, Jonas"]
    assert '<option value="inactive" selected>' in html
    assert '<option value="internal" selected>' in html
    # The filters belong to the top bar's form, so a new query keeps them.
    assert html.count('form="topbar-search"') == 5  # four filters and their button


def test_paging_links_keep_query_and_filters(login_as, patrons, app):
    app.config["SEARCH_PAGE_SIZE"] = 2
    client = login_as("User Manager")
    html = client.get("/users/?q=smi&status=active").get_data(as_text=True)
    assert names_in(html) == ["Smith, Amina", "Smithson, Rosa"]
    html = client.get("/users/?q=smi").get_data(as_text=True)
    assert "3 users found for “smi”, page 1 of 2" in html
    assert names_in(html) == ["Smith, Amina", "Smith, Jonas"]
    next_page = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "q=smi" in next_page and "page=2" in next_page
    html = client.get(next_page).get_data(as_text=True)
    assert names_in(html) == ["Smithson, Rosa"]
    assert 'rel="prev"' in html and 'rel="next"' not in html


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999", "9"])
def test_odd_page_numbers_never_fail(login_as, patrons, page):
    response = login_as("User Manager").get(f"/users/?q=smi&page={page}")
    assert response.status_code == 200
    assert names_in(response.get_data(as_text=True))


@pytest.mark.parametrize("query", ["%", "_", '"', "*", "NEAR", "-", "'", "%25%25", "s",
                                   "x" * 1000, "<script>alert(1)</script>"])
def test_odd_queries_answer_a_page(login_as, patrons, query):
    response = login_as("User Manager").get("/users/", query_string={"q": query})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert names_in(html) == []
    assert "<script>alert" not in html


def test_one_letter_asks_for_more(login_as, patrons):
    html = login_as("User Manager").get("/users/?q=s").get_data(as_text=True)
    assert "Type at least two letters" in html


def test_live_search_wiring(login_as, patrons):
    html = login_as("User Manager").get("/users/?q=smi").get_data(as_text=True)
    form = html.split('<form id="topbar-search"', 1)[1].split(">", 1)[0]
    assert 'hx-target="#search-results"' in form
    assert 'hx-push-url="true"' in form
    assert 'hx-sync="this:replace"' in form  # a newer request replaces an older one
    assert "input changed delay:300ms from:#topbar-q" in form
    # Elsewhere the box is a plain form that opens the search page.
    other = login_as("User Manager").get(f"/users/{patrons['P1']}").get_data(as_text=True)
    assert "hx-get" not in other.split('<form id="topbar-search"', 1)[1].split(">", 1)[0]


@pytest.mark.parametrize("query", ["smi", "s", "", "nobody", "BC-P4"])
@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true", "X-Live-Search": "true"}],
                         ids=["page", "fragment"])
def test_page_and_fragment_are_valid_html(login_as, patrons, app, query, headers):
    app.config["SEARCH_PAGE_SIZE"] = 2  # with the pager
    response = login_as("General System Administrator").get(
        "/users/", query_string={"q": query}, headers=headers)
    text = response.get_data(as_text=True)
    if not headers:
        assert text.startswith("<!doctype html>")
    else:
        text = f"<!doctype html><title>t</title>{text}"
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)
