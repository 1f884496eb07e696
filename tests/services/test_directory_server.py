"""Directory sign-in against a real OpenLDAP server (Debian's slapd) with the test people."""

import time

import ldap3
import pytest

from tests.directory_people import (
    SHARED_MAIL,
    directory_ldif,
    directory_password,
    directory_server,  # noqa: F401 (the directory fixture)
    ldap_config,
)
from tests.servers import free_port
from tests.servers.slapd import PEOPLE_DN, running_slapd, ssha
from webapp.services.directory import (
    DirectorySettings,
    DirectoryUnavailable,
    check_directory_password,
)

TIMEOUT = 2
password = directory_password


@pytest.fixture
def own_directory(tmp_path):
    """A slapd of this test's own, which the test may change."""
    with running_slapd(tmp_path, directory_ldif()) as server:
        yield server


def settings_for(server, **config):
    """Return directory settings for SERVER, anonymous search unless CONFIG says otherwise."""
    return DirectorySettings.from_config(ldap_config(server, LDAP_TIMEOUT_SECONDS=TIMEOUT, **config))


def test_the_right_password_gives_the_match_value(directory):
    assert check_directory_password("alice", password("alice"), settings_for(directory)) == "alice"
    by_number = settings_for(directory, LDAP_MATCH_ATTRIBUTE="employeeNumber")
    assert check_directory_password(" Alice ", password("alice"), by_number) == "U1001"


@pytest.mark.parametrize("identifier, typed", [
    ("bob", "not bob's password"),
    ("bob", password("alice")),
    ("nobody", password("alice")),
    ("alice", "   "),
])
def test_a_wrong_password_or_an_unknown_name_gives_nothing(directory, identifier, typed):
    assert check_directory_password(identifier, typed, settings_for(directory)) is None


@pytest.mark.parametrize("typed_name", ["*", "*)(uid=*", "alice)(|(uid=*", "a*", "*)(|(objectClass=*",
                                        "alice\\2a", "alice\x00"])
def test_filter_characters_never_widen_the_search(directory, typed_name):
    # Alice's password with a name that, unescaped, would find her (or everyone).
    assert check_directory_password(typed_name, password("alice"), settings_for(directory)) is None


def test_a_name_with_filter_characters_finds_exactly_its_own_entry(directory):
    tricky = "x*)(uid=*"
    settings = settings_for(directory)
    assert check_directory_password(tricky, password(tricky), settings) == tricky
    assert check_directory_password(tricky, password("alice"), settings) is None


def test_a_filter_that_finds_several_entries_signs_nobody_in(directory):
    by_mail = settings_for(directory, LDAP_USER_FILTER="(mail={identifier})")
    assert check_directory_password(SHARED_MAIL, password("carol"), by_mail) is None
    assert check_directory_password("person0@library.test", password("alice"), by_mail) == "alice"


def test_the_service_account_searches(directory):
    service = settings_for(directory, LDAP_BIND_DN=directory.admin_dn,
                           LDAP_BIND_PASSWORD=directory.admin_password)
    assert check_directory_password("alice", password("alice"), service) == "alice"


def test_a_refused_service_account_is_unavailable(directory):
    refused = settings_for(directory, LDAP_BIND_DN=directory.admin_dn, LDAP_BIND_PASSWORD="wrong")
    with pytest.raises(DirectoryUnavailable, match="service account"):
        check_directory_password("alice", password("alice"), refused)


def test_start_tls_with_the_directory_certificate(directory):
    tls = settings_for(directory, LDAP_START_TLS=True, LDAP_CA_FILE=str(directory.ca_file))
    assert check_directory_password("alice", password("alice"), tls) == "alice"
    assert check_directory_password("alice", "wrong", tls) is None


def test_start_tls_refuses_a_certificate_it_cannot_verify(directory):
    unverified = settings_for(directory, LDAP_START_TLS=True)
    with pytest.raises(DirectoryUnavailable, match="certificate"):
        check_directory_password("alice", password("alice"), unverified)


def test_fail_over_to_the_next_url(directory):
    settings = settings_for(directory, LDAP_URL=f"ldap://127.0.0.1:{free_port()} {directory.url}")
    assert check_directory_password("alice", password("alice"), settings) == "alice"


def test_a_password_changed_in_the_directory_counts_at_the_next_check(own_directory):
    settings = settings_for(own_directory)
    dn = f"cn=Person 0,{PEOPLE_DN}"
    with ldap3.Connection(own_directory.url, own_directory.admin_dn, own_directory.admin_password,
                          auto_bind=True) as admin:
        admin.modify(dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [ssha("alice new pw")])]})
    assert check_directory_password("alice", password("alice"), settings) is None
    assert check_directory_password("alice", "alice new pw", settings) == "alice"
    with ldap3.Connection(own_directory.url, own_directory.admin_dn, own_directory.admin_password,
                          auto_bind=True) as admin:
        admin.delete(dn)
    assert check_directory_password("alice", "alice new pw", settings) is None


def unavailable_within(settings, seconds):
    """Assert that a check raises DirectoryUnavailable, and within SECONDS."""
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable):
        check_directory_password("alice", password("alice"), settings)
    assert time.monotonic() - started < seconds


def test_a_killed_directory_is_unavailable_at_once_and_answers_once_back(directory):
    settings = settings_for(directory)
    directory.kill()
    try:
        unavailable_within(settings, 1)
    finally:
        directory.start()
    assert check_directory_password("alice", password("alice"), settings) == "alice"


def test_a_directory_that_stops_answering_is_unavailable_within_the_timeout(directory):
    directory.pause()  # still accepts connections, never answers
    try:
        unavailable_within(settings_for(directory), TIMEOUT + 1)
    finally:
        directory.resume()
