"""The people of the test directory, and the accounts here that their entries should match."""

import datetime

import pytest

from tests.servers.slapd import PEOPLE_DN, running_slapd, ssha
from webapp.models import Identifier, RoleAssignment, User

DESK_ROLE = "Circulation Desk Operator – Limited"

# uid -> (password in the directory, employeeNumber). Nobody's password is anyone else's.
DIRECTORY_PEOPLE = {
    "alice": ("alice directory pw", "U1001"),  # an external student worker: signs in
    "bob": ("bob directory pw", "U2002"),  # external, tried with a wrong password
    "carol": ("carol directory pw", "U3003"),  # in the directory, no account here
    "dana": ("dana directory pw", "U4004"),  # two accounts here answer to her name
    "erin": ("erin directory pw", "U5005"),  # her account here is inactive
    "frank": ("frank directory pw", "U6006"),  # his account here holds no role
    "grace": ("grace directory pw", "U7007"),  # her account here is internal
    "x*)(uid=*": ("tricky directory pw", "U8008"),  # filter characters in the name
}

# Two directory entries sharing one mail address: a filter on mail finds both.
SHARED_MAIL = "desk@library.test"


def directory_ldif(people_dn=PEOPLE_DN):
    """Return the LDIF of DIRECTORY_PEOPLE under PEOPLE_DN, passwords hashed as {SSHA}."""
    entries = []
    for n, (uid, (password, number)) in enumerate(DIRECTORY_PEOPLE.items()):
        # cn in the DN: the tricky uid stays out of the DN, where it would need escaping.
        mail = SHARED_MAIL if uid in {"carol", "dana"} else f"person{n}@library.test"
        entries.append(
            f"dn: cn=Person {n},{people_dn}\nobjectClass: inetOrgPerson\ncn: Person {n}\n"
            f"sn: Person\nuid: {uid}\nemployeeNumber: {number}\nmail: {mail}\n"
            f"userPassword: {ssha(password)}\n"
        )
    return "\n".join(entries)


def external(primary_id, *, role=DESK_ROLE, status="active", university_id=None,
             account_type="external", expires_on=None):
    """Create an account as synchronization would load it, holding ROLE unless None."""
    user = User.create(primary_id=primary_id, first_name=primary_id.title(), last_name="Person",
                       user_group="Staff", record_type="staff", account_type=account_type,
                       status=status, source="SIS" if account_type == "external" else None,
                       external_id=f"S-{primary_id}" if account_type == "external" else None)
    if role:
        RoleAssignment.create(user=user, role=role, expires_on=expires_on)
    if university_id:
        Identifier.create(user=user, id_type="university_id", value=university_id,
                          segment="external")
    return user


def directory_accounts():
    """Create the accounts here that DIRECTORY_PEOPLE's entries meet; return them by uid."""
    return {
        "alice": external("alice", university_id="U1001"),
        "bob": external("bob", university_id="U2002"),
        "dana": external("dana", university_id="U4004"),
        "DANA": external("DANA", university_id="u4004"),
        "erin": external("erin", status="inactive", university_id="U5005"),
        "frank": external("frank", role=None, university_id="U6006"),
        "grace": external("grace", account_type="internal", university_id="U7007"),
        "expired": external("expired", expires_on=datetime.date(2000, 1, 31)),
    }


def directory_password(uid):
    """Return the password DIRECTORY_PEOPLE's UID has in the directory."""
    return DIRECTORY_PEOPLE[uid][0]


# (typed name, typed password, the reason the sign-in log records): one per identity rule.
DIRECTORY_REFUSALS = [
    ("bob", "not bob's password", "bad_password"),
    ("carol", directory_password("carol"), "no_match"),
    ("dana", directory_password("dana"), "several_matches"),
    ("erin", directory_password("erin"), "inactive"),
    ("frank", directory_password("frank"), "no_role"),
    ("*", directory_password("alice"), "bad_password"),
]


def ldap_config(server, **overrides):
    """Return the LDAP_* settings for SERVER: anonymous search under ou=people, short timeout."""
    config = {"LDAP_URL": server.url, "LDAP_USER_BASE": server.people_dn,
              "LDAP_TIMEOUT_SECONDS": 2}
    config.update(overrides)
    return config


@pytest.fixture(scope="module", name="directory")
def directory_server(tmp_path_factory):
    """A slapd holding DIRECTORY_PEOPLE for the whole module (tests.servers.slapd.Slapd)."""
    with running_slapd(tmp_path_factory.mktemp("directory"), directory_ldif()) as server:
        yield server
