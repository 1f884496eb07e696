"""User Details routes: tabs, Edit/Save, Open for Update, segments, password, account type, Add user."""

import html
import re

import pytest

from tests.conftest import PASSWORD, ROLE_LOGINS, csrf_token_from
from webapp.db import db
from webapp.models import Email, FieldState, History, Identifier, User
from webapp.services.passwords import check_secret

MANAGER = ROLE_LOGINS["User Manager"]


def user(user_id):
    with db.connection_context():
        return User.get_by_id(user_id)


def history_of(user_id):
    with db.connection_context():
        return [(h.field, h.old, h.new, h.actor)
                for h in History.select().where(History.user == user_id).order_by(History.id)]


@pytest.mark.parametrize("tab", ["general", "contact", "identifiers", "notes", "blocks", "history"])
def test_every_tab_is_a_page_and_a_fragment(login_as, patrons, tab, htmx_client):
    client = login_as("User Manager")
    page = client.get(f"/users/{patrons['external']}/{tab}")
    assert page.status_code == 200
    assert b"<html" in page.data and b'aria-current="page"' in page.data
    fragment = htmx_client.get(f"/users/{patrons['external']}/{tab}")
    assert fragment.status_code == 200
    assert b"<html" not in fragment.data and b'id="user-tabs"' in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]


def test_roles_tab_only_for_staff_records(login_as, patrons):
    client = login_as("User Manager")
    assert client.get(f"/users/{patrons['internal']}/roles").status_code == 404
    staff = client.get("/users/1/roles")
    assert staff.status_code == 200
    assert b"General System Administrator" in staff.data


def test_reader_sees_no_edit_button_and_a_reason(login_as, patrons):
    client = login_as("Circulation Desk Operator")
    page = client.get(f"/users/{patrons['internal']}").get_data(as_text=True)
    assert ">Edit<" not in page
    assert "missing a user management role" in page
    assert client.get(f"/users/{patrons['internal']}/general/edit").status_code == 403
    crafted = client.post(f"/users/{patrons['internal']}/general",
                          data={"version": "1", "last_name": "Hacked"})
    assert crafted.status_code == 403
    assert user(patrons["internal"]).last_name == "Inman"


def test_student_worker_cannot_see_user_details(login_as, patrons):
    client = login_as("Circulation Desk Operator – Limited")
    assert client.get(f"/users/{patrons['internal']}").status_code == 403


def test_internal_edit_then_save_with_htmx(login_as, patrons, htmx_client):
    login_as("User Manager")
    uid = patrons["internal"]
    form = htmx_client.get(f"/users/{uid}/general/edit")
    assert b'name="last_name"' in form.data and b"disabled" not in form.data
    response = htmx_client.post(f"/users/{uid}/general",
                           data={"version": "1", "last_name": "Inman-Smith", "first_name": "Ida",
                                 "user_group": "Faculty", "primary_id": "INT1",
                                 "status": "active", "notices_opt_in": "on"})
    assert response.status_code == 200
    assert b"Inman-Smith" in response.data and b'name="last_name"' not in response.data
    assert b"Saved." in response.data  # the message swapped out of band
    # The record's heading follows the saved name at once, swapped out of band too.
    header = response.get_data(as_text=True).split('id="record-header"')[1].split("</h1>")[0]
    assert 'hx-swap-oob="true"' in header and "Inman-Smith" in header
    saved = user(uid)
    assert (saved.last_name, saved.user_group, saved.version) == ("Inman-Smith", "Faculty", 2)
    assert ("Last name", "Inman", "Inman-Smith", MANAGER) in history_of(uid)


