"""Untrusted text in synchronization files: rejected rows, refused names, wide headers, failed runs."""

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services.test_sync import csv_file, row
from webapp.models import SEGMENT_MODELS, History, SyncRun, User
from webapp.services import ValidationError, sync
from webapp.services.permissions import SYSTEM
from webapp.services.sync import writer

# What must never be stored: NUL, C0/C1 controls, lone surrogates; and outside the
# multi-line fields (and the history that quotes them) no tab or line break either.
STORED_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
LINE_BREAK = re.compile("[\t\n\r]")
MULTILINE = {("Note", "text"), ("Address", "line1"), ("Address", "line2"), ("History", "old"),
             ("History", "new")}


def run_sync(data, filename="users.csv", **options):
    return sync.synchronize(data, filename=filename, source="SIS", actor=SYSTEM, **options)


def json_file(*entries):
    """Return a JSON file of ENTRIES, one per line, with non-ASCII characters as \\u escapes."""
    return ("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n").encode()


def entry(n, **changes):
    """Return a valid JSON entry for user N."""
    return {"external_id": f"S{n}", "primary_id": f"P{n}", "first_name": "Ann", "last_name": f"Ray{n}",
            "user_group": "Graduate", **changes}


def errors_of(run):
    return [(e["line"], e["external_id"], e["message"]) for e in sync.report(run)["errors"]]


def stored_texts():
    """Yield (model, field, text) of every text stored: users, their segments, the history."""
    for model in (User, History, *SEGMENT_MODELS.values()):
        for record in model.select():
            for field, value in record.__data__.items():
                if isinstance(value, str):
                    yield model.__name__, field, value


def assert_no_stored_control():
    bad = [(model, field, value) for model, field, value in stored_texts()
           if STORED_CONTROL.search(value)
           or ((model, field) not in MULTILINE and LINE_BREAK.search(value))]
    assert bad == []


def test_csv_values_with_nul_esc_or_a_bidi_override_reject_their_rows_and_the_rest_applies(dbc):
    data = csv_file(row(external_id="S1", primary_id="P1", barcode="B1", email=""),
                    row(external_id="S2", primary_id="P2", barcode="B2", email="", last_name="Ra\x00y"),
                    row(external_id="S3", primary_id="P3", barcode="B3", email="", first_name="\x1b[2JAnn"),
                    row(external_id="S4", primary_id="P4", barcode="B\u202e4", email=""),
                    row(external_id="S5", primary_id="P5", barcode="B5", email="", campus="Ma\x85in"),
                    row(external_id="S6", primary_id="P6", barcode="B6", email=""))
    run = run_sync(data, skip_invalid=True)
    assert (run.status, run.created, run.rejected) == ("applied", 2, 4)
    assert errors_of(run) == [
        (3, "S2", "last_name: Contains a NUL character (U+0000)."),
        (4, "S3", "first_name: Contains a control character (U+001B)."),
        (5, "S4", "barcode: Contains a character that changes the direction text is shown in (U+202E)."),
        (6, "S5", "campus: Contains a control character (U+0085)."),
    ]
    assert sorted(u.external_id for u in User.select().where(User.source == "SIS")) == ["S1", "S6"]
    assert_no_stored_control()
    refused = run_sync(data)
    assert (refused.status, refused.rejected) == ("rejected", 4)


def test_json_values_with_nul_esc_a_lone_surrogate_or_a_bidi_override_are_rejected_by_line(dbc):
    data = json_file(entry(1),
                     entry(2, last_name="Ra\x00y"),
                     entry(3, first_name="\x1b]0;owned\x07"),
                     entry(4, first_name="a\ud800"),
                     entry(5, identifiers=[{"id_type": "barcode", "value": "B\u202e5"}]),
                     entry(6, external_id="S\ud8006"),
                     entry(7, notes=[{"text": "line one\n\tline two"}]))
    assert b"\\u0000" in data and b"\\ud800" in data
    run = run_sync(data, filename="users.json", skip_invalid=True)
    assert run.status == "applied"
    assert (run.created, run.rejected) == (2, 5)
    assert errors_of(run) == [
        (3, "S2", "last_name: Contains a NUL character (U+0000)."),
        (4, "S3", "first_name: Contains a control character (U+001B)."),
        (5, "S4", "first_name: Contains half of a character (U+D800, a lone surrogate), which is not "
                  "valid text."),
        (6, "S5", "identifiers[1].value: Contains a character that changes the direction text is shown "
                  "in (U+202E)."),
        (7, "S\\ud8006", "external_id: Contains half of a character (U+D800, a lone surrogate), which is "
                         "not valid text."),
    ]
    assert sorted(u.external_id for u in User.select().where(User.source == "SIS")) == ["S1", "S7"]
    # A note holds several lines: its tab and line break are kept.
    assert [n.text for n in User.get(User.external_id == "S7").notes] == ["line one\n\tline two"]
    assert_no_stored_control()
    assert SyncRun.get_by_id(run.id).status == "applied"


