"""The synchronization service: formats, matching rules, preview and apply, bad input, concurrency."""

import csv
import io
import json
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.db import db
from webapp.models import (
    SEGMENT_MODELS,
    Email,
    FieldState,
    History,
    Identifier,
    RoleAssignment,
    SearchEntry,
    SyncRun,
    SyncState,
    User,
)
from webapp.services import EditConflict, search, sessions, sync
from webapp.services.fields import PROTECTED, TEMPORARY
from webapp.services.permissions import SYSTEM
from webapp.services.users import SegmentChange, release_field, save_user

BASE = {"external_id": "S1", "primary_id": "P1", "first_name": "Ann", "middle_name": "Lee",
        "last_name": "Ray", "user_group": "Graduate", "expiry_date": "2027-06-30",
        "campus": "Main", "barcode": "B1", "email": "ann@example.edu", "email_type": "school"}


def csv_file(*rows, columns=None):
    """Return CSV bytes of ROWS (dicts), with the columns of the first row unless given."""
    columns = columns or list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def row(**changes):
    return dict(BASE, **changes)


def run_sync(data, filename="users.csv", **options):
    return sync.synchronize(data, filename=filename, source="SIS", actor=SYSTEM, **options)


def the_user(external_id="S1"):
    return User.get((User.source == "SIS") & (User.external_id == external_id))


def history_of(user, via=None):
    query = History.select().where(History.user == user).order_by(History.id)
    if via:
        query = query.where(History.via == via)
    return [(h.field, h.old, h.new) for h in query]


def table_counts():
    """Return the number of rows of every table a synchronization writes to."""
    models = [User, FieldState, History, SyncState, *SEGMENT_MODELS.values()]
    return {m.__name__: m.select().count() for m in models}


# ---------------------------------------------------------------- creating and matching


def test_new_external_id_creates_an_external_account_with_external_segments(dbc):
    run = run_sync(csv_file(row(), row(external_id="S2", primary_id="P2", barcode="B2",
                                       email="bo@example.edu", first_name="Bo")))
    assert (run.status, run.created, run.updated, run.rejected) == ("applied", 2, 0, 0)
    user = the_user()
    assert (user.account_type, user.record_type, user.primary_id, user.middle_name) == (
        "external", "public", "P1", "Lee")
    assert user.last_synced_at is not None
    ident = Identifier.get(Identifier.user == user)
    assert (ident.id_type, ident.value, ident.segment) == ("barcode", "B1", "external")
    email = Email.get(Email.user == user)
    assert (email.address, email.email_type, email.preferred, email.segment) == (
        "ann@example.edu", "school", True, "external")
    assert ("Record", None, "created") in history_of(user, via=f"sync {run.id}")
    assert search.find_by_identifier("B1").id == user.id
    recorded = SyncRun.get_by_id(run.id)
    assert (recorded.by, recorded.source, recorded.filename) == ("system", "SIS", "users.csv")
    assert len(recorded.sha256) == 64


def test_a_created_user_has_one_history_entry_and_later_changes_keep_the_first_values(dbc):
    first = run_sync(csv_file(row()))
    user = the_user()
    assert history_of(user) == [("Record", None, "created")]
    # The preview lists the values the record is created with.
    shown = sync.report(first)["diffs"][0]["changes"]
    assert shown[0] == ["Record", None, "created"] and ["First name", None, "Ann"] in shown
    assert ["Email", None, "ann@example.edu, school, preferred, (external)"] in shown
    later = run_sync(csv_file(row(first_name="Anne", email="anne@example.edu")))
    changes = history_of(user, via=f"sync {later.id}")
    assert ("First name", "Ann", "Anne") in changes
    assert any(old and "ann@example.edu" in old and "anne@example.edu" in new
               for field, old, new in changes if field == "Email")


def index_of(user_ids):
    return sorted(SearchEntry.select().where(SearchEntry.user.in_(user_ids)).tuples())


