"""Every page a staff member can open parses as valid HTML (html5lib, strict)."""

import html5lib
import pytest

from tests.conftest import HtmxClient
from tests.routes import app_routes


@pytest.fixture
def patron(patrons):
    return patrons["external"]


def strict_parse(text):
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def get_pages(app, user_id):
    """Yield the URL of every GET route, with a patron id where one is needed."""
    for route in app_routes(app, methods={"GET"}):
        yield route.url(user_id)


def test_every_page_is_valid_html(app, login_as, patron):
    client = login_as("General System Administrator")
    checked = 0
    for url in get_pages(app, patron):
        for requests in (client, HtmxClient(client)):
            fragment = requests is not client
            response = requests.get(url)
            if response.status_code >= 300 or not response.mimetype == "text/html":
                continue
            text = response.get_data(as_text=True)
            whole = text.startswith("<!doctype html>")
            if not fragment:
                assert whole, url
            try:
                strict_parse(text if whole else f"<!doctype html><title>t</title>{text}")
            except html5lib.html5parser.ParseError as exc:
                pytest.fail(f"{url} ({'fragment' if fragment else 'page'}): {exc}")
            checked += 1
    assert checked >= 10


def test_parser_catches_broken_markup():
    with pytest.raises(html5lib.html5parser.ParseError):
        strict_parse("<!doctype html><title>t</title><p><div></p></span>")
