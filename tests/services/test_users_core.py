"""The user service core: provenance, locked fields, conflicts, validation, history."""

import pytest

from webapp.models import FieldState, History, User
from webapp.services import EditConflict, Forbidden, ValidationError
from webapp.services.fields import PROTECTED, TEMPORARY
from webapp.services.permissions import SYSTEM
from webapp.services.users import SegmentChange, changes, release_field, save_user


def make_external(**kw):
    values = dict(primary_id="E1", first_name="Ann", middle_name="Lee", last_name="Ray",
                  user_group="Graduate", account_type="external", source="SIS",
                  external_id="S1")
    values.update(kw)
    return User.create(**values)


def test_internal_save_changes_field_and_writes_history(dbc):
    user = User.create(primary_id="I1", last_name="Old", user_group="Community")
    saved = save_user(user.id, version=1, actor=SYSTEM, fields={"last_name": "New"})
    assert saved.version == 2
    assert User.get_by_id(user.id).last_name == "New"
    row = History.get(History.user == user)
    assert (row.field, row.old, row.new, row.via) == ("Last name", "Old", "New", "staff")
    assert FieldState.select().count() == 0


def test_external_locked_field_refused_without_open(dbc):
    user = make_external()
    with pytest.raises(Forbidden):
        save_user(user.id, version=1, actor=SYSTEM, fields={"middle_name": "Kay"})
    assert User.get_by_id(user.id).middle_name == "Lee"
    assert History.select().where(History.user == user).count() == 0


@pytest.mark.parametrize("answer", [TEMPORARY, PROTECTED])
def test_external_open_for_update_sets_provenance(dbc, answer):
    user = make_external()
    save_user(user.id, version=1, actor=SYSTEM, fields={"middle_name": "Kay"}, opened=answer)
    state = FieldState.get(FieldState.user == user)
    assert (state.field, state.state, state.source_value) == ("middle_name", answer, "Lee")


def test_library_managed_edit_is_protected_without_open(dbc):
    user = make_external()
    save_user(user.id, version=1, actor=SYSTEM, fields={"user_group": "Faculty"})
    state = FieldState.get(FieldState.user == user)
    assert (state.field, state.state) == ("user_group", PROTECTED)


def test_release_restores_source_value(dbc):
    user = make_external()
    save_user(user.id, version=1, actor=SYSTEM, fields={"middle_name": "Kay"}, opened=PROTECTED)
    release_field(user.id, "middle_name", version=2, actor=SYSTEM)
    assert User.get_by_id(user.id).middle_name == "Lee"
    assert FieldState.select().count() == 0


def test_stale_version_is_a_conflict_and_changes_nothing(dbc):
    user = User.create(primary_id="I1", last_name="Old", user_group="Community")
    save_user(user.id, version=1, actor=SYSTEM, fields={"last_name": "First"})
    with pytest.raises(EditConflict):
        save_user(user.id, version=1, actor=SYSTEM, fields={"last_name": "Second"})
    assert User.get_by_id(user.id).last_name == "First"


def test_validation_collects_every_error_and_stores_nothing(dbc):
    user = User.create(primary_id="I1", last_name="Old", user_group="Community")
    with pytest.raises(ValidationError) as err:
        save_user(user.id, version=1, actor=SYSTEM,
                  fields={"last_name": "", "expiry_date": "2030-02-30"},
                  changes=[SegmentChange("emails", "add", {"address": "not-an-email"}),
                           SegmentChange("blocks", "add", {"block_type": "general",
                                                           "expires_on": "2030-13-01"})])
    assert set(err.value.errors) == {"last_name", "expiry_date", "emails.new.address",
                                     "blocks.new.expires_on"}
    assert err.value.errors["blocks.new.expires_on"] == "Enter a date as YYYY-MM-DD."
    assert User.get_by_id(user.id).last_name == "Old"


def test_added_preferred_email_clears_other_preferred(dbc):
    from webapp.models import Email

    user = make_external()
    Email.create(user=user, address="a@src.edu", preferred=True, segment="external")
    save_user(user.id, version=1, actor=SYSTEM,
              changes=[SegmentChange("emails", "add", {"address": "b@home.org",
                                                       "preferred": "on"})])
    emails = {e.address: (e.preferred, e.segment) for e in Email.select()}
    assert emails == {"a@src.edu": (False, "external"), "b@home.org": (True, "internal")}


def test_failure_while_writing_history_leaves_neither_change_nor_history(dbc, monkeypatch):
    user = User.create(primary_id="I1", last_name="Old", user_group="Community")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(changes, "insert_rows", broken)
    with pytest.raises(RuntimeError):
        save_user(user.id, version=1, actor=SYSTEM, fields={"last_name": "New"})
    fresh = User.get_by_id(user.id)
    assert (fresh.last_name, fresh.version) == ("Old", 1)
    assert History.select().where(History.user == user).count() == 0


def test_unchanged_save_writes_nothing(dbc):
    user = User.create(primary_id="I1", last_name="Same", user_group="Community")
    saved = save_user(user.id, version=1, actor=SYSTEM, fields={"last_name": "Same"})
    assert saved.version == 1
    assert History.select().where(History.user == user).count() == 0


def test_staff_record_needs_users_admin(dbc):
    from webapp.services.permissions import Actor

    staff = User.create(primary_id="S1", last_name="Staff", user_group="Staff",
                        record_type="staff")
    manager = Actor("m", frozenset({"users.view", "users.edit"}))
    with pytest.raises(Forbidden):
        save_user(staff.id, version=1, actor=manager, fields={"last_name": "X"})
    admin = Actor("a", frozenset({"users.view", "users.edit", "users.admin"}))
    assert save_user(staff.id, version=1, actor=admin, fields={"last_name": "X"}).version == 2


def test_identifier_unique_across_primary_ids(dbc):
    User.create(primary_id="TAKEN", last_name="One", user_group="Community")
    other = User.create(primary_id="I2", last_name="Two", user_group="Community")
    with pytest.raises(ValidationError) as err:
        save_user(other.id, version=1, actor=SYSTEM,
                  changes=[SegmentChange("identifiers", "add", {"id_type": "barcode",
                                                                "value": "TAKEN"})])
    assert err.value.errors == {"identifiers.new.value": "Another user already has this identifier."}
    with pytest.raises(ValidationError):
        save_user(other.id, version=1, actor=SYSTEM, fields={"primary_id": "TAKEN"})