def test_the_index_of_created_users_is_the_index_a_rebuild_gives(dbc):
    rows = [row(external_id=f"S{n}", primary_id=f"P{n}", barcode=f"B{n}", email=f"p{n}@x.edu",
                first_name=name, middle_name="", last_name="O'Neil-Ray", status=status,
                pref_first_name=pref)
            for n, (name, status, pref) in enumerate([("Ann", "active", ""), ("Zoë", "inactive", "Zo"),
                                                      ("Bo", "active", "")], start=1)]
    run = run_sync(csv_file(*rows))
    assert run.created == 3
    ids = [u.id for u in User.select().where(User.source == "SIS")]
    written = index_of(ids)
    assert written
    with db.atomic():
        SearchEntry.delete().where(SearchEntry.user.in_(ids)).execute()
        search.index_users(ids)
    assert index_of(ids) == written
    assert [u.primary_id for u, _ in search.search_users("zo o neil").users] == ["P2"]


def test_unchanged_file_changes_nothing_and_is_skipped_next_time(dbc):
    data = csv_file(row())
    run_sync(data)
    user = the_user()
    before = (user.version, len(history_of(user)))
    again = run_sync(data)
    assert (again.unchanged, again.updated) == (1, 0)
    user = the_user()
    assert (user.version, len(history_of(user))) == before
    # Fingerprints are kept per user; a third run reads them instead of the record.
    assert SyncState.get(SyncState.user == user).version == user.version
    assert run_sync(data).unchanged == 1


def test_a_change_bumps_the_version_so_an_open_form_gets_a_conflict(dbc):
    run_sync(csv_file(row()))
    opened_at, synced_at = the_user().version, the_user().last_synced_at
    run_sync(csv_file(row(last_name="Ray-Smith")))
    assert the_user().version == opened_at + 1
    assert the_user().last_synced_at > synced_at
    assert search.simple_search("ray-smith")[0].id == the_user().id
    with pytest.raises(EditConflict):
        save_user(the_user().id, version=opened_at, actor=SYSTEM, fields={"campus": "North"})
    assert the_user().campus == "Main"


def test_a_staff_edit_after_a_sync_is_compared_again_despite_the_same_file(dbc):
    data = csv_file(row())
    run_sync(data)
    user = the_user()
    save_user(user.id, version=user.version, actor=SYSTEM, fields={"middle_name": "Kay"},
              opened=TEMPORARY)
    again = run_sync(data)
    assert again.updated == 1
    assert the_user().middle_name == "Lee"


# ---------------------------------------------------------------- provenance rules


FIELD_CASES = [
    # (field, value edited here, answer at Open for Update, value the user keeps, source value kept)
    ("middle_name", None, None, "Mia", None),
    ("middle_name", "Kay", TEMPORARY, "Mia", None),
    ("middle_name", "Kay", PROTECTED, "Kay", "Mia"),
    ("expiry_date", None, None, "2028-01-31", None),
    ("expiry_date", "2030-12-31", TEMPORARY, "2028-01-31", None),
    ("expiry_date", "2030-12-31", PROTECTED, "2030-12-31", "2028-01-31"),
    ("campus", None, None, "North", None),
    ("campus", "Law", None, "Law", "North"),  # library-managed: a local edit is always kept
]


@pytest.mark.parametrize(("field", "local", "opened", "kept", "source_value"), FIELD_CASES)
def test_field_rule_per_provenance_state(dbc, field, local, opened, kept, source_value):
    run_sync(csv_file(row()))
    user = the_user()
    if local is not None:
        save_user(user.id, version=user.version, actor=SYSTEM, fields={field: local}, opened=opened)
    incoming = {"middle_name": "Mia", "expiry_date": "2028-01-31", "campus": "North"}[field]
    preview = sync.preview(csv_file(row(**{field: incoming})), filename="u.csv", source="SIS",
                           actor=SYSTEM)
    label = {"middle_name": "Middle name", "expiry_date": "Expiry date", "campus": "Campus"}[field]
    overwritten = [o["what"] for o in sync.report(preview)["overwritten"]]
    assert overwritten == ([label] if opened == TEMPORARY else [])
    sync.apply(preview.id, csv_file(row(**{field: incoming})), actor=SYSTEM)
    user = the_user()
    assert str(getattr(user, field)) == kept
    state = FieldState.get_or_none((FieldState.user == user) & (FieldState.field == field))
    if source_value is None:
        assert state is None  # the field holds the source's value
    else:
        assert (state.state, state.source_value) == (PROTECTED, source_value)


def test_protected_field_keeps_local_value_and_release_restores_the_file_value(dbc):
    run_sync(csv_file(row()))
    user = the_user()
    save_user(user.id, version=user.version, actor=SYSTEM, fields={"middle_name": "Kay"},
              opened=PROTECTED)
    run = run_sync(csv_file(row(middle_name="Mia")))
    assert ("Middle name (source value)", "Lee", "Mia") in history_of(the_user(), f"sync {run.id}")
    release_field(user.id, "middle_name", version=the_user().version, actor=SYSTEM)
    assert the_user().middle_name == "Mia"


