"""The synchronization pages: upload, preview, confirm, the list of runs, menus and permissions."""

import io
import re
from pathlib import Path

import pytest

from tests.conftest import csrf_token_from, sign_in
from webapp.db import db
from webapp.models import FieldState, History, SyncRun, User
from webapp.services.fields import TEMPORARY
from webapp.services.permissions import SYSTEM
from webapp.services.users import save_user

FILE = (b"external_id,primary_id,first_name,middle_name,last_name,user_group,barcode,email\n"
        b"S1,P1,Ann,Lee,Ray,Graduate,B1,ann@example.edu\n"
        b"S2,P2,Bo,,Stone,Faculty,B2,bo@example.edu\n")
ADMIN = "User Administrator"


def upload(client, data=FILE, name="sis.csv", source="SIS", headers=None, **options):
    form = {"file": (io.BytesIO(data), name), "source": source}
    form.update({k: "on" for k, v in options.items() if v})
    return client.post("/admin/sync", data=form, content_type="multipart/form-data", headers=headers or {})


def run_id_of(response):
    target = response.headers.get("HX-Redirect") or response.headers["Location"]
    return int(re.search(r"/admin/sync/(\d+)$", target).group(1))


def text_of(response):
    return response.get_data(as_text=True)


def test_upload_preview_confirm(client, login_as, app):
    login_as(ADMIN)
    response = upload(client)
    assert response.status_code == 303
    run_id = run_id_of(response)
    page = client.get(f"/admin/sync/{run_id}")
    html = text_of(page)
    assert page.status_code == 200
    assert "Run 1: Preview: confirm to apply" in html
    assert "Preview: 2 created, 0 updated" in html
    assert "Ray, Ann" in html and "ann@example.edu" in html
    assert 'action="/admin/sync/1/apply"' in html
    with db.connection_context():
        assert User.select().where(User.source == "SIS").count() == 0
    applied = client.post(f"/admin/sync/{run_id}/apply")
    assert applied.status_code == 303
    html = text_of(client.get(applied.headers["Location"]))
    assert "Run 1: Applied" in html and "Confirm and apply" not in html
    with db.connection_context():
        run = SyncRun.get_by_id(run_id)
        assert (run.status, run.created, run.by) == ("applied", 2, "staff1")
        user = User.get(User.primary_id == "P1")
        assert [(h.field, h.new) for h in History.select().where(
            (History.user == user) & (History.via == f"sync {run_id}"))] == [("Record", "created")]
    assert list((Path(app.instance_path) / "sync").iterdir()) == []  # the upload is not kept


def apply_then_edit_locally(client):
    """Apply the file, then change P1's middle name here as a temporary edit."""
    client.post(f"/admin/sync/{run_id_of(upload(client))}/apply")
    with db.connection_context():
        user = User.get(User.primary_id == "P1")
        save_user(user.id, version=user.version, actor=SYSTEM, fields={"middle_name": "Kay"},
                  opened=TEMPORARY)


def test_preview_lists_the_local_edits_it_will_overwrite(client, login_as):
    login_as(ADMIN)
    apply_then_edit_locally(client)
    html = text_of(client.get(f"/admin/sync/{run_id_of(upload(client))}"))
    assert "Local edits this run will overwrite (1)" in html
    assert re.search(r"<td>Middle name</td><td>Kay</td><td>Lee</td>", html)


def test_the_page_lists_the_runs_and_offers_the_last_source(client, login_as):
    login_as(ADMIN)
    upload(client, source="HR")
    html = text_of(client.get("/admin/sync"))
    assert "Run 1</a>" in html and "sis.csv" in html and "previewed" in html
    assert 'name="source" type="text" value="HR"' in html


def test_htmx_upload_redirects_and_htmx_run_page_is_the_partial(client, login_as, htmx_client):
    login_as(ADMIN)
    response = upload(client, headers={"HX-Request": "true"})
    assert response.status_code == 204
    run_id = run_id_of(response)
    fragment = text_of(htmx_client.get(f"/admin/sync/{run_id}"))
    assert fragment.lstrip().startswith("<section id=\"sync-run\"")
    assert "<html" not in fragment


@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "fragment"])
def test_missing_file_or_source_is_422_with_values_kept(client, login_as, as_htmx):
    login_as(ADMIN)
    headers = {"HX-Request": "true"} if as_htmx else {}
    response = client.post("/admin/sync", data={"source": "", "skip_invalid": "on"},
                           content_type="multipart/form-data", headers=headers)
    html = text_of(response)
    assert response.status_code == 422
    assert "Choose the CSV or JSON file exported by the source system." in html
    assert "Source system is required." in html
    assert re.search(r'id="skip_invalid" name="skip_invalid" type="checkbox" value="on"\s*checked', html)
    assert ("<html" in html) is not as_htmx


def test_a_rejected_file_shows_its_errors_and_no_confirm_button(client, login_as):
    login_as(ADMIN)
    bad = FILE + b"S3,P3,Cy,,Lee,Graduate,B3,cy@\n"
    html = text_of(client.get(f"/admin/sync/{run_id_of(upload(client, bad))}"))
    assert "Run 1: Rejected" in html
    assert re.search(r"<td>4</td><td>S3</td><td>email: Enter an email address", html)
    assert "Confirm and apply" not in html
    assert client.post("/admin/sync/1/apply").status_code == 409
    junk = run_id_of(upload(client, b"\x00junk"))
    html = text_of(client.get(f"/admin/sync/{junk}"))
    assert "The file cannot be used" in html