def test_save_without_javascript_redirects_to_the_record(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    response = client.post(f"/users/{uid}/general",
                           data={"version": "1", "last_name": "Plain", "user_group": "Community",
                                 "primary_id": "INT1"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Plain" in page and "Saved." in page


def test_invalid_save_is_422_with_values_kept_and_nothing_stored(login_as, patrons, htmx_client):
    login_as("User Manager")
    uid = patrons["internal"]
    response = htmx_client.post(f"/users/{uid}/general",
                           data={"version": "1", "last_name": "", "first_name": "Typed Name",
                                 "expiry_date": "2031-01-01", "purge_date": "2030-01-01",
                                 "user_group": "Community", "primary_id": "INT1"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Last name is required." in text
    assert "The purge date cannot be before the expiry date." in text
    assert 'value="Typed Name"' in text
    assert 'aria-invalid="true"' in text
    assert user(uid).first_name == "Ida"
    assert history_of(uid) == []


def test_stale_version_is_409_with_both_values(login_as, patrons, htmx_client):
    client = login_as("User Manager")
    uid = patrons["internal"]
    base = {"user_group": "Community", "primary_id": "INT1"}
    client.post(f"/users/{uid}/general", data={"version": "1", "last_name": "Theirs", **base})
    response = htmx_client.post(f"/users/{uid}/general",
                           data={"version": "1", "last_name": "Mine", **base})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "while you were editing" in text
    assert "<td>Theirs</td><td>Mine</td>" in text
    assert 'value="Mine"' in text and 'name="version" value="2"' in text
    assert user(uid).last_name == "Theirs"
    # Re-applying with the new version stores the staff member's value.
    again = client.post(f"/users/{uid}/general", data={"version": "2", "last_name": "Mine", **base})
    assert again.status_code == 302
    assert user(uid).last_name == "Mine"


def test_reapplying_after_a_conflict_keeps_their_other_changes(login_as, patrons, htmx_client):
    client = login_as("User Manager")
    uid = patrons["internal"]
    page = client.get(f"/users/{uid}/general/edit").get_data(as_text=True)
    loaded = re.search(r"name=\"loaded\" value='([^']*)'", page).group(1)
    base = {"version": "1", "loaded": html.unescape(loaded), "primary_id": "INT1",
            "user_group": "Community", "first_name": "Ida", "last_name": "Inman",
            "status": "active", "notices_opt_in": "on"}
    # Someone else changes the last name; this staff member changed the first name only.
    client.post(f"/users/{uid}/general", data=dict(base, last_name="Theirs"))
    response = htmx_client.post(f"/users/{uid}/general",
                           data=dict(base, first_name="Idabel"))
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    conflict = text.split('id="conflict"')[1].split("</table>")[0]
    assert "Idabel" in conflict and "Last name" not in conflict
    assert 'value="Theirs"' in text and 'value="Idabel"' in text
    again = client.post(f"/users/{uid}/general",
                        data=dict(base, version="2", first_name="Idabel", last_name="Theirs"))
    assert again.status_code == 302
    assert (user(uid).first_name, user(uid).last_name) == ("Idabel", "Theirs")


def test_external_form_grays_source_fields_with_hint(login_as, patrons):
    client = login_as("User Manager")
    text = client.get(f"/users/{patrons['external']}?edit=1").get_data(as_text=True)
    assert 'id="middle_name" name="middle_name" type="text" value="Lee" disabled' in text
    assert "Managed by SIS" in text
    assert 'id="user_group" name="user_group" required' in text  # library-managed: editable
    assert "Open for Update" in text
    assert "Protect your changes from the next synchronization?" in text


def test_crafted_post_of_locked_field_is_refused(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["external"]
    response = client.post(f"/users/{uid}/general",
                           data={"version": "1", "middle_name": "Crafted", "user_group": "Graduate"})
    assert response.status_code == 403
    assert b"open the record for update first" in response.data
    assert user(uid).middle_name == "Lee"


def test_library_managed_field_saves_without_opening(login_as, patrons, htmx_client):
    login_as("User Manager")
    uid = patrons["external"]
    response = htmx_client.post(f"/users/{uid}/general",
                           data={"version": "1", "user_group": "Faculty", "campus": "North",
                                 "notices_opt_in": "on"})
    assert response.status_code == 200
    assert "Protected" in response.get_data(as_text=True)
    assert user(uid).user_group == "Faculty"
    assert user(uid).middle_name == "Lee"


@pytest.mark.parametrize("answer,badge", [("no", "Temporary"), ("yes", "Protected")])
def test_open_for_update_then_save_shows_provenance(login_as, patrons, answer, badge, htmx_client):
    client = login_as("User Manager")
    uid = patrons["external"]
    opened = htmx_client.post(f"/users/{uid}/open", data={"protect": answer})
    assert opened.status_code == 200
    assert b'id="middle_name" name="middle_name" type="text" value="Lee" maxlength' in opened.data
    fields = {"version": "1", "primary_id": "EXT1", "first_name": "Ezra", "middle_name": "Kay",
              "last_name": "Exton", "user_group": "Graduate", "status": "active",
              "notices_opt_in": "on"}
    saved = htmx_client.post(f"/users/{uid}/general", data=fields)
    assert saved.status_code == 200
    text = saved.get_data(as_text=True)
    assert badge in text and "Release to source" in text
    with db.connection_context():
        state = FieldState.get(FieldState.user == uid)
        assert (state.field, state.state, state.source_value) == (
            "middle_name", {"no": "temporary", "yes": "protected"}[answer], "Lee")
    # Saving closes the record again: another locked write is refused.
    fields.update(version="2", middle_name="Again")
    assert client.post(f"/users/{uid}/general", data=fields).status_code == 403


def test_open_for_update_without_javascript(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["external"]
    question = client.get(f"/users/{uid}/open")
    assert question.status_code == 200
    text = question.get_data(as_text=True)
    assert "Protect your changes from the next synchronization?" in text
    assert "will overwrite them" in text and "will not overwrite them" in text
    answer = client.post(f"/users/{uid}/open", data={"protect": "no"})
    assert answer.status_code == 302
    form = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "fields you change now are <strong>temporary</strong>" in form


def test_open_for_update_refused_for_internal_and_for_readers(login_as, patrons):
    client = login_as("User Manager")
    assert client.post(f"/users/{patrons['internal']}/open", data={"protect": "no"}).status_code == 403
    assert client.post(f"/users/{patrons['external']}/open", data={}).status_code == 400


def test_release_to_source_restores_value(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["external"]
    client.post(f"/users/{uid}/open", data={"protect": "yes"})
    client.post(f"/users/{uid}/general", data={
        "version": "1", "primary_id": "EXT1", "first_name": "Ezra", "middle_name": "Kay",
        "last_name": "Exton", "user_group": "Graduate", "status": "active"})
    response = client.post(f"/users/{uid}/release/middle_name", data={"version": "2"})
    assert response.status_code == 302
    assert user(uid).middle_name == "Lee"
    assert ("Middle name (provenance)", "protected", "source", MANAGER) in history_of(uid)


def test_add_email_to_external_account_is_internal_by_default(login_as, patrons, htmx_client):
    client = login_as("User Manager")
    uid = patrons["external"]
    page = client.get(f"/users/{uid}/contact").get_data(as_text=True)
    assert 'name="as_external" type="checkbox" value="on" aria-describedby' in page  # unticked
    response = htmx_client.post(f"/users/{uid}/segments/emails",
                           data={"version": "1", "emails.new.address": "ezra@home.org",
                                 "emails.new.email_type": "personal",
                                 "emails.new.preferred": "on"})
    assert response.status_code == 200
    with db.connection_context():
        added = Email.get(Email.address == "ezra@home.org")
        assert (added.segment, added.preferred) == ("internal", True)
        assert not Email.get(Email.address == "ezra@uni.edu").preferred
    assert "Added here" in response.get_data(as_text=True)


def test_external_segment_is_locked_until_opened(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["external"]
    with db.connection_context():
        seg = Email.get(Email.address == "ezra@uni.edu").id
    refused = client.post(f"/users/{uid}/segments/emails/{seg}/remove", data={"version": "1"})
    assert refused.status_code == 403
    client.post(f"/users/{uid}/open", data={"protect": "no"})
    updated = client.post(f"/users/{uid}/segments/emails/{seg}",
                          data={"version": "1", f"emails.{seg}.address": "ezra2@uni.edu",
                                f"emails.{seg}.preferred": "on"})
    assert updated.status_code == 302
    with db.connection_context():
        email = Email.get_by_id(seg)
        assert (email.address, email.edited_locally) == ("ezra2@uni.edu", True)


def test_segment_validation_keeps_typed_values(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    response = client.post(f"/users/{uid}/segments/identifiers",
                           data={"version": "1", "identifiers.new.id_type": "barcode",
                                 "identifiers.new.value": "EXT1"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Another user already has this identifier." in text
    assert 'value="EXT1"' in text
    with db.connection_context():
        assert Identifier.select().count() == 0


def test_remove_internal_segment_writes_history(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    with db.connection_context():
        seg = Email.get(Email.address == "ida@home.org").id
    assert client.post(f"/users/{uid}/segments/emails/{seg}/remove",
                       data={"version": "1"}).status_code == 302
    assert any(f == "Email" and old.startswith("ida@home.org") and new is None
               for f, old, new, _ in history_of(uid))


def test_set_password_for_internal_account(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    short = client.post(f"/users/{uid}/password",
                        data={"password": "short", "password_confirm": "short"})
    assert short.status_code == 422
    differ = client.post(f"/users/{uid}/password",
                         data={"password": "long enough one", "password_confirm": "other one!!"})
    assert differ.status_code == 422
    ok = client.post(f"/users/{uid}/password",
                     data={"password": "long enough one", "password_confirm": "long enough one"})
    assert ok.status_code == 302
    assert check_secret(user(uid).password_hash, "long enough one")
    assert "long enough one" not in client.get(f"/users/{uid}/history").get_data(as_text=True)


def test_user_manager_cannot_edit_staff_record(login_as):
    client = login_as("User Manager")
    page = client.get("/users/1").get_data(as_text=True)
    assert "Only a User Administrator edits a staff record." in page
    assert client.post("/users/1/general", data={"version": "1", "last_name": "X"}).status_code == 403


def test_account_type_change_is_admin_only_and_keeps_values(app, client, login_as, patrons):
    manager = login_as("User Manager")
    assert manager.get(f"/users/{patrons['external']}/account-type").status_code == 403
    manager.post("/sign-out")
    admin = login_as("User Administrator")
    uid = patrons["external"]
    page = admin.get(f"/users/{uid}/account-type")
    assert b"Every value is kept" in page.data
    bad = admin.post(f"/users/{uid}/account-type", data={"version": "1", "password": "short"})
    assert bad.status_code == 422
    done = admin.post(f"/users/{uid}/account-type",
                      data={"version": "1", "password": "a good long password"})
    assert done.status_code == 302
    changed = user(uid)
    assert (changed.account_type, changed.middle_name, changed.source) == ("internal", "Lee", "SIS")
    back = admin.post(f"/users/{uid}/account-type",
                      data={"version": "2", "source": "SIS", "external_id": "S1"})
    assert back.status_code == 302
    assert user(uid).account_type == "external" and user(uid).password_hash is None


def test_add_user_lists_duplicates_then_creates(login_as, patrons):
    client = login_as("User Manager")
    assert client.get("/users/new").status_code == 200
    form = {"primary_id": "NEW1", "first_name": "Ida", "last_name": "Inman",
            "user_group": "Community", "emails.new.address": "ida@home.org",
            "identifiers.new.id_type": "barcode", "identifiers.new.value": "B-NEW-1"}
    first = client.post("/users/new", data=form)
    assert first.status_code == 200
    text = first.get_data(as_text=True)
    assert "Possible duplicates" in text and "same email" in text and "Create anyway" in text
    with db.connection_context():
        assert not User.select().where(User.primary_id == "NEW1").exists()
    created = client.post("/users/new", data=dict(form, confirm="yes"))
    assert created.status_code == 302
    with db.connection_context():
        new = User.get(User.primary_id == "NEW1")
        assert new.account_type == "internal"
        assert Identifier.get(Identifier.user == new).value == "B-NEW-1"


def test_add_user_validation(login_as):
    client = login_as("User Manager")
    response = client.post("/users/new", data={"primary_id": "", "last_name": "",
                                                "first_name": "Kept", "user_group": ""})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Primary identifier is required." in text and 'value="Kept"' in text



def test_account_type_change_on_a_stale_version_is_409_and_changes_nothing(login_as, patrons):
    uid = patrons["external"]
    stale = login_as("User Administrator").post(
        f"/users/{uid}/account-type", data={"version": "7", "password": "a good long password"})
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "Someone else changed this record meanwhile." in text
    assert user(uid).account_type == "external" and user(uid).password_hash is None


def test_account_type_refusal_keeps_the_source_record_typed(login_as, patrons):
    admin = login_as("User Administrator")
    uid = patrons["internal"]
    refused = admin.post(f"/users/{uid}/account-type", data={"version": "1", "source": "SIS"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'name="source" type="text" value="SIS"' in text and 'aria-invalid="true"' in text
    assert user(uid).account_type == "internal"


def test_add_user_duplicates_step_keeps_what_was_typed(login_as, patrons):
    client = login_as("User Manager")
    form = {"primary_id": "NEW2", "first_name": "Ida", "last_name": "Inman",
            "user_group": "Community", "emails.new.address": "ida@home.org",
            "emails.new.email_type": "work", "identifiers.new.value": "B-NEW-2"}
    text = client.post("/users/new", data=form).get_data(as_text=True)
    assert "Possible duplicates" in text and 'name="confirm" value="yes"' in text
    assert 'value="NEW2"' in text and 'value="B-NEW-2"' in text and 'value="ida@home.org"' in text
    assert re.search(r'<option value="work" selected>', text)
    assert re.search(r'<option value="barcode" selected>', text)

def test_history_tab_newest_first(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    base = {"user_group": "Community", "primary_id": "INT1"}
    client.post(f"/users/{uid}/general", data={"version": "1", "last_name": "Second", **base})
    client.post(f"/users/{uid}/general", data={"version": "2", "last_name": "Third", **base})
    text = client.get(f"/users/{uid}/history").get_data(as_text=True)
    rows = re.findall(r"<td>Last name</td>\s*<td>(\w+)</td>\s*<td>(\w+)</td>", text)
    assert rows == [("Second", "Third"), ("Inman", "Second")]


def test_save_with_csrf_on(csrf_app, patrons):
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"identifier": MANAGER, "password": PASSWORD,
                                  "csrf_token": token})
    uid = patrons["internal"]
    data = {"version": "1", "last_name": "Forged", "user_group": "Community", "primary_id": "INT1"}
    assert client.post(f"/users/{uid}/general", data=data).status_code == 400
    assert user(uid).last_name == "Inman"
    page = client.get(f"/users/{uid}/general/edit").get_data(as_text=True)
    data["csrf_token"] = csrf_token_from(page)
    assert client.post(f"/users/{uid}/general", data=data).status_code == 302
    assert user(uid).last_name == "Forged"



def test_add_user_with_csrf_on(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"identifier": MANAGER, "password": PASSWORD,
                                  "csrf_token": token})
    data = {"primary_id": "NEW3", "last_name": "Nash", "user_group": "Community"}
    assert client.post("/users/new", data=data).status_code == 400
    data["csrf_token"] = csrf_token_from(client.get("/users/new").get_data(as_text=True))
    assert client.post("/users/new", data=data).status_code == 302
    with db.connection_context():
        assert User.get(User.primary_id == "NEW3").last_name == "Nash"

def test_edit_link_from_search_opens_edit_mode(login_as, patrons):
    client = login_as("User Manager")
    internal = client.get(f"/users/{patrons['internal']}?edit=1").get_data(as_text=True)
    assert 'name="last_name"' in internal and ">Save<" in internal


def test_history_restore_gets_the_whole_page(login_as, patrons, htmx_client):
    login_as("User Manager")
    response = htmx_client.get(f"/users/{patrons['internal']}/contact",
                               headers={"HX-History-Restore-Request": "true"})
    assert b"<!doctype html>" in response.data and b"Sign out" in response.data