def test_an_unknown_json_field_with_a_lone_surrogate_is_reported_escaped(dbc):
    run = run_sync(json_file(entry(1), entry(2, **{"sh\ud800oe": "9"})), filename="users.json",
                   skip_invalid=True)
    assert (run.status, run.created, run.rejected) == ("applied", 1, 1)
    assert "unknown fields: sh\\ud800oe" in errors_of(run)[0][2]


def test_a_bidi_override_in_an_external_id_or_a_name_is_refused_but_allowed_in_a_note(dbc):
    data = json_file(entry(1, external_id="S\u202e1"), entry(2, last_name="Ray\u2066"),
                     entry(3, notes=[{"text": "\u202bשלום\u202c"}]))
    run = run_sync(data, filename="users.json", skip_invalid=True)
    assert (run.created, run.rejected) == (1, 2)
    assert [m.split(":")[0] for _, _, m in errors_of(run)] == ["external_id", "last_name"]


def test_a_tab_or_line_break_is_refused_in_one_line_fields_and_kept_in_address_lines(dbc):
    data = csv_file(row(external_id="S1", primary_id="P1", barcode="B1", email="", last_name="Ray\tX"),
                    {**row(external_id="S2", primary_id="P2", barcode="B2", email=""),
                     "address_line1": "Flat 2\nBig House", "address_city": "Oxford"},
                    columns=[*row(), "address_line1", "address_city"])
    run = run_sync(data, skip_invalid=True)
    assert errors_of(run) == [(2, "S1", "last_name: Contains a tab or a line break (U+0009); it holds one "
                                        "line.")]
    assert [a.line1 for a in User.get(User.external_id == "S2").addresses] == ["Flat 2\nBig House"]


def test_decomposed_text_in_a_file_is_stored_composed(dbc):
    run_sync(json_file(entry(1, last_name="Re\u0301my")), filename="users.json")
    assert User.get(User.external_id == "S1").last_name == "R\u00e9my"


def test_a_nul_on_the_first_line_still_rejects_the_file_as_not_text(dbc):
    run = run_sync("external_id\x00,primary_id\n".encode("utf-16-le"))
    assert run.status == "rejected"
    assert "NUL character" in sync.report(run)["file_errors"][0]


@pytest.mark.parametrize("source, filename, field", [
    ("SI\x1bS", "users.csv", "source"),
    ("SIS\x00", "users.csv", "source"),
    ("SIS", "users\x07.csv", "file"),
    ("SIS", "users\u202evsc.exe", "file"),
])
def test_a_source_or_file_name_with_a_control_character_is_refused(dbc, source, filename, field):
    with pytest.raises(ValidationError) as refused:
        sync.synchronize(csv_file(row()), filename=filename, source=source, actor=SYSTEM)
    assert list(refused.value.errors) == [field]
    assert "U+" in refused.value.errors[field]
    assert SyncRun.select().count() == 0


@pytest.mark.parametrize("width", [501, 30000])
def test_a_header_of_more_than_500_columns_is_refused_with_the_reason(dbc, width):
    header = ",".join(["external_id", "primary_id", "last_name", "user_group"]
                      + [f"extra{n}" for n in range(width - 4)])
    run = run_sync(f"{header}\nS1,P1,Ray,Graduate\n".encode())
    assert run.status == "rejected"
    assert sync.report(run)["file_errors"] == [
        f"Line 1: the header has {width:,} columns; a file may have at most 500."]


