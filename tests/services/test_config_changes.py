"""The configuration history: each change to a library, a setting, an item or a loan policy."""

import pytest

from webapp.models import ConfigChange, Library, LoanPolicy
from webapp.services import ValidationError, circulation, config_changes, libraries, settings
from webapp.services.permissions import Actor

ADMIN = Actor("admin1", frozenset({"system.admin"}))


def rows(kind=None):
    """Return (actor, kind, key, field, old, new) of every change of KIND, oldest first."""
    query = ConfigChange.select().order_by(ConfigChange.id)
    if kind:
        query = query.where(ConfigChange.kind == kind)
    return [(c.actor, c.kind, c.key, c.field, c.old, c.new) for c in query]


def test_library_changes_are_recorded_and_a_refused_one_is_not(dbc):
    sci = libraries.add_library("sci", "Science Library", actor=ADMIN)
    libraries.rename_library(sci.id, "Science Library", actor=ADMIN)  # no change: no row
    libraries.rename_library(sci.id, "Science and Engineering", actor=ADMIN)
    libraries.set_main_library(sci.id, actor=ADMIN)
    with pytest.raises(ValidationError):
        libraries.add_library("SCI", "Another", actor=ADMIN)
    with pytest.raises(ValidationError):
        libraries.delete_library(sci.id, actor=ADMIN)  # the main library, others exist
    main = Library.get(Library.code == "MAIN")
    libraries.set_main_library(main.id, actor=ADMIN)
    libraries.delete_library(sci.id, actor=ADMIN)
    assert rows() == [
        ("admin1", "library", "SCI", "Code", None, "SCI"),
        ("admin1", "library", "SCI", "Name", None, "Science Library"),
        ("admin1", "library", "SCI", "Name", "Science Library", "Science and Engineering"),
        ("admin1", "library", "SCI", "Main library", "no", "yes"),  # MAIN was not the main one
        ("admin1", "library", "SCI", "Main library", "yes", "no"),
        ("admin1", "library", "MAIN", "Main library", "no", "yes"),
        ("admin1", "library", "SCI", "Code", "SCI", None),
        ("admin1", "library", "SCI", "Name", "Science and Engineering", None),
    ]


def test_semester_ends_record_old_and_new_and_a_bad_date_nothing(dbc):
    settings.set_semester_ends(["07-31", "12-31", ""], actor=ADMIN)  # the defaults: no change
    settings.set_semester_ends(["06-30", "12-31", ""], actor=ADMIN)
    with pytest.raises(ValidationError):
        settings.set_semester_ends(["02-29", "", ""], actor=ADMIN)
    assert rows() == [("admin1", "setting", "semester_ends", "Semester end dates",
                       "07-31 12-31", "06-30 12-31")]


def test_item_add_and_edit_are_recorded_and_a_duplicate_barcode_is_not(dbc):
    main = Library.get(Library.code == "MAIN")
    sci = libraries.add_library("SCI", "Science Library", actor=ADMIN)
    item = circulation.add_item(ADMIN, {"barcode": "B-1", "title": "Maps", "library": main.id})
    with pytest.raises(ValidationError):
        circulation.add_item(ADMIN, {"barcode": "b-1", "title": "Copy", "library": main.id})
    circulation.edit_item(ADMIN, item.id, {"barcode": "B-1", "title": "Old Maps", "library": sci.id,
                                           "status": "lost"})
    assert rows("item") == [
        ("admin1", "item", "B-1", "Barcode", None, "B-1"),
        ("admin1", "item", "B-1", "Title", None, "Maps"),
        ("admin1", "item", "B-1", "Status", None, "available"),
        ("admin1", "item", "B-1", "Library", None, "MAIN"),
        ("admin1", "item", "B-1", "Title", "Maps", "Old Maps"),
        ("admin1", "item", "B-1", "Status", "available", "lost"),
        ("admin1", "item", "B-1", "Library", "MAIN", "SCI"),
    ]


