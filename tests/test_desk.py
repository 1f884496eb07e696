"""Patron Services: find a patron, the summary and loans, Edit User Info and Update User."""

import datetime
import html.parser
import re

import html5lib
import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import PASSWORD, ROLE_LOGINS, csrf_token_from, sign_in
from webapp.db import db
from webapp.desk.forms import QuickForm
from webapp.models import (
    Block,
    Email,
    FieldState,
    History,
    Identifier,
    Library,
    Loan,
    Note,
    Phone,
    RoleAssignment,
    User,
)
from webapp.services import desk as desk_service
from webapp.services import search
from webapp.services.clock import now
from webapp.services.permissions import SYSTEM
from webapp.services.staff import create_staff
from webapp.services.users import SegmentChange, save_user

TODAY = datetime.date.today()
HTMX = {"HX-Request": "true"}
ADMIN = ROLE_LOGINS["General System Administrator"]


@pytest.fixture
def patrons(app):
    """An internal and an external patron with identifiers, contacts, blocks, notes and loans."""
    with db.connection_context():
        internal = User.create(primary_id="INT1", first_name="Ida", last_name="Inman",
                               user_group="Community",
                               expiry_date=TODAY + datetime.timedelta(days=400))
        Identifier.create(user=internal, id_type="barcode", value="BC-INT1")
        Email.create(user=internal, address="ida@home.org", preferred=True)
        external = User.create(primary_id="EXT1", first_name="Ezra", last_name="Exton",
                               user_group="Graduate", account_type="external", source="SIS",
                               external_id="S1", expiry_date=TODAY - datetime.timedelta(days=3))
        Identifier.create(user=external, id_type="barcode", value="BC-EXT1", segment="external")
        Identifier.create(user=external, id_type="university_id", value="U-778",
                          segment="external")
        Email.create(user=external, address="ezra@uni.edu", preferred=True, segment="external")
        Phone.create(user=external, number="+1 555 0100", preferred=True, segment="external")
        Block.create(user=external, block_type="fines", description="Unpaid fine")
        Block.create(user=external, block_type="overdue", description="Old block",
                     expires_on=TODAY - datetime.timedelta(days=1))
        Note.create(user=external, text="Prefers large print", show_at_desk=True)
        Note.create(user=external, text="Registrar memo", show_at_desk=False)
        stamp = now()
        Loan.create(user=external, title="Rivers of the North", item_barcode="I-100",
                    loaned_at=stamp - datetime.timedelta(days=40),
                    due_at=stamp - datetime.timedelta(days=12))
        Loan.create(user=external, title="The Quiet Archive", item_barcode="I-200",
                    loaned_at=stamp - datetime.timedelta(days=2),
                    due_at=stamp + datetime.timedelta(days=26))
        Loan.create(user=external, title="Returned Book", item_barcode="I-300",
                    loaned_at=stamp - datetime.timedelta(days=30),
                    due_at=stamp - datetime.timedelta(days=2), returned_at=stamp,
                    status="returned")
        search.index_users([internal.id, external.id])
    return {"internal": internal.id, "external": external.id}


@pytest.fixture
def desk_manager(app):
    """A staff member holding User Manager and Circulation Desk Operator."""
    with db.connection_context():
        staff = create_staff("deskmanager", PASSWORD, "User Manager", first_name="Dana",
                             last_name="Desk")
        RoleAssignment.create(user=staff, role="Circulation Desk Operator")
    client = app.test_client()
    assert sign_in(client, "deskmanager").status_code == 302
    return client


def reload(user_id):
    with db.connection_context():
        return User.get_by_id(user_id)


def emails_of(user_id):
    with db.connection_context():
        return [(e.address, e.segment, e.preferred)
                for e in Email.select().where(Email.user == user_id).order_by(Email.id)]


def history_fields(user_id):
    with db.connection_context():
        return [(h.field, h.old, h.new) for h in History.select().where(History.user == user_id)]