SEGMENT_CASES = [
    # (kind, the file's first entry, its second entry, a field and value the second one shows,
    #  an entry staff add here)
    ("identifiers", {"id_type": "barcode", "value": "X1"}, {"id_type": "library_card", "value": "X2"},
     ("value", "X2"), {"id_type": "other", "value": "LOCAL-1"}),
    ("emails", {"address": "a@example.edu"}, {"address": "b@example.edu"}, ("address", "b@example.edu"),
     {"address": "local@example.org"}),
    ("phones", {"number": "+1 555 1"}, {"number": "+1 555 2"}, ("number", "+1 555 2"),
     {"number": "+1 555 9"}),
    ("addresses", {"line1": "1 Road", "city": "Town"}, {"line1": "2 Road", "city": "Town"},
     ("line1", "2 Road"), {"line1": "9 Lane", "city": "Town"}),
    ("notes", {"text": "From the registrar"}, {"text": "Changed by the registrar"},
     ("text", "Changed by the registrar"), {"text": "Staff note"}),
    ("blocks", {"block_type": "registrar", "expires_on": "2027-01-01"},
     {"block_type": "registrar", "expires_on": "2027-02-01"}, ("expires_on", "2027-02-01"),
     {"block_type": "general"}),
]
LABELS = {"identifiers": "Identifier", "emails": "Email", "phones": "Phone", "addresses": "Address",
          "notes": "Note", "blocks": "Block"}


def json_user(**extra):
    user = {"external_id": "S1", "primary_id": "P1", "first_name": "Ann", "last_name": "Ray",
            "user_group": "Graduate"}
    user.update(extra)
    return json.dumps([user]).encode()


@pytest.mark.parametrize(("kind", "first", "second", "shown", "local"), SEGMENT_CASES,
                         ids=[c[0] for c in SEGMENT_CASES])
def test_segment_rule_external_replaced_internal_kept_local_edit_listed(dbc, kind, first, second, shown,
                                                                         local):
    run_sync(json_user(**{kind: [first]}), filename="u.json")
    user = the_user()
    model = SEGMENT_MODELS[kind]
    external = model.get(model.user == user)
    assert external.segment == "external"
    save_user(user.id, version=user.version, actor=SYSTEM, changes=[SegmentChange(kind, "add", local)])
    internal = model.get((model.user == user) & (model.segment == "internal"))
    model.update(edited_locally=True).where(model.id == external.id).execute()

    data = json_user(**{kind: [second]})
    preview = sync.preview(data, filename="u.json", source="SIS", actor=SYSTEM)
    assert [o["what"] for o in sync.report(preview)["overwritten"]] == [LABELS[kind]]
    sync.apply(preview.id, data, actor=SYSTEM)
    remaining = list(model.select().where(model.user == user).order_by(model.id))
    assert internal.id in [s.id for s in remaining]
    externals = [s for s in remaining if s.segment == "external"]
    assert len(externals) == 1 and not externals[0].edited_locally
    field, value = shown
    assert str(getattr(externals[0], field)) == value


def test_an_empty_list_removes_external_segments_and_an_absent_key_keeps_them(dbc):
    run_sync(json_user(phones=[{"number": "+1 555 1"}]), filename="u.json")
    user = the_user()
    run_sync(json_user(), filename="u.json")
    assert [p.number for p in user.phones] == ["+1 555 1"]
    run_sync(json_user(phones=[]), filename="u.json")
    assert list(user.phones) == []


def test_library_preferred_internal_email_stays_preferred(dbc):
    run_sync(csv_file(row(email="")))
    user = the_user()
    save_user(user.id, version=user.version, actor=SYSTEM,
              changes=[SegmentChange("emails", "add", {"address": "mine@example.org", "preferred": "on"})])
    run_sync(csv_file(row(email="ann@example.edu")))
    preferred = {e.address: e.preferred for e in Email.select().where(Email.user == user)}
    assert preferred == {"mine@example.org": True, "ann@example.edu": False}


