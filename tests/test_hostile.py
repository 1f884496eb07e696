"""The last-resort walk: hostile values in every route's address, query and form, as every role.

Whatever is sent, the answer is never a 5xx and always carries the security headers.
"""

import re
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import PASSWORD, ROLE_LOGINS, csrf_token_from
from tests.routes import ARGUMENT, app_routes
from webapp.db import db
from webapp.models import Email, User
from webapp.services import fields
from webapp.services.permissions import GSA, ROLES

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"
BLUEPRINTS = ("admin", "auth", "circulation", "desk", "users", "web")

# Deeper than the JSON parser can recurse (Python's limit is 1,000 frames).
LONG = "x" * 2_000
NESTED = "[" * 1_500 + "]" * 1_500
NESTED_OBJECT = '{"a":' * 1_500 + "1" + "}" * 1_500
# Each field gets each of these in turn. Control characters are the text boundary's concern.
VALUES = (
    "9223372036854775808",  # 2^63: past SQLite's integer
    "18446744073709551616",  # 2^64
    "2147483648",  # 2^31: past PostgreSQL's 4-byte id columns
    "-1",
    "0",
    "abc",
    "²",  # a digit to str.isdigit(), not to int()
    "",
    LONG,
    NESTED,
    NESTED_OBJECT,
    ["1", "2"],  # a list where one value is expected
)
# Nothing parses a query string as JSON, and the test client unquotes a long one slowly.
QUERY_VALUES = tuple("x" * 300 if v == LONG else v for v in VALUES if v not in (NESTED, NESTED_OBJECT))
PATH_VALUES = ("9223372036854775808", "2147483648", "0", "²", "x" * 2_000)
# The string arguments of rules, at a value that reaches the view's own code.
REAL_ARGUMENTS = {"tab": "general", "kind": "emails", "field": "first_name"}
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "X-Frame-Options")


def field_names():
    """Return every input name the app reads: the literals its code asks for, and the catalogue's."""
    names = set(fields.GENERAL_FIELDS) | {"loaded", "version", "next"}
    read = re.compile(r"""(?:\.get|\.getlist|form\[|args\[)\(?\s*f?["']([\w.{}]+)["']""")
    for path in (p for b in BLUEPRINTS for p in (WEBAPP / b).glob("*.py")):
        names.update(n for n in read.findall(path.read_text()) if "{" not in n)
    names.discard("csrf_token")
    for kind, kind_fields in fields.SEGMENT_FIELDS.items():
        names.update(f"{kind}.new.{f}" for f in kind_fields)
        names.update(f"{kind}.1.{f}" for f in kind_fields)
    return sorted(names)


def hostile_form(names, turn, values=VALUES):
    """Return a MultiDict giving field number n the value values[(n + turn) % len(values)]."""
    form = MultiDict()
    for n, name in enumerate(names):
        value = values[(n + turn) % len(values)]
        for one in value if isinstance(value, list) else [value]:
            form.add(name, one)
    return form


def address(route, path_value, real_id):
    """Return ROUTE's address with PATH_VALUE in every argument (None: real ids and names)."""
    def value(match):
        if path_value is not None:
            return path_value
        if match.group("converter") == "int":
            return str(real_id)
        return REAL_ARGUMENTS.get(match.group("name"), "general")

    return ARGUMENT.sub(value, route.rule)


def check(response, what):
    """Assert RESPONSE is no server error and carries every security header."""
    assert response.status_code < 500, f"{what}: {response.status_code}"
    missing = [h for h in SECURITY_HEADERS if h not in response.headers]
    assert not missing, f"{what}: no {missing}"


def signed_in_client(app, role):
    """Return a test client signed in as ROLE (anonymous for "nobody") and its CSRF token."""
    client = app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    if ROLE_LOGINS[role]:
        signed_in = client.post("/sign-in", data={"identifier": ROLE_LOGINS[role],
                                                  "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 302
        page = client.get("/", follow_redirects=True).get_data(as_text=True)
        token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    return client, token


def turns_for(role, route):
    """Return the turns of VALUES to send ROUTE as ROLE.

    Every value in every field as the administrator, who reaches every view's code, and as
    a visitor on the public routes; two turns as a role that holds the route's permissions,
    one where it is refused at the door.
    """
    if role == GSA or (ROLE_LOGINS[role] is None and getattr(route.view, "public", False)):
        return range(len(VALUES))
    needed = getattr(route.view, "required_permissions", set())
    return (0, len(VALUES) // 2) if role in ROLES and needed <= ROLES[role] else (0,)


def send(client, route, url, turn, names, token):
    """Send ROUTE at URL with the hostile values of TURN in its query string and form."""
    headers = {"X-CSRFToken": token, **({"HX-Request": "true"} if turn % 2 else {})}
    query = hostile_form(names, turn, QUERY_VALUES)
    if route.method == "GET":
        return client.get(url, query_string=query, headers=headers)
    # Multipart: urlencoded, thousands of brackets take seconds to unquote in the test client.
    return client.open(url, method=route.method, query_string=query, headers=headers,
                       data=hostile_form(names, turn), content_type="multipart/form-data")


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
def test_hostile_values_never_give_a_server_error(csrf_app, role):
    """Every route, every method, hostile path, query and form values: a 4xx at worst."""
    with db.connection_context():
        patron = User.create(primary_id="hostile-patron", last_name="Hostile",
                             user_group="Community")
        Email.create(user=patron, address="h@example.org", preferred=True)
    client, token = signed_in_client(csrf_app, role)
    names = field_names()
    # Sign-out last, so the role's session holds for every other route.
    routes = sorted(app_routes(csrf_app), key=lambda r: r.endpoint == "auth.sign_out")
    statuses = set()
    for route in routes:
        for path_value in PATH_VALUES if "<" in route.rule else ():
            url = address(route, path_value, patron.id)
            check(client.open(url, method=route.method, headers={"X-CSRFToken": token}),
                  f"{route.method} {url}")
        for turn in turns_for(role, route):
            url = address(route, None, patron.id)
            response = send(client, route, url, turn, names, token)
            check(response, f"{route.method} {url} as {role}, turn {turn}")
            statuses.add((route.method, response.status_code))
    # The token was good: posts got past the CSRF check to the views' own answers.
    assert {status for method, status in statuses if method == "POST"} - {400, 403}