def text_of(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


class FormReader(html.parser.HTMLParser):
    """Collect what a browser would post from the first form with method="post"."""

    def __init__(self):
        super().__init__()
        self.fields, self.inside, self.select, self.textarea = {}, False, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post" and not self.fields:
            self.inside = True
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            if attrs.get("type") == "checkbox" and "checked" not in attrs:
                return
            self.fields.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select":
            self.select = name
            self.fields[name] = [""]
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields[self.select] = [attrs.get("value") or ""]
        elif tag == "textarea":
            self.textarea = name
            self.fields[name] = [""]

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] = [data]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_in(html_text):
    """Return the fields of the post form in HTML_TEXT as a browser would send them."""
    reader = FormReader()
    reader.feed(html_text)
    return reader.fields


def quick_form(client, user_id):
    """Return the Edit User Info form as a browser would post it unchanged."""
    return form_in(client.get(f"/desk/patrons/{user_id}/edit", headers=HTMX).get_data(as_text=True))


# ---------------------------------------------------------------- menu and permissions


def test_menu_path_only_with_desk_use(login_as):
    page = login_as("Circulation Desk Operator").get("/users/").get_data(as_text=True)
    assert "Fulfillment" in page and "Checkout/Checkin" in page
    assert 'href="/desk/">Manage Patron Services' in page


def test_desk_refused_without_desk_use(login_as):
    client = login_as("User Manager")
    assert "Manage Patron Services" not in client.get("/users/").get_data(as_text=True)
    assert client.get("/desk/").status_code == 403
    assert client.get("/desk/?q=INT1").status_code == 403


def test_desk_operator_without_user_management_sees_the_reason_and_gets_403(login_as, patrons):
    client = login_as("Circulation Desk Operator")
    uid = patrons["internal"]
    page = text_of(client.get(f"/desk/?patron={uid}"))
    assert "Edit User Info</button>" not in page
    assert ("Your account is missing a user management role, so Edit User Info is not "
            "available. Ask a User Administrator.") in page
    # Desk operators may open User Details, so the name links there.
    assert f'<a href="/users/{uid}">Ida Inman</a>' in page
    assert client.get(f"/desk/patrons/{uid}/edit").status_code == 403
    assert client.get(f"/desk/patrons/{uid}/edit", headers=HTMX).status_code == 403
    crafted = client.post(f"/desk/patrons/{uid}",
                          data={"version": "1", "user_group": "Faculty",
                                "emails.new.address": "x@y.org"})
    assert crafted.status_code == 403
    assert reload(uid).user_group == "Community"
    assert emails_of(uid) == [("ida@home.org", "internal", True)]


def test_student_worker_finds_patrons_without_details_links(login_as, patrons):
    client = login_as("Circulation Desk Operator – Limited")
    uid = patrons["external"]
    found = client.get("/desk/?q=BC-EXT1")
    assert found.status_code == 302
    page = text_of(client.get(found.headers["Location"]))
    assert "Ezra Exton" in page and "Rivers of the North" in page
    assert "/users/" not in page.split("<main")[1]
    assert "missing a user management role" in page
    assert "Edit User Info</button>" not in page
    assert client.get(f"/desk/patrons/{uid}/edit").status_code == 403
    assert client.post(f"/desk/patrons/{uid}", data={"version": "1"}).status_code == 403


def test_user_manager_with_desk_role_gets_the_button_and_the_form(desk_manager, patrons):
    uid = patrons["internal"]
    page = text_of(desk_manager.get(f"/desk/?patron={uid}"))
    assert "Edit User Info</button>" in page
    assert "missing a user management role" not in page
    fragment = desk_manager.get(f"/desk/patrons/{uid}/edit", headers=HTMX)
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert "<html" not in html
    assert 'name="version" value="1"' in html
    assert "Update User</button>" in html


def test_staff_record_needs_a_user_administrator(desk_manager):
    with db.connection_context():
        staff_id = User.get(User.primary_id == "deskmanager").id
    page = text_of(desk_manager.get(f"/desk/?patron={staff_id}"))
    assert "Only a User Administrator edits a staff record." in page
    assert desk_manager.get(f"/desk/patrons/{staff_id}/edit").status_code == 403