def test_loan_policy_changes_are_recorded_and_a_clash_is_not(dbc):
    terms = {"user_group": "Faculty", "loan_days": "60", "max_renewals": "2", "max_loans": "20"}
    policy = circulation.save_policy(ADMIN, terms)
    with pytest.raises(ValidationError):
        circulation.save_policy(ADMIN, terms)  # a second policy for Faculty at any library
    circulation.save_policy(ADMIN, dict(terms, loan_days="90"), policy.id)
    default = LoanPolicy.get((LoanPolicy.user_group == "") & LoanPolicy.library.is_null())
    with pytest.raises(ValidationError):
        circulation.delete_policy(ADMIN, default.id)
    circulation.delete_policy(ADMIN, policy.id)
    key = "Faculty at any library"
    assert rows("loan policy") == [
        ("admin1", "loan policy", key, "User group", None, "Faculty"),
        ("admin1", "loan policy", key, "Library", None, "any library"),
        ("admin1", "loan policy", key, "Loan period (days)", None, "60"),
        ("admin1", "loan policy", key, "Maximum renewals", None, "2"),
        ("admin1", "loan policy", key, "Maximum open loans", None, "20"),
        ("admin1", "loan policy", key, "Loan period (days)", "60", "90"),
        ("admin1", "loan policy", key, "User group", "Faculty", None),
        ("admin1", "loan policy", key, "Library", "any library", None),
        ("admin1", "loan policy", key, "Loan period (days)", "90", None),
        ("admin1", "loan policy", key, "Maximum renewals", "2", None),
        ("admin1", "loan policy", key, "Maximum open loans", "20", None),
    ]


def test_recent_is_newest_first_by_kind_and_paged(dbc):
    for n in range(5):
        config_changes.record(ADMIN, "setting", "s", [("Value", str(n), str(n + 1))])
    config_changes.record(ADMIN, "item", "B-9", [("Title", "A", "A"), ("Author", None, "Lund")])
    every, more = config_changes.recent(limit=4)
    assert [c.field for c in every] == ["Author", "Value", "Value", "Value"] and more
    older, more = config_changes.recent("setting", limit=4, page=2)
    assert [(c.old, c.new) for c in older] == [("0", "1")] and not more
    assert [c.key for c in config_changes.recent("item")[0]] == ["B-9"]
    with pytest.raises(ValueError):
        config_changes.record(ADMIN, "weather", "x", [("Sky", "grey", "blue")])


def test_an_items_import_records_each_new_and_changed_item_and_a_refused_one_nothing(dbc):
    circulation.import_items(ADMIN, b"barcode,title,author,call_number,library\n"
                                    b"3901,Fine Book,Lund,,MAIN\n3902,Other,,,MAIN\n")
    circulation.import_items(ADMIN, b"barcode,title,author,call_number,library\n"
                                    b"3901,Fine Book,,QA 1,MAIN\n3902,Other,,,MAIN\n")
    with pytest.raises(circulation.ItemImportRejected):
        circulation.import_items(ADMIN, b"barcode,title,author,call_number,library\n"
                                        b"3902,Renamed,,,MAIN\n3903,Elsewhere,,,NOWHERE\n")
    assert rows("item") == [
        ("admin1", "item", "3901", "Barcode", None, "3901"),
        ("admin1", "item", "3901", "Title", None, "Fine Book"),
        ("admin1", "item", "3901", "Author", None, "Lund"),
        ("admin1", "item", "3901", "Status", None, "available"),
        ("admin1", "item", "3901", "Library", None, "MAIN"),
        ("admin1", "item", "3902", "Barcode", None, "3902"),
        ("admin1", "item", "3902", "Title", None, "Other"),
        ("admin1", "item", "3902", "Status", None, "available"),
        ("admin1", "item", "3902", "Library", None, "MAIN"),
        ("admin1", "item", "3901", "Author", "Lund", None),
        ("admin1", "item", "3901", "Call number", None, "QA 1"),
    ]
