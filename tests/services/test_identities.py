"""Identity rules: an outside identity signs in only as one active external account with a role."""

import pytest

from tests.directory_people import directory_accounts
from webapp.services.identities import REASONS, IdentityRefused, match_external_account


@pytest.fixture
def accounts(dbc):
    return directory_accounts()


def refusal(value, match_identifier="primary_id"):
    with pytest.raises(IdentityRefused) as caught:
        match_external_account(value, match_identifier)
    assert caught.value.reason in REASONS
    return caught.value.reason


def test_one_active_external_account_with_a_role_matches(accounts):
    assert match_external_account("alice").id == accounts["alice"].id


def test_values_are_trimmed_and_case_folded(accounts):
    assert match_external_account("  ALICE \t").id == accounts["alice"].id
    assert match_external_account("u1001", "university_id").id == accounts["alice"].id


def test_identifier_type_matching_looks_at_that_type_only(accounts):
    assert refusal("alice", "university_id") == "no_match"
    assert refusal("U1001", "barcode") == "no_match"
    assert refusal("U1001") == "no_match"


@pytest.mark.parametrize("value, reason", [
    ("carol", "no_match"),
    ("", "no_match"),
    ("   ", "no_match"),
    ("dana", "several_matches"),
    ("erin", "inactive"),
    ("frank", "no_role"),
    ("expired", "no_role"),
    ("grace", "internal_account"),
])
def test_every_other_identity_is_refused_with_its_reason(accounts, value, reason):
    assert refusal(value) == reason


def test_several_matches_by_identifier_type(accounts):
    assert refusal("U4004", "university_id") == "several_matches"


def test_wildcards_are_not_patterns(accounts):
    for value in ("%", "a%", "_lice", "*", "alic?"):
        assert refusal(value) == "no_match"