def test_identifier_held_as_internal_by_the_same_user_is_not_duplicated(dbc):
    run_sync(csv_file(row()))
    user = the_user()
    save_user(user.id, version=user.version, actor=SYSTEM,
              changes=[SegmentChange("identifiers", "add", {"id_type": "library_card", "value": "C7"})])
    run = run_sync(csv_file({**row(), "library_card": "C7"}))
    assert run.status == "applied"
    assert Identifier.select().where(Identifier.value == "C7").count() == 1


def test_internal_accounts_other_sources_and_roles_are_never_touched(dbc):
    internal = User.create(primary_id="I1", last_name="Inside", user_group="Staff", source="SIS",
                           external_id="S7", account_type="internal")
    other = User.create(primary_id="O1", last_name="Other", user_group="Staff", source="HR",
                        external_id="S1", account_type="external")
    staff = User.create(primary_id="T1", last_name="Staffer", user_group="Staff", source="SIS",
                        external_id="S8", account_type="external", record_type="staff")
    RoleAssignment.create(user=staff, role="User Manager")
    data = csv_file(row(), row(external_id="S7", primary_id="I1", barcode="B7", email=""),
                    row(external_id="S8", primary_id="T1", barcode="B8", email="", last_name="Renamed"))
    run = run_sync(data, skip_invalid=True)
    assert (run.created, run.updated, run.rejected) == (1, 1, 1)
    errors = sync.report(run)["errors"]
    assert errors[0]["line"] == 3 and "internal account" in errors[0]["message"]
    assert User.get_by_id(internal.id).last_name == "Inside"
    assert User.get_by_id(other.id).last_name == "Other"
    assert User.get_by_id(staff.id).last_name == "Renamed"
    assert [a.role for a in RoleAssignment.select().where(RoleAssignment.user == staff)] == ["User Manager"]
    assert User.get_by_id(staff.id).record_type == "staff"


def test_deactivate_missing_sets_inactive_never_deletes_and_respects_protection(dbc):
    run_sync(csv_file(row(), row(external_id="S2", primary_id="P2", barcode="B2", email=""),
                      row(external_id="S3", primary_id="P3", barcode="B3", email="")))
    kept = the_user("S3")
    # Staff protected the status (Yes at Open for Update): the source cannot deactivate it.
    save_user(kept.id, version=kept.version, actor=SYSTEM, fields={"status": "inactive"}, opened=PROTECTED)
    save_user(kept.id, version=kept.version + 1, actor=SYSTEM, fields={"status": "active"},
              opened=PROTECTED)
    run = run_sync(csv_file(row()), deactivate_missing=True)
    assert (run.deactivated, run.updated, run.unchanged) == (1, 1, 1)
    assert the_user("S2").status == "inactive"
    assert the_user("S3").status == "active"
    assert FieldState.get(FieldState.user == kept).source_value == "inactive"
    assert User.select().where(User.source == "SIS").count() == 3
    # Without the option nobody is deactivated.
    run_sync(csv_file(row(external_id="S9", primary_id="P9", barcode="B9", email="")))
    assert the_user().status == "active"


def test_an_account_the_file_deactivates_is_signed_out_at_once(dbc):
    run_sync(csv_file(row(), row(external_id="S2", primary_id="P2", barcode="B2", email=""),
                      row(external_id="S3", primary_id="P3", barcode="B3", email="")))
    tokens = {ext: sessions.start(the_user(ext), "10.0.0.1", "test", idle_minutes=60)
              for ext in ("S1", "S2", "S3")}
    # S2 is missing from the file, S3 comes with the status inactive, S1 stays active.
    leaving = row(external_id="S3", primary_id="P3", barcode="B3", email="", status="inactive")
    run = run_sync(csv_file(row(status="active"), leaving), deactivate_missing=True)
    assert (the_user("S2").status, the_user("S3").status) == ("inactive", "inactive")
    assert run.deactivated == 1
    opened = {ext: sessions.resume(token, idle_minutes=60, external_hours=12) is not None
              for ext, token in tokens.items()}
    assert opened == {"S1": True, "S2": False, "S3": False}


def test_a_rejected_row_still_counts_as_present_for_deactivation(dbc):
    run_sync(csv_file(row(), row(external_id="S2", primary_id="P2", barcode="B2", email="")))
    run = run_sync(csv_file(row(), row(external_id="S2", primary_id="P2", barcode="B2", email="bad")),
                   deactivate_missing=True, skip_invalid=True)
    assert (run.rejected, run.deactivated) == (1, 0)
    assert the_user("S2").status == "active"


