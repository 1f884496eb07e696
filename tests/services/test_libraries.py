"""Libraries: add, rename, the main library, and no deletion of one still in use."""

import pytest

from tests.conftest import ROLE_LOGINS
from webapp.models import Library, User
from webapp.services import Forbidden, ValidationError, libraries, roles
from webapp.services.permissions import Actor, permissions_of


def actor_for(role):
    user = User.get(User.primary_id == ROLE_LOGINS[role])
    return Actor(user.primary_id, permissions_of(user), user.id)


@pytest.fixture
def admin(dbc):
    return actor_for("General System Administrator")


def test_add_rename_and_set_the_main_library(admin):
    main = Library.get(Library.code == "MAIN")
    sci = libraries.add_library(" sci ", "Science Library", actor=admin)
    assert (sci.code, sci.is_main) == ("SCI", False)
    libraries.rename_library(sci.id, "Science and Engineering Library", actor=admin)
    libraries.set_main_library(sci.id, actor=admin)
    assert [(lib.name, lib.is_main) for lib in libraries.list_libraries()] == [
        ("Science and Engineering Library", True), (main.name, False)]


def test_bad_library_input_is_refused_beside_its_field(admin):
    for code, name, field in (("MAIN", "Another", "code"), ("", "X", "code"),
                              ("NEW", "Main Library", "name"), ("NEW", " ", "name"),
                              ("A B", "Spaced", "code")):
        with pytest.raises(ValidationError) as refused:
            libraries.add_library(code, name, actor=admin)
        assert field in refused.value.errors
    assert Library.select().count() == 1


def test_only_a_system_administrator_changes_libraries(dbc):
    with pytest.raises(Forbidden):
        libraries.add_library("SCI", "Science Library", actor=actor_for("User Administrator"))


def test_a_library_in_use_cannot_be_deleted_and_the_message_says_where(admin):
    sci = libraries.add_library("SCI", "Science Library", actor=admin)
    sam = User.create(primary_id="SAM", last_name="Student", user_group="Staff",
                      record_type="staff")
    assignment = roles.make_student_worker(sam.id, sci.id, actor=admin)
    User.create(primary_id="PAT", last_name="Patron", user_group="Community", rs_library=sci)
    with pytest.raises(ValidationError) as refused:
        libraries.delete_library(sci.id, actor=admin)
    message = refused.value.errors["library"]
    assert "Science Library cannot be deleted" in message
    assert "the scope of 1 role assignment: SAM (Circulation Desk Operator – Limited)" in message
    assert "the resource sharing library of 1 user" in message
    assert Library.get_or_none(Library.id == sci.id) is not None

    roles.remove_role(assignment.id, actor=admin)
    User.update(rs_library=None).execute()
    libraries.delete_library(sci.id, actor=admin)
    assert Library.get_or_none(Library.id == sci.id) is None


def test_the_main_library_goes_last(admin):
    main = Library.get(Library.code == "MAIN")
    libraries.set_main_library(main.id, actor=admin)
    libraries.add_library("SCI", "Science Library", actor=admin)
    with pytest.raises(ValidationError, match="main library"):
        libraries.delete_library(main.id, actor=admin)