# ---------------------------------------------------------------- find a patron


def test_scanned_barcode_opens_the_patron(login_as, patrons):
    client = login_as("Circulation Desk Operator")
    response = client.get("/desk/?q=BC-EXT1")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/desk/?patron={patrons['external']}"
    page = text_of(client.get(response.headers["Location"]))
    assert "<title>Ezra Exton — Manage Patron Services" in page
    # The find field is empty again, ready for the next card.
    assert 'name="q" type="search" value=""' in page


@pytest.mark.parametrize("typed", ["U-778", "EXT1", "bc-ext1", " BC-EXT1 ", "ezra@uni.edu"])
def test_any_identifier_or_email_opens_the_patron(login_as, patrons, typed):
    client = login_as("Circulation Desk Operator")
    response = client.get("/desk/", query_string={"q": typed})
    assert response.headers["Location"] == f"/desk/?patron={patrons['external']}"


def test_htmx_find_answers_the_workspace_and_pushes_the_patron_url(login_as, patrons):
    client = login_as("Circulation Desk Operator")
    response = client.get("/desk/?q=BC-INT1", headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == f"/desk/?patron={patrons['internal']}"
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="patron-panel"' in html and 'id="desk-q"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_name_shows_a_pick_list(login_as, patrons):
    with db.connection_context():
        for first in ("Ann", "Bob"):
            user = User.create(primary_id=f"SM-{first}", first_name=first, last_name="Smith",
                               user_group="Community")
            search.index_users([user.id])
        other = User.create(primary_id="SM-X", first_name="Carl", last_name="Smithson",
                            user_group="Faculty")
        search.index_users([other.id])
    client = login_as("Circulation Desk Operator")
    page = text_of(client.get("/desk/?q=smith"))
    names = re.findall(r'hx-push-url="true">([^<]+)</a>', page)
    assert names == ["Smith, Ann", "Smith, Bob", "Smithson, Carl"]
    assert 'id="patron-panel"' not in page
    # The field keeps the name, focused, to refine it.
    assert 'value="smith"' in page and "autofocus" in page.split('id="desk-q"')[1].split(">")[0]
    narrowed = text_of(client.get("/desk/?q=smith+bo", headers=HTMX))
    assert re.findall(r'hx-push-url="true">([^<]+)</a>', narrowed) == ["Smith, Bob"]
    assert "<html" not in narrowed


def test_pick_list_is_short_and_says_when_more_match(login_as, app):
    with db.connection_context():
        ids = [User.create(primary_id=f"DOE{n:02d}", first_name=f"Kim{n:02d}", last_name="Doe",
                           user_group="Community").id for n in range(14)]
        search.index_users(ids)
    client = login_as("Circulation Desk Operator")
    page = text_of(client.get("/desk/?q=doe"))
    assert len(re.findall(r'hx-push-url="true">[^<]+</a>', page)) == desk_service.PICK_LIST_SIZE
    assert "More patrons match: type more of the name, or scan the card." in page


def test_unknown_value_says_so_and_keeps_the_field(login_as, patrons):
    client = login_as("Circulation Desk Operator")
    for headers in ({}, HTMX):
        response = client.get("/desk/?q=BC-NOPE9", headers=headers)
        assert response.status_code == 200
        page = text_of(response)
        assert "No patron matches “BC-NOPE9”." in page
        field = page.split('id="desk-q"')[1].split(">")[0]
        assert 'value="BC-NOPE9"' in field and "autofocus" in field
        assert 'aria-invalid="true"' in field and "desk-q-error" in field


def test_unknown_patron_id_is_404_with_the_find_field(login_as):
    client = login_as("Circulation Desk Operator")
    for value in ("99999", "abc"):
        response = client.get(f"/desk/?patron={value}")
        assert response.status_code == 404
        assert "That patron no longer exists." in text_of(response)


# ---------------------------------------------------------------- the summary


def test_summary_shows_what_the_desk_needs(login_as, patrons):
    client = login_as("Circulation Desk Operator")
    uid = patrons["external"]
    page = text_of(client.get(f"/desk/?patron={uid}"))
    assert f'<a href="/users/{uid}">Ezra Exton</a>' in page
    assert f'<a href="/users/{uid}">EXT1</a>' in page
    for shown in ("Graduate", "External (SIS)", "Public", "Active"):
        assert shown in page
    expiry = page.split('id="patron-expiry">')[1].split("</dd>")[0]
    assert (TODAY - datetime.timedelta(days=3)).isoformat() in expiry and "Expired" in expiry
    assert "Unpaid fine" in page and "Old block" not in page
    assert "Prefers large print" in page and "Registrar memo" not in page
    assert "ezra@uni.edu" in page.split('id="patron-emails">')[1].split("</dd>")[0]
    loans = page.split('id="open-loans"')[1]
    assert "Open loans (2)" in page
    # The newest loan first: the new one lands at the top as the desk scans.
    current_row, overdue_row = loans.split("<tr")[2], loans.split("<tr")[3]
    assert "Rivers of the North" in overdue_row and "I-100" in overdue_row
    assert "Overdue" in overdue_row
    assert "The Quiet Archive" in current_row and "Overdue" not in current_row
    assert "Returned Book" not in page


@pytest.mark.parametrize("days, flag", [(-1, "Expired"), (0, "Expires soon"),
                                        (30, "Expires soon"), (31, None)])
def test_expiry_is_flagged_when_past_or_near(login_as, patrons, days, flag):
    with db.connection_context():
        User.update(expiry_date=TODAY + datetime.timedelta(days=days)).where(
            User.id == patrons["internal"]).execute()
    page = text_of(login_as("Circulation Desk Operator").get(
        f"/desk/?patron={patrons['internal']}"))
    expiry = page.split('id="patron-expiry">')[1].split("</dd>")[0]
    for label in ("Expired", "Expires soon"):
        assert (label in expiry) == (label == flag)


# ---------------------------------------------------------------- Edit User Info, Update User


def test_internal_account_edits_the_preferred_email_in_place(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    form = quick_form(client, uid)
    [key] = [k for k in form if k.startswith("emails.")]
    assert key != "emails.new.address" and form[key] == ["ida@home.org"]
    form[key] = ["ida.inman@home.org"]
    form["campus"] = ["North"]
    response = client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)
    assert response.status_code == 200
    html = text_of(response)
    assert "Edit User Info</button>" in html and "Update User" not in html
    assert "Updated Ida Inman." in html and 'hx-swap-oob="true"' in html
    assert emails_of(uid) == [("ida.inman@home.org", "internal", True)]
    assert reload(uid).campus == "North" and reload(uid).version == 2
    changes = history_fields(uid)
    assert ("Campus", "", "North") in changes
    assert any(f == "Email" and new.startswith("ida.inman@home.org") for f, _, new in changes)


def test_internal_account_without_an_email_gets_a_preferred_one(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    with db.connection_context():
        Email.delete().where(Email.user == uid).execute()
    form = quick_form(client, uid)
    assert form["emails.new.address"] == [""]
    form["emails.new.address"] = ["ida@new.org"]
    assert client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX).status_code == 200
    assert emails_of(uid) == [("ida@new.org", "internal", True)]


def test_external_account_gets_a_new_internal_preferred_email(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["external"]
    html = text_of(client.get(f"/desk/patrons/{uid}/edit", headers=HTMX))
    # The source's entries are shown, read-only; source fields link to Open for Update.
    assert "Emails from SIS (read-only here" in html and "ezra@uni.edu" in html
    assert f'href="/users/{uid}?edit=1">open the record in User Details' in html
    assert 'name="first_name"' not in html and 'name="expiry_date"' not in html
    form = quick_form(client, uid)
    assert form["emails.new.address"] == ["ezra@uni.edu"]
    form["emails.new.address"] = ["ezra@home.example"]
    response = client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)
    assert response.status_code == 200
    assert emails_of(uid) == [("ezra@uni.edu", "external", False),
                              ("ezra@home.example", "internal", True)]
    summary = text_of(response).split('id="patron-emails">')[1].split("</dd>")[0]
    assert "ezra@home.example" in summary and "Internal" in summary
    # A second change updates the internal one instead of adding a third.
    form = quick_form(client, uid)
    key = next(k for k in form if k.startswith("emails."))
    assert key != "emails.new.address" and form[key] == ["ezra@home.example"]
    form[key] = ["ezra@elsewhere.example"]
    client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)
    assert emails_of(uid) == [("ezra@uni.edu", "external", False),
                              ("ezra@elsewhere.example", "internal", True)]