# ---------------------------------------------------------------- preview and apply


def test_what_was_previewed_is_what_was_applied(dbc):
    run_sync(csv_file(row(), row(external_id="S2", primary_id="P2", barcode="B2", email="")))
    user = the_user()
    save_user(user.id, version=user.version, actor=SYSTEM, fields={"first_name": "Annie"},
              opened=TEMPORARY)
    data = csv_file(row(last_name="Ray-Lee", email="ann.ray@example.edu"),
                    row(external_id="S3", primary_id="P3", barcode="B3", email=""))
    preview = sync.preview(data, filename="u.csv", source="SIS", actor=SYSTEM, deactivate_missing=True)
    assert the_user().last_name == "Ray"  # a preview changes nothing
    shown = {d["external_id"]: d["changes"] for d in sync.report(preview)["diffs"]}
    applied = sync.apply(preview.id, data, actor=SYSTEM)
    assert applied.status == "applied"
    for external_id, changes in shown.items():
        if external_id == "S3":
            # Created: the history says so, the record holds the values the preview listed.
            assert history_of(the_user(external_id), f"sync {preview.id}") == [
                ("Record", None, "created")]
            assert ["Primary identifier", None, "P3"] in changes
            continue
        assert history_of(the_user(external_id), f"sync {preview.id}") == [tuple(c) for c in changes]
    assert set(shown) == {"S1", "S2", "S3"}
    assert the_user("S2").status == "inactive"
    assert ("First name", "Annie", "Ann") in history_of(the_user(), f"sync {preview.id}")


def test_apply_refuses_when_the_records_changed_since_the_preview(dbc):
    run_sync(csv_file(row()))
    data = csv_file(row(last_name="Ray-Lee"))
    preview = sync.preview(data, filename="u.csv", source="SIS", actor=SYSTEM)
    user = the_user()
    save_user(user.id, version=user.version, actor=SYSTEM, fields={"middle_name": "Kay"},
              opened=TEMPORARY)
    before = table_counts()
    with pytest.raises(sync.StalePreview):
        sync.apply(preview.id, data, actor=SYSTEM)
    assert table_counts() == before
    assert the_user().last_name == "Ray"
    assert SyncRun.get_by_id(preview.id).status == "stale"
    again = sync.preview(data, filename="u.csv", source="SIS", actor=SYSTEM)
    assert [o["what"] for o in sync.report(again)["overwritten"]] == ["Middle name"]
    assert sync.apply(again.id, data, actor=SYSTEM).status == "applied"
    with pytest.raises(sync.SyncRefused):
        sync.apply(again.id, data, actor=SYSTEM)


def test_apply_refuses_another_file_and_a_rejected_preview(dbc):
    data = csv_file(row())
    preview = sync.preview(data, filename="u.csv", source="SIS", actor=SYSTEM)
    with pytest.raises(sync.SyncRefused):
        sync.apply(preview.id, csv_file(row(last_name="Other")), actor=SYSTEM)
    rejected = sync.preview(csv_file(row(email="bad")), filename="u.csv", source="SIS", actor=SYSTEM)
    assert rejected.status == "rejected"
    with pytest.raises(sync.SyncRefused):
        sync.apply(rejected.id, csv_file(row(email="bad")), actor=SYSTEM)
    assert User.select().where(User.source == "SIS").count() == 0


def test_one_rejected_row_rejects_the_run_and_skip_invalid_applies_the_rest(dbc):
    data = csv_file(row(), row(external_id="S2", primary_id="P2", barcode="B2", email="not-an-email"))
    before = table_counts()
    run = run_sync(data)
    assert (run.status, run.rejected) == ("rejected", 1)
    assert table_counts()["User"] == before["User"]
    assert table_counts()["History"] == before["History"]
    error = sync.report(run)["errors"][0]
    assert (error["line"], error["external_id"]) == (3, "S2")
    assert error["message"].startswith("email:")
    run = run_sync(data, skip_invalid=True)
    assert (run.status, run.created, run.rejected) == ("applied", 1, 1)
    assert User.get_or_none(User.primary_id == "P2") is None


