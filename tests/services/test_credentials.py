"""Whom a sign-in names: internal accounts by password, the rest through the directory or SSO."""

import pytest

from tests.conftest import PASSWORD, ROLE_LOGINS
from tests.directory_people import (
    DIRECTORY_REFUSALS,
    directory_accounts,
    directory_password,
    directory_server,  # noqa: F401 (the directory fixture)
    ldap_config,
)
from webapp.services.credentials import check_credentials, check_single_sign_on
from webapp.services.directory import DirectorySettings, DirectoryUnavailable
from webapp.services.passwords import hash_secret
from webapp.services.sso import SsoSettings

ADMIN = ROLE_LOGINS["General System Administrator"]


@pytest.fixture
def accounts(dbc):
    return directory_accounts()


@pytest.fixture
def settings(directory):
    return DirectorySettings.from_config(ldap_config(directory))


def test_an_external_account_signs_in_through_the_directory(accounts, settings):
    user, how = check_credentials("alice", directory_password("alice"), settings)
    assert (user.id, how) == (accounts["alice"].id, "directory")


def test_the_directory_match_can_be_an_identifier_type(accounts, directory):
    by_number = DirectorySettings.from_config(ldap_config(
        directory, LDAP_MATCH_ATTRIBUTE="employeeNumber", LDAP_MATCH_IDENTIFIER="university_id"))
    user, how = check_credentials("alice", directory_password("alice"), by_number)
    assert (user.id, how) == (accounts["alice"].id, "directory")


@pytest.mark.parametrize("identifier, password, reason", DIRECTORY_REFUSALS + [
    ("nobody", "whatever it is", "bad_password"),
    ("x*)(uid=*", directory_password("x*)(uid=*"), "no_match"),
])
def test_every_refusal_has_its_reason(accounts, settings, identifier, password, reason):
    assert check_credentials(identifier, password, settings) == (None, reason)


def test_an_internal_account_checks_its_own_password_only(accounts, settings):
    # grace is internal here: her directory password does not sign her in, nor does it
    # reach the directory (which would answer "internal_account").
    accounts["grace"].password_hash = hash_secret("grace local password")
    accounts["grace"].save()
    assert check_credentials("grace", directory_password("grace"), settings) == (None, "bad_password")
    user, how = check_credentials("grace", "grace local password", settings)
    assert (user.id, how) == (accounts["grace"].id, "password")


def test_a_password_hash_on_an_external_account_is_never_used(accounts, settings):
    accounts["alice"].password_hash = hash_secret("left over password")
    accounts["alice"].save()
    assert check_credentials("alice", "left over password", settings) == (None, "bad_password")
    assert check_credentials("alice", "left over password", None) == (None, "no_directory")


def test_without_a_directory_nothing_external_signs_in(accounts):
    assert check_credentials("alice", directory_password("alice"), None) == (None, "no_directory")
    assert check_credentials("carol", "a password", None) == (None, "no_account")


def test_the_internal_administrator_signs_in_while_the_directory_is_down(accounts, directory):
    settings = DirectorySettings.from_config(ldap_config(directory))
    directory.kill()
    try:
        user, how = check_credentials(ADMIN, PASSWORD, settings)
        assert (user.primary_id, how) == (ADMIN, "password")
        with pytest.raises(DirectoryUnavailable):
            check_credentials("alice", directory_password("alice"), settings)
    finally:
        directory.start()


SSO = SsoSettings.from_config({"SSO_HEADER": "X-Remote-User", "SSO_TRUSTED_PROXIES": "10.0.0.0/8"})


def test_single_sign_on_from_a_trusted_proxy(accounts):
    user, how = check_single_sign_on(" Alice ", "10.1.2.3", SSO)
    assert (user.id, how) == (accounts["alice"].id, "single_sign_on")


@pytest.mark.parametrize("value, address, reason", [
    ("alice", "192.168.0.9", "untrusted_proxy"),
    ("alice", "", "untrusted_proxy"),
    ("", "10.1.2.3", "no_identity"),
    ("carol", "10.1.2.3", "no_match"),
    ("dana", "10.1.2.3", "several_matches"),
    ("erin", "10.1.2.3", "inactive"),
    ("frank", "10.1.2.3", "no_role"),
    ("grace", "10.1.2.3", "internal_account"),
    (ADMIN, "10.1.2.3", "internal_account"),
])
def test_single_sign_on_refusals(accounts, value, address, reason):
    assert check_single_sign_on(value, address, SSO) == (None, reason)
