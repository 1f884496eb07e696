"""Ids past what the id columns hold, and a 'loaded' value that is not a flat mapping: 4xx, not 500."""

import html
import re

import pytest

from webapp.db import db
from webapp.models import Library, User
from webapp.services.fields import MAX_ID, as_id

# 2^63 and 2^64 are past SQLite's integers; 2^31 is past PostgreSQL's 4-byte id columns.
HUGE = ("9223372036854775808", "18446744073709551616", "2147483648")
ADMIN = "General System Administrator"
FORM = {"version": "1", "primary_id": "INT1", "user_group": "Community", "first_name": "Ida",
        "last_name": "Inman", "status": "active"}


def test_an_id_is_ascii_digits_within_the_columns_range():
    assert as_id(" 42 ") == 42 and as_id(MAX_ID) == MAX_ID and as_id(str(MAX_ID)) == MAX_ID
    for text in ("0", "-1", "²", "٣", "1.5", "", "abc", str(MAX_ID + 1), *HUGE, None):
        assert as_id(text) is None, text


@pytest.mark.parametrize("huge", HUGE)
def test_a_huge_id_in_an_address_is_not_found(login_as, huge):
    client = login_as(ADMIN)
    for url in (f"/users/{huge}", f"/users/{huge}/general/edit", f"/admin/sync/{huge}",
                f"/desk/patrons/{huge}/edit", f"/admin/items/{huge}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/admin/sync/{huge}/apply").status_code == 404
    assert client.post(f"/users/{huge}/general", data=FORM).status_code == 404


@pytest.mark.parametrize("huge", HUGE)
def test_a_huge_patron_id_at_the_desk_is_no_such_patron(login_as, huge):
    client = login_as("Circulation Desk Operator")
    response = client.get("/desk/", query_string={"patron": huge})
    assert response.status_code == 404


@pytest.mark.parametrize("huge", HUGE + ("²",))
def test_a_huge_resource_sharing_library_is_a_field_error(login_as, patrons, huge):
    client = login_as("User Manager")
    uid = patrons["internal"]
    response = client.post(f"/users/{uid}/general", data=dict(FORM, rs_library=huge))
    assert response.status_code == 422
    assert "Choose a library from the list." in response.get_data(as_text=True)
    with db.connection_context():
        assert User.get_by_id(uid).rs_library_id is None


@pytest.mark.parametrize("huge", HUGE)
def test_a_huge_resource_sharing_library_at_the_desk_is_a_field_error(login_as, patrons, huge):
    with db.connection_context():
        Library.create(code="SCI", name="Science Library")  # the desk offers it with two
    client = login_as(ADMIN)
    uid = patrons["internal"]
    response = client.post(f"/desk/patrons/{uid}", data={"version": "1", "rs_library": huge})
    assert response.status_code == 422
    assert "Choose a library from the list." in response.get_data(as_text=True)


def test_a_huge_page_number_shows_the_first_page(login_as):
    client = login_as(ADMIN)
    for page in ("²", HUGE[0]):
        assert client.get("/users/", query_string={"page": page}).status_code == 200


def test_huge_ids_in_lists_are_refused_naming_the_field(login_as):
    client = login_as(ADMIN)
    response = client.post("/admin/staff", data={"action": "remove", "assignment": HUGE[0]})
    assert response.status_code == 422
    assert "assignment" in response.get_data(as_text=True)
    response = client.post("/circulation/return", data={"barcode": "none", "returned": HUGE[0]})
    assert response.status_code == 422
    assert "returned" in response.get_data(as_text=True)


def loaded_of(client, uid):
    page = client.get(f"/users/{uid}/general/edit").get_data(as_text=True)
    return re.search(r"name=\"loaded\" value='([^']*)'", page).group(1)


@pytest.mark.parametrize("loaded", [
    "[" * 100_000 + "]" * 100_000,  # deep enough to exhaust the JSON parser
    '{"a": ' * 50_000 + '""' + "}" * 50_000,
    '{"first_name": {"nested": "x"}}',
    '{"first_name": [["x"]]}',
    '{"first_name": 1}',
    '["first_name"]',
    "not json",
    '{"first_name": "' + "x" * 70_000 + '"}',  # past the size any form needs
])
def test_a_loaded_value_that_is_not_flat_text_is_refused(login_as, patrons, loaded):
    client = login_as("User Manager")
    uid = patrons["internal"]
    # The form's loaded values are read when the save meets someone else's (version 5).
    response = client.post(f"/users/{uid}/general",
                           data=dict(FORM, version="5", first_name="Changed", loaded=loaded))
    assert response.status_code == 422
    assert "loaded values is not readable" in response.get_data(as_text=True)
    with db.connection_context():
        assert User.get_by_id(uid).first_name == "Ida"


def test_a_deep_loaded_value_at_the_desk_is_refused(login_as, patrons):
    client = login_as(ADMIN)
    uid = patrons["internal"]
    response = client.post(f"/desk/patrons/{uid}",
                           data={"version": "5", "notes.new.text": "a note",
                                 "loaded": "[" * 100_000 + "]" * 100_000})
    assert response.status_code == 422


def test_the_loaded_value_a_form_writes_is_read_back_after_a_conflict(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    loaded = html.unescape(loaded_of(client, uid))
    response = client.post(f"/users/{uid}/general",
                           data=dict(FORM, version="5", first_name="Changed", loaded=loaded))
    assert response.status_code == 409
    conflict = response.get_data(as_text=True).split('id="conflict"')[1].split("</table>")[0]
    assert "Changed" in conflict
