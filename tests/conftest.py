"""Fixtures: an app on a file database in tmp_path, clients, and staff of every role."""

import os
import re

import pytest

from tests.databases import PostgresTemplate, SqliteTemplate
from webapp import create_app
from webapp.db import db, is_sqlite, migrate
from webapp.models import Email, Library, User
from webapp.services.clock import now
from webapp.services.permissions import ROLES
from webapp.services.staff import create_staff
from webapp.services.users import record_changes

PASSWORD = "correct horse battery"

# One staff account per role, signed in by login_as(role).
ROLE_LOGINS = {role: f"staff{n}" for n, role in enumerate(ROLES)}
ROLE_LOGINS["nobody"] = None

pytest_plugins = ["tests.servers.fixtures"]


# TEST_DB=postgresql runs the suite on the session's private PostgreSQL cluster instead.
TEST_DB = os.environ.get("TEST_DB", "sqlite")


def app_config(url, **extra):
    """Return the test configuration of an app on the database at URL."""
    return {"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
            **extra}


def make_app(tmp_path, database):
    """Return an app on the SQLite file DATABASE (tests of a fresh or a file database)."""
    return create_app(app_config(f"sqlite:///{database}"), instance_path=tmp_path / "instance")


def fill_template():
    """Migrate the bound database and add a library and one staff member per role."""
    migrate()
    with db.connection_context():
        Library.create(code="MAIN", name="Main Library")
        for role, identifier in ROLE_LOGINS.items():
            if identifier:
                create_staff(identifier, PASSWORD, role, first_name=role.split()[0],
                             last_name="Tester")
        if is_sqlite():
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="session")
def template_database(request, tmp_path_factory):
    """Build once: a migrated database with a library and one staff member per role."""
    base = tmp_path_factory.mktemp("template")
    if TEST_DB == "postgresql":
        with PostgresTemplate(request.getfixturevalue("postgres_cluster")) as template:
            create_app(app_config(template.url), instance_path=base / "instance")
            fill_template()
            yield template
        return
    path = base / "template.sqlite"
    make_app(base, path)
    fill_template()
    yield SqliteTemplate(path)


@pytest.fixture
def app(tmp_path, template_database):
    """Return an app on its own copy of the template database."""
    url = template_database.copy(tmp_path)
    app = create_app(app_config(url), instance_path=tmp_path / "instance")
    yield app
    if not db.is_closed():
        db.close()
    template_database.drop(url)


@pytest.fixture
def csrf_app(app):
    """Return the same app with CSRF protection switched on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class HtmxClient:
    """A test client whose requests carry the headers htmx sends."""

    def __init__(self, client):
        self.client = client

    def _headers(self, kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("HX-Request", "true")
        return headers

    def get(self, *args, **kwargs):
        return self.client.get(*args, headers=self._headers(kwargs), **kwargs)

    def post(self, *args, **kwargs):
        return self.client.post(*args, headers=self._headers(kwargs), **kwargs)

    def open(self, *args, **kwargs):
        return self.client.open(*args, headers=self._headers(kwargs), **kwargs)


@pytest.fixture
def htmx_client(client):
    return HtmxClient(client)


def sign_in(client, identifier, password=PASSWORD):
    """Sign IDENTIFIER in on CLIENT; return the response."""
    return client.post("/sign-in", data={"identifier": identifier, "password": password})


@pytest.fixture
def login_as(client):
    """Return a function that signs the client in as the staff member holding ROLE."""

    def do(role):
        identifier = ROLE_LOGINS[role]
        response = sign_in(client, identifier)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do


@pytest.fixture
def dbc(app):
    """Hold a database connection open for a service test."""
    with db.connection_context():
        yield db


@pytest.fixture
def patrons(app):
    """An internal and an external patron (source SIS), each with a preferred email."""
    with db.connection_context():
        internal = User.create(primary_id="INT1", first_name="Ida", last_name="Inman",
                               user_group="Community")
        external = User.create(primary_id="EXT1", first_name="Ezra", middle_name="Lee",
                               last_name="Exton", user_group="Graduate", account_type="external",
                               source="SIS", external_id="S1")
        Email.create(user=external, address="ezra@uni.edu", preferred=True, segment="external")
        Email.create(user=internal, address="ida@home.org", preferred=True)
        # Loaded, not changed: version 1 and no history, but indexed like every patron.
        record_changes({}, actor="system", via="system", at=now(),
                       reindex=[internal.id, external.id])
    return {"internal": internal.id, "external": external.id}


def csrf_token_from(html):
    """Return the CSRF token a page carries in its forms."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1)