def test_a_header_of_500_columns_is_read(dbc):
    header = ["external_id", "primary_id", "last_name", "user_group"] + ["extra"] * 496
    run = run_sync((",".join(header) + "\nS1,P1,Ray,Graduate" + "," * 496 + "\n").encode())
    errors = sync.report(run)["file_errors"]
    assert errors[0] == "Line 1: these columns appear more than once: extra."
    assert not any("at most 500" in e for e in errors)


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_run_whose_code_raises_midway_ends_failed_with_the_reason(dbc, monkeypatch, error):
    def failing(self, plans):
        raise error

    monkeypatch.setattr(writer.Writer, "write", failing)
    with pytest.raises(type(error)):
        run_sync(csv_file(row()))
    run = SyncRun.get()
    assert run.status == "failed"
    message = sync.report(run)["message"]
    assert message.startswith("Failed: the run stopped on an error")
    assert type(error).__name__ in message and "nothing was changed" in message
    assert User.select().where(User.source == "SIS").count() == 0
    assert sync.recent_runs()[0].status == "failed"


def test_a_preview_whose_code_raises_ends_failed_with_the_reason(dbc, monkeypatch):
    def failing(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "a\ud800", 1, 2, "surrogates not allowed")

    monkeypatch.setattr(sync.runs, "_finish", failing)
    with pytest.raises(UnicodeEncodeError):
        sync.preview(csv_file(row()), filename="users.csv", source="SIS", actor=SYSTEM)
    run = SyncRun.get()
    assert run.status == "failed"
    assert "UnicodeEncodeError" in sync.report(run)["message"]
    assert "\\ud800" in sync.report(run)["message"]


FILE_FIELDS = ["external_id", "primary_id", "first_name", "last_name", "campus"]
HOSTILE = "\x00\x07\x1b\x85\t\n\r\u202e\u2066\ufffdAé\u0301 "
# Arbitrary text, text made of what the boundary refuses, and long text.
HOSTILE_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.text(st.sampled_from(HOSTILE + "\ud800\udfff"), max_size=30),
    st.text(max_size=3000, min_size=1000),
)
# The same without lone surrogates, which a UTF-8 file cannot hold.
ENCODABLE_TEXT = st.one_of(st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
                           st.text(st.sampled_from(HOSTILE), min_size=1, max_size=30))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FILE_FIELDS + ["notes", "identifiers"]), value=HOSTILE_TEXT)
def test_arbitrary_text_in_a_json_file_never_fails_a_run_or_stores_a_control_character(dbc, field, value):
    if field == "notes":
        changes = {"notes": [{"text": value}]}
    elif field == "identifiers":
        changes = {"identifiers": [{"id_type": "barcode", "value": value}]}
    else:
        changes = {field: value}
    run = run_sync(json_file(entry(1), entry(2, **changes)), filename="users.json", skip_invalid=True)
    # Rejected as a whole when the value repeats the other entry's ID: never running or failed.
    assert run.status in ("applied", "rejected"), sync.report(run)
    assert_no_stored_control()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FILE_FIELDS + ["barcode"]),
       value=ENCODABLE_TEXT)
def test_arbitrary_text_in_a_csv_file_never_fails_a_run_or_stores_a_control_character(dbc, field, value):
    data = csv_file(row(external_id="S1", primary_id="P1", barcode="B1", email=""),
                    {**row(external_id="S2", primary_id="P2", barcode="B2", email=""), field: value})
    run = run_sync(data, skip_invalid=True)
    assert run.status in ("applied", "rejected"), sync.report(run)
    assert_no_stored_control()


def test_an_apply_that_raises_ends_failed_with_the_reason_and_keeps_the_preview(dbc, monkeypatch):
    data = csv_file(row())
    previewed = sync.preview(data, filename="users.csv", source="SIS", actor=SYSTEM)
    assert previewed.status == "previewed"

    def failing(self, plans):
        raise RuntimeError("boom")

    monkeypatch.setattr(writer.Writer, "write", failing)
    with pytest.raises(RuntimeError):
        sync.apply(previewed.id, data, actor=SYSTEM)
    run = sync.get_run(previewed.id)
    assert run.status == "failed"
    report = sync.report(run)
    assert "RuntimeError: boom" in report["message"]
    assert report["diffs_total"] == 1 and report["diffs"][0]["external_id"] == "S1"
    assert User.select().where(User.source == "SIS").count() == 0