def test_external_phone_and_address_are_added_as_internal(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["external"]
    form = quick_form(client, uid)
    form["phones.new.number"] = ["+1 555 0199"]
    form.update({"addresses.new.line1": ["1 Elm St"], "addresses.new.city": ["Springfield"]})
    assert client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX).status_code == 200
    with db.connection_context():
        phones = [(p.number, p.segment, p.preferred) for p in Phone.select().where(Phone.user == uid)]
        address = User.get_by_id(uid).addresses.get()
    assert phones == [("+1 555 0100", "external", False), ("+1 555 0199", "internal", True)]
    assert (address.line1, address.city, address.segment, address.preferred) == (
        "1 Elm St", "Springfield", "internal", True)



def test_a_segment_posted_to_the_desk_is_read_as_on_user_details(login_as, patrons):
    """The desk and User Details read a posted address with the one segment parser."""
    client = login_as("General System Administrator")
    typed = {"line1": " 5 Mill Lane ", "line2": "", "city": "Springfield", "country": "US"}
    with db.connection_context():
        twin = User.create(primary_id="INT2", first_name="Iva", last_name="Inman",
                           user_group="Community")
    form = quick_form(client, patrons["internal"])
    form.update({f"addresses.new.{field}": [value] for field, value in typed.items()})
    assert client.post(f"/desk/patrons/{patrons['internal']}", data=form,
                       headers=HTMX).status_code == 200
    details = {f"addresses.new.{field}": value for field, value in typed.items()}
    assert client.post(f"/users/{twin.id}/segments/addresses",
                       data=dict(details, version="1", **{"addresses.new.preferred": "on"}),
                       headers=HTMX).status_code == 200

    def address_of(user_id):
        with db.connection_context():
            address = User.get_by_id(user_id).addresses.get()
        return {f: getattr(address, f) for f in ("line1", "line2", "city", "region",
                                                 "postal_code", "country", "preferred")}

    assert address_of(patrons["internal"]) == address_of(twin.id)
    assert address_of(twin.id)["line1"] == "5 Mill Lane"