def test_a_failure_while_writing_rolls_everything_back(dbc, monkeypatch):
    monkeypatch.setattr(sync.passes, "CHUNK", 2)
    calls = []

    def failing(*args):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(search, "index_new_users", failing)
    rows = [row(external_id=f"S{n}", primary_id=f"P{n}", barcode=f"B{n}", email="") for n in range(5)]
    before = table_counts()
    with pytest.raises(RuntimeError):
        run_sync(csv_file(*rows))
    assert table_counts() == before
    assert SyncRun.select().order_by(SyncRun.id.desc()).first().status == "failed"


def test_progress_is_reported_per_chunk(dbc, monkeypatch):
    monkeypatch.setattr(sync.passes, "CHUNK", 2)
    seen = []
    rows = [row(external_id=f"S{n}", primary_id=f"P{n}", barcode=f"B{n}", email="") for n in range(5)]
    run_sync(csv_file(*rows), progress=lambda done, total: seen.append((done, total)))
    assert [done for done, _ in seen] == [2, 4, 5]
    assert seen[-1][1] == 5


# ---------------------------------------------------------------- formats and bad input


def test_json_file_and_csv_with_bom_give_the_same_accounts(dbc):
    run_sync(b"\xef\xbb\xbf" + csv_file(row()))
    user = the_user()
    data = json.dumps([{"external_id": "S1", "primary_id": "P1", "first_name": "Ann", "middle_name": "Lee",
                        "last_name": "Ray", "user_group": "Graduate", "expiry_date": "2027-06-30",
                        "campus": "Main", "identifiers": [{"id_type": "barcode", "value": "B1"}],
                        "emails": [{"address": "ann@example.edu", "email_type": "school",
                                    "preferred": True}]}]).encode()
    run = run_sync(data, filename="users.json")
    assert (run.status, run.unchanged, run.updated) == ("applied", 1, 0)
    assert the_user().version == user.version


def test_example_files_load(dbc):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    csv_run = run_sync((examples / "sis-users.csv").read_bytes(), filename="sis-users.csv")
    assert (csv_run.status, csv_run.created) == ("applied", 3), sync.report(csv_run)
    json_run = run_sync((examples / "sis-users.json").read_bytes(), filename="sis-users.json")
    assert (json_run.status, json_run.updated) == ("applied", 2), sync.report(json_run)
    assert [n.text for n in the_user("S9000001").notes] == ["Exchange student until June."]


BAD_FILES = [
    ("not UTF-8", b"external_id,primary_id,last_name,user_group\nS1,P1,R\xe9y,Graduate\n", "users.csv",
     "Line 2: the file is not UTF-8"),
    ("binary", b"\x00\x01\x02", "users.csv", "NUL"),
    ("empty", b"", "users.csv", "The file is empty."),
    ("missing columns", b"external_id,first_name\nS1,Ann\n", "users.csv",
     "required columns are missing: primary_id, last_name, user_group"),
    ("unknown column", b"external_id,primary_id,last_name,user_group,shoe_size\nS1,P1,Ray,Graduate,9\n",
     "users.csv", "unknown columns: shoe_size"),
    ("doubled external ID", csv_file(row(), row(primary_id="P2", barcode="B2", email="")), "users.csv",
     "External ID S1 is on more than one line: 2, 3."),
    ("no users", b"external_id,primary_id,last_name,user_group\n", "users.csv", "no users"),
    ("unterminated quote", b'external_id,primary_id,last_name,user_group\nS1,"P1,Ray,Graduate\n',
     "users.csv", "cannot be read as CSV"),
    ("JSON not a list", b'{"external_id": "S1"}', "users.json", "holds a list of users"),
    ("broken JSON", b'[\n{"external_id": "S1",\n}]', "users.json", "Line 3, column 1: not valid JSON"),
]


@pytest.mark.parametrize(("data", "filename", "message"), [c[1:] for c in BAD_FILES],
                         ids=[c[0] for c in BAD_FILES])
def test_file_level_errors_reject_the_run(dbc, data, filename, message):
    before = table_counts()
    run = run_sync(data, filename=filename, skip_invalid=True)
    assert run.status == "rejected"
    assert any(message in e for e in sync.report(run)["file_errors"]), sync.report(run)["file_errors"]
    assert table_counts() == before


def test_file_over_the_size_limit_is_rejected(dbc):
    run = run_sync(csv_file(row()), max_bytes=50)
    assert run.status == "rejected"
    assert "the limit is 50 bytes" in sync.report(run)["file_errors"][0]