def test_stale_preview_is_409_and_preview_again_makes_a_new_run(client, login_as):
    login_as(ADMIN)
    client.post(f"/admin/sync/{run_id_of(upload(client))}/apply")
    changed = FILE.replace(b"Ray,", b"Ray-Lee,")
    run_id = run_id_of(upload(client, changed))
    with db.connection_context():
        user = User.get(User.primary_id == "P1")
        save_user(user.id, version=user.version, actor=SYSTEM, fields={"middle_name": "Kay"},
                  opened=TEMPORARY)
    response = client.post(f"/admin/sync/{run_id}/apply")
    html = text_of(response)
    assert response.status_code == 409
    assert "the records changed since this preview" in html
    assert "Preview again" in html
    with db.connection_context():
        assert User.get(User.primary_id == "P1").last_name == "Ray"
    again = client.post(f"/admin/sync/{run_id}/again")
    fresh = run_id_of(again)
    assert fresh == run_id + 1
    html = text_of(client.get(f"/admin/sync/{fresh}"))
    assert "Local edits this run will overwrite (1)" in html
    assert client.post(f"/admin/sync/{fresh}/apply").status_code == 303
    with db.connection_context():
        assert User.get(User.primary_id == "P1").last_name == "Ray-Lee"
        assert FieldState.select().count() == 0


def test_unknown_run_is_404(client, login_as):
    login_as(ADMIN)
    assert client.get("/admin/sync/99").status_code == 404
    assert client.post("/admin/sync/99/apply").status_code == 404


@pytest.mark.parametrize("role", ["User Manager", "Circulation Desk Manager"])
def test_only_users_admin_may_synchronize(client, login_as, role):
    login_as(role)
    assert client.get("/admin/sync").status_code == 403
    assert upload(client).status_code == 403
    with db.connection_context():
        assert SyncRun.select().count() == 0


@pytest.mark.parametrize(("role", "synchronize", "administration"), [
    ("General System Administrator", True, True),
    ("User Administrator", True, False),
    ("User Manager", False, False),
])
def test_admin_menu(client, login_as, role, synchronize, administration):
    login_as(role)
    html = text_of(client.get("/users/"))
    assert ("Synchronize users</a>" in html) is synchronize
    assert ('href="/admin/">Administration</a>' in html) is administration
    assert ("<summary>Admin</summary>" in html) is (synchronize or administration)


def test_confirm_needs_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    sign_in_page = text_of(client.get("/sign-in"))
    client.post("/sign-in", data={"identifier": "staff1", "password": "correct horse battery",
                                  "csrf_token": csrf_token_from(sign_in_page)})
    page = text_of(client.get("/admin/sync"))
    token = csrf_token_from(page)
    response = client.post("/admin/sync", data={"file": (io.BytesIO(FILE), "sis.csv"), "source": "SIS",
                                                "csrf_token": token}, content_type="multipart/form-data")
    run_id = run_id_of(response)
    assert client.post(f"/admin/sync/{run_id}/apply").status_code == 400
    with db.connection_context():
        assert SyncRun.get_by_id(run_id).status == "previewed"
    assert client.post(f"/admin/sync/{run_id}/apply", data={"csrf_token": token}).status_code == 303


def test_signed_out_visitor_is_sent_to_sign_in(client):
    assert client.get("/admin/sync").status_code == 302
    assert sign_in(client, "staff1").status_code == 302


def test_pages_and_fragments_are_valid_html(client, login_as):
    import html5lib

    login_as(ADMIN)
    apply_then_edit_locally(client)
    run_id_of(upload(client, FILE + b"S3,P3,Cy,,Lee,Graduate,B3,cy@\n", skip_invalid=True))
    run_id_of(upload(client, b"external_id\n"))
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    for url in ["/admin/sync", "/admin/sync/1", "/admin/sync/2", "/admin/sync/3"]:
        for headers in ({}, {"HX-Request": "true"}):
            text = text_of(client.get(url, headers=headers))
            whole = text.startswith("<!doctype html>")
            parser.parse(text if whole else f"<!doctype html><title>t</title>{text}")
    text = text_of(client.post("/admin/sync", data={}, content_type="multipart/form-data"))
    parser.parse(text)


def test_a_json_file_with_a_lone_surrogate_previews_with_the_row_rejected_not_running(client, login_as):
    login_as(ADMIN)
    data = (b'[{"external_id": "S1", "primary_id": "P1", "last_name": "Ray", "user_group": "Graduate"},\n'
            b' {"external_id": "S2", "primary_id": "P2", "last_name": "a\\ud800", "user_group": "Graduate"}]')
    run_id = run_id_of(upload(client, data, name="sis.json", skip_invalid=True))
    html = text_of(client.get(f"/admin/sync/{run_id}"))
    assert "lone surrogate" in html and "1 rejected" in html
    with db.connection_context():
        assert SyncRun.get_by_id(run_id).status == "previewed"


def test_a_run_that_fails_shows_failed_with_the_reason(client, login_as, monkeypatch):
    from webapp.services.sync import writer

    def failing(self, plans):
        raise RuntimeError("boom")

    login_as(ADMIN)
    run_id = run_id_of(upload(client))
    monkeypatch.setattr(writer.Writer, "write", failing)
    with pytest.raises(RuntimeError):
        client.post(f"/admin/sync/{run_id}/apply")
    html = text_of(client.get(f"/admin/sync/{run_id}"))
    assert f"Run {run_id}: Failed" in html and "RuntimeError: boom" in html
    runs = text_of(client.get("/admin/sync"))
    assert "badge-run-failed" in runs and "badge-run-running" not in runs