def test_the_desk_reads_a_contact_under_the_segment_id_it_was_loaded_with(app, patrons):
    posted = MultiDict({"version": "1", "emails.999.address": "ida@elsewhere.org"})
    with app.test_request_context(), db.connection_context():
        form = QuickForm.from_request(User.get_by_id(patrons["internal"]), posted)
    assert form.contacts["emails"] == {"address": "ida@elsewhere.org"}
    assert form.contacts["phones"] is None and form.contacts["addresses"] is None

def test_external_library_field_change_is_protected(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["external"]
    form = quick_form(client, uid)
    form["user_group"] = ["Faculty"]
    form["notices_opt_in"] = [""]
    client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)
    user = reload(uid)
    assert (user.user_group, user.notices_opt_in) == ("Faculty", False)
    with db.connection_context():
        states = {s.field: s.state for s in FieldState.select().where(FieldState.user == uid)}
    assert states == {"user_group": "protected", "notices_opt_in": "protected"}


def test_a_desk_note_is_added_and_shown(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    form = quick_form(client, uid)
    assert form["notes.new.show_at_desk"] == ["on"]
    form["notes.new.text"] = ["Card replaced today"]
    response = client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)
    assert "Card replaced today" in text_of(response).split("Notes for the desk")[1]
    form = quick_form(client, uid)
    form["notes.new.text"] = ["Not for the desk"]
    del form["notes.new.show_at_desk"]
    response = client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)
    assert "Not for the desk" not in text_of(response)
    with db.connection_context():
        notes = [(n.text, n.show_at_desk, n.created_by, n.segment)
                 for n in Note.select().where(Note.user == uid).order_by(Note.id)]
    assert notes == [("Card replaced today", True, ADMIN, "internal"),
                     ("Not for the desk", False, ADMIN, "internal")]