BAD_ROWS = [
    ("bad date", {"expiry_date": "2027-02-30"}, "expiry_date: Enter a date as YYYY-MM-DD."),
    ("bad email", {"email": "ann@"}, "email: Enter an email address such as name@example.org."),
    ("missing last name", {"last_name": ""}, "last_name: Last name is required."),
    ("unknown user group", {"user_group": "Wizards"}, "user_group: Choose a user group from the list."),
    ("identifier of another user", {"barcode": "TAKEN"}, "another user already has this identifier"),
    ("primary identifier of another user", {"primary_id": "TAKEN"}, "another user already has this"),
    ("purge before expiry", {"purge_date": "2020-01-01"}, "purge date cannot be before the expiry date"),
]


@pytest.mark.parametrize(("changes", "message"), [c[1:] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_row_level_errors_name_the_line_and_reason(dbc, changes, message):
    other = User.create(primary_id="TAKEN", last_name="Other", user_group="Staff")
    Identifier.create(user=other, id_type="barcode", value="OTHER")
    data = csv_file(row(external_id="S0", primary_id="P0", barcode="B0", email=""),
                    row(**changes), columns=list(BASE) + ["purge_date"])
    run = run_sync(data)
    assert run.status == "rejected"
    errors = sync.report(run)["errors"]
    assert [e["line"] for e in errors] == [3]
    assert message in errors[0]["message"]
    assert User.select().where(User.source == "SIS").count() == 0


def test_errors_across_rows_and_in_json_entries(dbc):
    data = csv_file(row(), row(external_id="S2", primary_id="P2", barcode="B1", email=""))
    errors = sync.report(run_sync(data))["errors"]
    assert errors == [{"line": 3, "external_id": "S2",
                       "message": "barcode: B1 is also an identifier on line 2."}]
    data = b'[{"external_id": "S1", "primary_id": "P1", "last_name": "Ray", "user_group": "Graduate",\n' \
           b'  "shoe": 9, "emails": [{"address": "a@example.edu", "preferred": "maybe"}]}]'
    errors = [e["message"] for e in sync.report(run_sync(data, filename="u.json"))["errors"]]
    assert any(m.startswith("unknown fields: shoe") for m in errors)
    assert "emails[1].preferred: Enter yes or no." in errors


csv_cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
json_users = st.lists(st.dictionaries(st.sampled_from(list(sync.JSON_KEYS) + ["shoe"]), json_values,
                                      max_size=8), max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=300),
    st.lists(st.lists(csv_cells, min_size=1, max_size=6), min_size=1, max_size=5).map(
        lambda rows: (("external_id,primary_id,last_name,user_group,barcode,email\n")
                      + "\n".join(",".join(cells) for cells in rows)).encode("utf-8", "surrogatepass")),
    json_users.map(lambda users: json.dumps(users).encode()),
))
def test_random_bytes_give_a_report_or_a_clean_apply(dbc, data):
    before = table_counts()
    filename = "users.json" if data[:1] == b"[" else "users.csv"
    run = run_sync(data, filename=filename, skip_invalid=bool(len(data) % 2))
    assert run.status in ("applied", "rejected")
    report = sync.report(run)
    if run.status == "rejected":
        assert table_counts() == before
        assert report["file_errors"] or report["errors"]
    else:
        assert table_counts()["User"] == before["User"] + run.created


# ---------------------------------------------------------------- the round trip of the issue


def test_round_trip_no_then_yes_then_release(dbc):
    original = csv_file(row())
    first = run_sync(original)
    user = the_user()
    # Open for Update, answer No: the change is temporary.
    save_user(user.id, version=user.version, actor=SYSTEM, fields={"middle_name": "Kay"}, opened=TEMPORARY)
    back = run_sync(original)
    assert the_user().middle_name == "Lee"
    assert ("Middle name", "Lee", "Kay") in history_of(user, "staff")
    assert ("Middle name", "Kay", "Lee") in history_of(user, f"sync {back.id}")
    assert FieldState.get_or_none(FieldState.user == user) is None
    # Answer Yes instead: the local value survives the sync.
    save_user(user.id, version=the_user().version, actor=SYSTEM, fields={"middle_name": "Kay"},
              opened=PROTECTED)
    kept = run_sync(original)
    assert kept.unchanged == 1 and the_user().middle_name == "Kay"
    assert FieldState.get(FieldState.user == user).source_value == "Lee"
    # Release to source restores the file's value.
    release_field(user.id, "middle_name", version=the_user().version, actor=SYSTEM)
    assert the_user().middle_name == "Lee"
    assert first.id < back.id < kept.id


