"""Every page a staff member can open parses as valid HTML (html5lib, strict)."""

import html5lib
import pytest
from werkzeug.routing import IntegerConverter


@pytest.fixture
def patron(patrons):
    return patrons["external"]


def strict_parse(text):
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def get_pages(app, user_id):
    """Yield the URL of every GET route, with a patron id where one is needed."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        values = {}
        for name, converter in rule._converters.items():
            values[name] = user_id if isinstance(converter, IntegerConverter) else "general"
        yield rule.build(values)[1]


def test_every_page_is_valid_html(app, login_as, patron):
    client = login_as("General System Administrator")
    checked = 0
    for url in get_pages(app, patron):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            if response.status_code >= 300 or not response.mimetype == "text/html":
                continue
            text = response.get_data(as_text=True)
            whole = text.startswith("<!doctype html>")
            if not headers:
                assert whole, url
            try:
                strict_parse(text if whole else f"<!doctype html><title>t</title>{text}")
            except html5lib.html5parser.ParseError as exc:
                pytest.fail(f"{url} ({'fragment' if headers else 'page'}): {exc}")
            checked += 1
    assert checked >= 10


def test_parser_catches_broken_markup():
    with pytest.raises(html5lib.html5parser.ParseError):
        strict_parse("<!doctype html><title>t</title><p><div></p></span>")