def test_unchanged_form_stores_nothing(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["external"]
    response = client.post(f"/desk/patrons/{uid}", data=quick_form(client, uid), headers=HTMX)
    assert response.status_code == 200
    assert "Nothing to update: no value was changed." in text_of(response)
    assert reload(uid).version == 1 and history_fields(uid) == []


def test_rs_library_only_when_several_libraries(login_as, patrons):
    client = login_as("General System Administrator")
    assert "rs_library" not in quick_form(client, patrons["internal"])
    with db.connection_context():
        law = Library.create(code="LAW", name="Law Library")
    form = quick_form(client, patrons["internal"])
    assert form["rs_library"] == [""]
    form["rs_library"] = [str(law.id)]
    client.post(f"/desk/patrons/{patrons['internal']}", data=form, headers=HTMX)
    assert reload(patrons["internal"]).rs_library_id == law.id


def test_invalid_values_are_422_beside_their_fields_and_nothing_is_stored(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["external"]
    form = quick_form(client, uid)
    form.update({"emails.new.address": ["not-an-email"], "user_group": ["Wizards"],
                 "campus": ["North"], "addresses.new.line1": ["9 Oak Rd"],
                 "notes.new.text": ["Keep this note"]})
    for headers in (HTMX, {}):
        response = client.post(f"/desk/patrons/{uid}", data=form, headers=headers)
        assert response.status_code == 422
        html = text_of(response)
        email = html.split('id="emails-new-address"')[1].split("</div>")[0]
        assert 'value="not-an-email"' in email and 'aria-invalid="true"' in email
        assert "Enter an email address such as name@example.org." in email
        group = html.split('id="user_group"')[1].split("</div>")[0]
        assert "Choose a user group from the list." in group
        city = html.split('id="addresses-new-city"')[1].split("</div>")[0]
        assert "City is required." in city
        assert 'value="North"' in html and 'value="9 Oak Rd"' in html
        assert ">Keep this note</textarea>" in html
        assert "Not saved: 3 values need correcting" in html
        assert ("<html" in html) == (headers == {})
    assert reload(uid).version == 1 and reload(uid).campus == ""
    assert emails_of(uid) == [("ezra@uni.edu", "external", True)]


def test_stale_version_is_409_with_both_values_and_a_way_to_reapply(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    form = quick_form(client, uid)
    with db.connection_context():
        [email] = Email.select().where(Email.user == uid)
        save_user(uid, version=1, actor=SYSTEM, fields={"campus": "South"},
                  changes=[SegmentChange("emails", "update", {"address": "ida@theirs.org"},
                                         segment_id=email.id)])
    form[f"emails.{email.id}.address"] = ["ida@mine.org"]
    form["campus"] = ["North"]
    response = client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)
    assert response.status_code == 409
    html = text_of(response)
    conflict = html.split('id="conflict"')[1].split("</table>")[0]
    assert "system changed this record" in conflict
    assert "<th scope=\"row\">Preferred email</th><td>ida@theirs.org</td><td>ida@mine.org</td>" in conflict
    assert "<th scope=\"row\">Campus</th><td>South</td><td>North</td>" in conflict
    # The form carries the new version and what was typed.
    assert 'name="version" value="2"' in html
    assert 'value="ida@mine.org"' in html and 'value="North"' in html
    assert reload(uid).campus == "South"
    again = form_in(response.get_data(as_text=True))
    response = client.post(f"/desk/patrons/{uid}", data=again, headers=HTMX)
    assert response.status_code == 200
    assert reload(uid).campus == "North"
    assert emails_of(uid) == [("ida@mine.org", "internal", True)]


def test_reapplying_after_a_conflict_keeps_what_the_other_person_saved(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    form = quick_form(client, uid)
    with db.connection_context():
        [email] = Email.select().where(Email.user == uid)
        save_user(uid, version=1, actor=SYSTEM,
                  changes=[SegmentChange("emails", "update", {"address": "ida@theirs.org"},
                                         segment_id=email.id)])
    form["campus"] = ["North"]  # this staff member changed the campus only
    response = client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)
    assert response.status_code == 409
    conflict = text_of(response).split('id="conflict"')[1].split("</table>")[0]
    assert "Preferred email" not in conflict
    again = form_in(response.get_data(as_text=True))
    assert client.post(f"/desk/patrons/{uid}", data=again, headers=HTMX).status_code == 200
    assert reload(uid).campus == "North"
    assert emails_of(uid) == [("ida@theirs.org", "internal", True)]


def test_missing_version_is_refused(login_as, patrons):
    client = login_as("General System Administrator")
    response = client.post(f"/desk/patrons/{patrons['internal']}", data={"campus": "X"})
    assert response.status_code == 400
    assert reload(patrons["internal"]).campus == ""


def test_without_javascript_edit_is_a_page_and_update_redirects(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    page = client.get(f"/desk/patrons/{uid}/edit")
    assert page.status_code == 200
    html = text_of(page)
    assert html.startswith("<!doctype html>") and "Update User</button>" in html
    assert f'href="/desk/?patron={uid}" hx-get="/desk/patrons/{uid}/summary">Cancel' in html
    form = quick_form(client, uid)
    form["campus"] = ["North"]
    response = client.post(f"/desk/patrons/{uid}", data=form)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/desk/?patron={uid}"
    assert "Updated Ida Inman." in text_of(client.get(response.headers["Location"]))


def test_cancel_swaps_the_summary_back(login_as, patrons):
    client = login_as("Circulation Desk Operator")
    uid = patrons["internal"]
    fragment = client.get(f"/desk/patrons/{uid}/summary", headers=HTMX)
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and 'id="patron-panel"' in html and "ida@home.org" in html
    plain = client.get(f"/desk/patrons/{uid}/summary")
    assert plain.status_code == 302 and plain.headers["Location"] == f"/desk/?patron={uid}"


def test_update_user_with_csrf_on(csrf_app, patrons):
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"identifier": ADMIN, "password": PASSWORD,
                                  "csrf_token": token})
    uid = patrons["internal"]
    html = client.get(f"/desk/patrons/{uid}/edit").get_data(as_text=True)
    data = {"version": "1", "campus": "North"}
    assert client.post(f"/desk/patrons/{uid}", data=data).status_code == 400
    assert reload(uid).campus == ""
    data["csrf_token"] = csrf_token_from(html)
    assert client.post(f"/desk/patrons/{uid}", data=data).status_code == 303
    assert reload(uid).campus == "North"


def test_every_desk_state_is_valid_html(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["external"]
    form = quick_form(client, uid)
    bad = dict(form, **{"emails.new.address": ["nope"]})
    responses = [
        client.get(f"/desk/?patron={uid}"),
        client.get("/desk/?q=e"),
        client.get("/desk/?q=zz9"),
        client.get(f"/desk/patrons/{uid}/edit"),
        client.get(f"/desk/patrons/{uid}/edit", headers=HTMX),
        client.post(f"/desk/patrons/{uid}", data=bad),
        client.post(f"/desk/patrons/{uid}", data=bad, headers=HTMX),
    ]
    with db.connection_context():
        save_user(uid, version=1, actor=SYSTEM, fields={"campus": "South"})
    responses.append(client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX))
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 422, 422, 409]
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    for response in responses:
        text = response.get_data(as_text=True)
        parser.parse(text if text.startswith("<!doctype") else
                     f"<!doctype html><title>t</title>{text}")
