"""Circulation service: items (find, add, edit, CSV import) and loan policies (Admin)."""

import pytest

from webapp.models import Item, Library
from webapp.services import Forbidden, ValidationError, circulation
from webapp.services.permissions import Actor

DESK = Actor("desk1", frozenset({"users.view", "desk.use"}))
ADMIN = Actor("admin1", frozenset({"system.admin"}))


def test_policies_are_edited_by_system_admin_and_the_default_stays(dbc):
    with pytest.raises(Forbidden):
        circulation.save_policy(DESK, {"user_group": "Staff", "loan_days": "14",
                                       "max_renewals": "1", "max_loans": "5"})
    policy = circulation.save_policy(ADMIN, {"user_group": "Staff", "loan_days": "14",
                                             "max_renewals": "1", "max_loans": "5"})
    assert circulation.policy_for("Staff", None).loan_days == 14
    with pytest.raises(ValidationError) as bad:
        circulation.save_policy(ADMIN, {"user_group": "Staff", "loan_days": "0",
                                        "max_renewals": "x", "max_loans": "5"})
    assert set(bad.value.errors) == {"loan_days", "max_renewals"}
    with pytest.raises(ValidationError, match="exists"):
        circulation.save_policy(ADMIN, {"user_group": "Staff", "loan_days": "7",
                                        "max_renewals": "1", "max_loans": "5"})
    default = next(p for p in circulation.list_policies() if circulation.is_default(p))
    with pytest.raises(ValidationError):
        circulation.delete_policy(ADMIN, default.id)
    circulation.delete_policy(ADMIN, policy.id)
    assert circulation.policy_for("Staff", None).id == default.id


# Items


GOOD_CSV = (b"barcode,title,author,call_number,library\n"
            b"3901,Rivers of the North,\"Lund, Eva\",551.4 LUN,MAIN\n"
            b"3902,The Quiet Archive,,,main\n")


def test_items_import_creates_then_updates_by_barcode_whatever_the_case(dbc):
    result = circulation.import_items(ADMIN, b"\xef\xbb\xbf" + GOOD_CSV.replace(b",main\n", b",MAIN\n"))
    assert (result.created, result.updated) == (2, 0)
    assert circulation.find_by_barcode("3901").author == "Lund, Eva"
    again = circulation.import_items(ADMIN, b"BARCODE,title,author,call_number,library\n"
                                            b"3901,Rivers of the North (2nd ed.),,,MAIN\n"
                                            b"3902,The Quiet Archive,,,MAIN\n")
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert Item.select().count() == 2
    assert circulation.find_by_barcode("3901").title == "Rivers of the North (2nd ed.)"


def test_items_import_is_all_or_nothing_with_line_numbers(dbc):
    data = (b"barcode,title,author,call_number,library\n"
            b"3901,Fine Book,,,MAIN\n"
            b",No Barcode,,,MAIN\n"
            b"3903,Wrong Library,,,NOPE\n"
            b"3901,Same Barcode Again,,,MAIN\n"
            b"3905,Too few cells\n")
    with pytest.raises(circulation.ItemImportRejected) as rejected:
        circulation.import_items(ADMIN, data)
    errors = dict(rejected.value.errors)
    assert errors[3] == "Barcode is required."
    assert errors[4] == "No library has the code 'NOPE'."
    assert errors[5] == "Barcode 3901 is on line 2 already."
    assert errors[6] == "Expected 5 cells."
    assert 2 not in errors and not Item.select().exists()


def test_items_import_refuses_a_wrong_header_and_non_utf8(dbc):
    with pytest.raises(circulation.ItemImportRejected) as rejected:
        circulation.import_items(ADMIN, b"barcode,title,shelf\n1,A,B\n")
    assert rejected.value.errors[0][0] == 1 and "unknown shelf" in rejected.value.errors[0][1]
    with pytest.raises(circulation.ItemImportRejected, match="1 errors"):
        circulation.import_items(ADMIN, "barcode,title\nÄ".encode("latin-1"))
    with pytest.raises(Forbidden):
        circulation.import_items(DESK, GOOD_CSV)


def test_add_and_edit_items_keep_barcodes_unique_whatever_the_case(dbc):
    main = Library.get(Library.code == "MAIN")
    added = circulation.add_item(ADMIN, {"barcode": "ab-1", "title": "Maps", "library": main.id})
    with pytest.raises(ValidationError) as clash:
        circulation.add_item(ADMIN, {"barcode": "AB-1", "title": "Other", "library": main.id})
    assert "barcode" in clash.value.errors
    edited = circulation.edit_item(ADMIN, added.id, {"barcode": "AB-1", "title": "Maps, 2nd ed.",
                                                    "library": main.id, "status": "missing"})
    assert (edited.barcode, edited.status) == ("AB-1", "missing")
    assert circulation.search_items("maps")[0] == [edited]
    assert circulation.search_items("ab-1")[0] == [edited]
    with pytest.raises(Forbidden):
        circulation.add_item(DESK, {"barcode": "x", "title": "y", "library": main.id})
