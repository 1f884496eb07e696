"""Pytest fixtures for the private servers; use them with pytest_plugins = ["tests.servers.fixtures"]."""

import uuid

import pytest

from tests.servers.postgres import running_postgres
from tests.servers.slapd import LDAP_PEOPLE, person_ldif, running_slapd
from tests.servers.vnu import Pages


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory):
    """Yield a private PostgreSQL cluster (tests.servers.postgres.Cluster) for the whole session."""
    with running_postgres(tmp_path_factory.mktemp("postgres")) as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster):
    """Yield the URL of a fresh database, a copy of the cluster's template, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield postgres_cluster.create_database(name)
    postgres_cluster.drop_database(name)


@pytest.fixture(scope="session")
def slapd_server(tmp_path_factory):
    """Yield a private slapd (tests.servers.slapd.Slapd) holding slapd.LDAP_PEOPLE under ou=people."""
    ldif = "\n".join(person_ldif(uid, password, cn=cn) for uid, (cn, password) in LDAP_PEOPLE.items())
    with running_slapd(tmp_path_factory.mktemp("slapd"), ldif) as server:
        yield server


@pytest.fixture
def slapd(slapd_server):
    """Yield the session's slapd, started again after the test if the test killed or stopped it."""
    yield slapd_server
    if not slapd_server.alive():
        slapd_server.start()


@pytest.fixture
def html_pages():
    """Yield a Pages collector; whatever the test added and did not check is validated at teardown."""
    pages = Pages()
    yield pages
    pages.assert_valid()