# ---------------------------------------------------------------- concurrency


def test_sync_and_a_staff_save_on_the_same_user_at_once(app, monkeypatch):
    """The staff save waits for the sync's transaction, then meets the new version: no lost update."""
    with db.connection_context():
        run_sync(csv_file(row()))
        user = the_user()
        opened_version = user.version
    inside, outcome = threading.Event(), {}
    original = search.index_users

    def slow_index(user_ids):
        original(user_ids)
        inside.set()
        time.sleep(0.5)  # the sync holds its write transaction a moment longer

    monkeypatch.setattr(search, "index_users", slow_index)

    def synchronize():
        with db.connection_context():
            outcome["run"] = run_sync(csv_file(row(last_name="Ray-Lee")))

    def staff_save():
        inside.wait(5)
        with db.connection_context():
            try:
                save_user(user.id, version=opened_version, actor=SYSTEM, fields={"campus": "Law"})
                outcome["staff"] = "saved"
            except EditConflict:
                outcome["staff"] = "conflict"

    threads = [threading.Thread(target=synchronize), threading.Thread(target=staff_save)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert outcome["run"].status == "applied"
    assert outcome["staff"] == "conflict"
    with db.connection_context():
        assert (the_user().last_name, the_user().campus) == ("Ray-Lee", "Main")


def test_staff_saves_between_preview_and_apply_are_kept_or_refuse_the_apply(app):
    """A save the preview did not foresee makes the apply refuse; one it does not touch is kept."""
    with db.connection_context():
        run_sync(csv_file(row()))
        data = csv_file(row(last_name="Ray-Lee"))
        preview = sync.preview(data, filename="u.csv", source="SIS", actor=SYSTEM)
        user = the_user()

    def staff_save(**kwargs):
        with db.connection_context():
            save_user(user.id, version=the_user().version, actor=SYSTEM, **kwargs)

    # Another thread (another staff member) edits a library field: the previewed changes still hold.
    thread = threading.Thread(target=staff_save, kwargs={"fields": {"title": "Dr"}})
    thread.start()
    thread.join(20)
    with db.connection_context():
        sync.apply(preview.id, data, actor=SYSTEM)
        assert (the_user().title, the_user().last_name) == ("Dr", "Ray-Lee")
        preview = sync.preview(csv_file(row(last_name="Ray")), filename="u.csv", source="SIS", actor=SYSTEM)
    # Now a temporary edit the preview did not list as overwritten: applying would hide it.
    thread = threading.Thread(target=staff_save, kwargs={"fields": {"middle_name": "Kay"},
                                                         "opened": TEMPORARY})
    thread.start()
    thread.join(20)
    with db.connection_context():
        with pytest.raises(sync.StalePreview):
            sync.apply(preview.id, csv_file(row(last_name="Ray")), actor=SYSTEM)
        assert (the_user().middle_name, the_user().last_name) == ("Kay", "Ray-Lee")


def test_a_first_load_of_many_users_writes_each_ones_history_and_search_entries(dbc):
    # More rows than a chunk holds: every new user is recorded and found, in each chunk.
    count = 1500
    rows = [row(external_id=f"S{n}", primary_id=f"P{n}", barcode=f"B{n}", first_name=f"Ann{n}",
                email=f"ann.{n}@example.edu") for n in range(count)]
    run = run_sync(csv_file(*rows))
    assert (run.status, run.created) == ("applied", count)
    created = History.select(History.user).where(
        (History.field == "Record") & (History.new == "created") & (History.via == f"sync {run.id}"))
    assert created.count() == count
    assert User.select().where((User.source == "SIS") & (User.version == 1)).count() == count
    for n in (0, 999, 1000, count - 1):
        user = the_user(f"S{n}")
        assert history_of(user) == [("Record", None, "created")]
        assert search.find_by_identifier(f"B{n}").id == user.id
        assert search.find_by_email(f"ANN.{n}@example.edu").id == user.id
        assert [listed.id for listed, _tier in search.search_users(f"ann{n} ray").users] == [user.id]
    # The entries written in bulk are those a rebuild of each user gives.
    written = sorted(SearchEntry.select().tuples())
    SearchEntry.delete().execute()
    search.index_users([u.id for u in User.select(User.id)])
    assert sorted(SearchEntry.select().tuples()) == written
