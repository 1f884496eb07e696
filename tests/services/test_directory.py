"""Directory sign-in: the LDAP_* settings and the checks that need no server."""

import pytest

from tests.servers import free_port
from webapp import config as defaults
from webapp.services.directory import (
    DirectorySettings,
    DirectoryUnavailable,
    check_directory_password,
    user_filter,
)


def unused_ldap_url():
    """Return an ldap:// URL on 127.0.0.1 where nothing listens."""
    return f"ldap://127.0.0.1:{free_port()}"


def test_defaults_are_off():
    settings = DirectorySettings.from_config(vars(defaults))
    assert not settings.enabled
    assert (settings.timeout, settings.user_filter, settings.match_attribute,
            settings.match_identifier) == (5, "(uid={identifier})", "uid", "primary_id")


def test_several_urls_for_fail_over():
    settings = DirectorySettings.from_config(
        {"LDAP_URL": "ldaps://dc1.campus.edu, ldap://dc2.campus.edu:389"})
    assert settings.urls == ("ldaps://dc1.campus.edu", "ldap://dc2.campus.edu:389")
    listed = DirectorySettings.from_config({"LDAP_URL": ["ldap://a", "ldap://b"]})
    assert listed.urls == ("ldap://a", "ldap://b")


def test_flags_and_numbers_from_the_environment_as_text():
    settings = DirectorySettings.from_config({"LDAP_URL": "ldap://a", "LDAP_START_TLS": "true",
                                              "LDAP_TIMEOUT_SECONDS": "2"})
    assert settings.start_tls is True and settings.timeout == 2


@pytest.mark.parametrize("config", [
    {"LDAP_URL": "http://dc1.campus.edu"},
    {"LDAP_URL": "ldap://a", "LDAP_USER_FILTER": "(uid=alice)"},
])
def test_bad_settings_are_refused(config):
    with pytest.raises(ValueError):
        DirectorySettings.from_config(config)


def test_the_bind_password_stays_out_of_the_settings_repr():
    settings = DirectorySettings.from_config({"LDAP_URL": "ldap://a", "LDAP_BIND_DN": "cn=s",
                                              "LDAP_BIND_PASSWORD": "service secret"})
    assert "service secret" not in repr(settings)


def test_the_typed_name_is_escaped_in_the_filter():
    settings = DirectorySettings.from_config(
        {"LDAP_URL": "ldap://a", "LDAP_USER_FILTER": "(&(objectClass=person)(uid={identifier}))"})
    assert user_filter(settings, "*)(uid=*") == r"(&(objectClass=person)(uid=\2a\29\28uid=\2a))"


@pytest.mark.parametrize("identifier, password", [("alice", ""), ("alice", None), ("", "pw"),
                                                  ("   ", "pw")])
def test_an_empty_name_or_password_is_refused_before_any_connection(identifier, password):
    # Nothing listens at this URL: reaching the network would raise DirectoryUnavailable.
    settings = DirectorySettings.from_config({"LDAP_URL": unused_ldap_url(), "LDAP_TIMEOUT_SECONDS": 1})
    assert check_directory_password(identifier, password, settings) is None


def test_nothing_listening_is_unavailable():
    settings = DirectorySettings.from_config({"LDAP_URL": unused_ldap_url(), "LDAP_TIMEOUT_SECONDS": 1})
    with pytest.raises(DirectoryUnavailable):
        check_directory_password("alice", "a password", settings)


def test_a_bind_dn_without_password_is_refused():
    settings = DirectorySettings.from_config({"LDAP_URL": unused_ldap_url(),
                                              "LDAP_BIND_DN": "cn=search,dc=library,dc=test"})
    with pytest.raises(DirectoryUnavailable, match="LDAP_BIND_PASSWORD"):
        check_directory_password("alice", "a password", settings)
