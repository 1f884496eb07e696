"""Every page and fragment of every state the tests reach is valid HTML to the Nu HTML checker.

The states are walked on one app and all their pages validated in one vnu run: Java's start-up
is the cost, so the pages are collected first and checked once at the end.
"""

import datetime
import io

import pytest

from tests.conftest import ROLE_LOGINS, sign_in
from tests.servers.vnu import Pages
from tests.test_desk import quick_form
from webapp.db import db
from webapp.models import (
    Address,
    Block,
    Email,
    Identifier,
    Item,
    Library,
    Loan,
    LoanPolicy,
    Note,
    Phone,
    RoleAssignment,
    User,
)
from webapp.services import roles
from webapp.services.clock import now
from webapp.services.fields import TEMPORARY
from webapp.services.permissions import SYSTEM
from webapp.services.users import record_changes, save_user

HX = {"HX-Request": "true"}
LIVE = {"HX-Request": "true", "X-Live-Search": "true"}
TODAY = datetime.date.today()
STUDENT = "Circulation Desk Operator – Limited"
SYNC_FILE = (b"external_id,primary_id,first_name,middle_name,last_name,user_group,barcode,email\n"
             b"S7,P1,Ann,Lee,Ray,Graduate,B1,ann@example.edu\n"
             b"S8,P2,Bo,,Stone,Faculty,B2,bo@example.edu\n")


@pytest.fixture
def library(app):
    """Patrons with every kind of segment, items on the shelf, and a student worker."""
    with db.connection_context():
        internal = User.create(primary_id="INT1", first_name="Ida", last_name="Inman",
                               user_group="Community", expiry_date=TODAY + datetime.timedelta(days=7))
        Identifier.create(user=internal, id_type="barcode", value="BC-INT1")
        Email.create(user=internal, address="ida@home.org", preferred=True)
        Address.create(user=internal, line1="1 Quay St", city="Porth", postal_code="P1 1AA",
                       preferred=True)
        external = User.create(primary_id="EXT1", first_name="Ezra", middle_name="Lee",
                               last_name="Exton", user_group="Graduate", account_type="external",
                               source="SIS", external_id="S1",
                               expiry_date=TODAY + datetime.timedelta(days=400))
        Identifier.create(user=external, id_type="barcode", value="BC-EXT1", segment="external")
        Email.create(user=external, address="ezra@uni.edu", preferred=True, segment="external")
        Phone.create(user=external, number="+1 555 0100", preferred=True, segment="external")
        Block.create(user=external, block_type="overdue", description="Old block",
                     expires_on=TODAY - datetime.timedelta(days=1))
        Note.create(user=external, text="Prefers large print", show_at_desk=True)
        main = Library.get(Library.code == "MAIN")
        for n in (1, 2, 3):
            Item.create(barcode=f"IT{n}", barcode_key=f"it{n}", title=f"Atlas {n}", library=main)
        sci = Library.create(code="SCI", name="Science Library")
        worker = User.create(primary_id="worker1", first_name="Wes", last_name="Worker",
                             user_group="Undergraduate", record_type="staff")
        Block.create(user=worker, block_type="fines", description="Unpaid fine")
        roles.make_student_worker(worker.id, sci.id, actor=SYSTEM)
        record_changes({}, actor="system", via="system", at=now(),
                       reindex=[internal.id, external.id, worker.id])
    return {"internal": internal.id, "external": external.id, "worker": worker.id,
            "sci": sci.id}


def version_of(user_id):
    """Return the record's version as a form posts it."""
    with db.connection_context():
        return str(User.get_by_id(user_id).version)


class Walk:
    """Visits the app as one client, keeping every HTML answer under a name for one vnu run."""

    def __init__(self, client, pages):
        self.client, self.pages = client, pages

    def keep(self, name, response, status, shows=None):
        """Keep RESPONSE's HTML under NAME after checking it answered STATUS and SHOWS that text."""
        assert response.status_code == status, (name, response.status_code)
        assert shows is None or shows in response.get_data(as_text=True), (name, shows)
        if response.mimetype == "text/html" and response.data.strip():
            self.pages.add(name, response.data)
        return response

    def get(self, name, url, status=200, headers=None, shows=None, **kwargs):
        """GET URL and keep the answer under NAME."""
        return self.keep(name, self.client.get(url, headers=headers or {}, **kwargs), status,
                         shows)

    def post(self, name, url, data=None, status=200, headers=None, shows=None, **kwargs):
        """POST DATA to URL and keep the answer under NAME."""
        return self.keep(name, self.client.post(url, data=data or {}, headers=headers or {},
                                                **kwargs), status, shows)

    def both(self, name, url, status=200, shows=None):
        """Keep URL as a whole page and as the fragment htmx asks for."""
        self.get(name, url, status, shows=shows)
        self.get(f"{name} (fragment)", url, status, headers=HX, shows=shows)

    def sign_in_as(self, role):
        """Sign out whoever is signed in, then sign in as the staff member holding ROLE."""
        self.client.post("/sign-out")
        assert sign_in(self.client, ROLE_LOGINS[role]).status_code == 302


def walk_sign_in(walk):
    """The sign-in page, its error, and a missing page before signing in."""
    walk.get("Sign in", "/sign-in")
    walk.post("Sign in, wrong password", "/sign-in",
              {"identifier": ROLE_LOGINS["User Manager"], "password": "wrong"}, status=401)
    walk.get("404, signed out", "/no-such-page", status=404)


def walk_search(walk, app):
    """Find users: empty, too short, results with and without filters, a pager, no results."""
    app.config["SEARCH_PAGE_SIZE"] = 2
    for name, query in [("empty", ""), ("too short", "q=e"), ("results", "q=ex"),
                        ("filters", "q=e&account_type=external&record_type=public&status=active"),
                        ("role filter", f"q=worker&role={STUDENT}"), ("pager", "q=tester&page=2"),
                        ("no results", "q=nobody")]:
        walk.get(f"Find users, {name}", f"/users/?{query}")
        walk.get(f"Find users, {name} (live rows)", f"/users/?{query}", headers=LIVE)


TABS = ("general", "contact", "identifiers", "notes", "blocks", "history")
SEGMENTS = {"emails": Email, "phones": Phone, "addresses": Address, "identifiers": Identifier,
            "notes": Note, "blocks": Block}


def walk_user_details(walk, ids):
    """Every tab of an internal and an external account, in view and in Edit."""
    for kind in ("internal", "external"):
        uid = ids[kind]
        for tab in TABS:
            walk.both(f"User Details, {kind}, {tab}", f"/users/{uid}/{tab}")
        walk.get(f"User Details, {kind}, Edit", f"/users/{uid}?edit=1")
        walk.get(f"User Details, {kind}, Edit (fragment)", f"/users/{uid}/general/edit",
                 headers=HX)
        for segment, model in SEGMENTS.items():
            with db.connection_context():
                found = model.get_or_none(model.user == uid)
            if found is not None:
                walk.both(f"User Details, {kind}, editing one of {segment}",
                          f"/users/{uid}/segments/{segment}/{found.id}/edit")
    walk.both("Roles tab, staff record", f"/users/{ids['worker']}/roles")
    walk.both("Roles tab, public record", f"/users/{ids['internal']}/roles")


def walk_open_for_update(walk, ids):
    """Open for Update (the question), then temporary and protected fields with their badges."""
    uid = ids["external"]
    walk.get("Open for Update, the question", f"/users/{uid}/open")
    walk.post("Open for Update, No: the opened form", f"/users/{uid}/open", {"protect": "no"},
              headers=HX)
    fields = {"version": "1", "primary_id": "EXT1", "first_name": "Ezra", "middle_name": "Kay",
              "last_name": "Exton", "user_group": "Graduate", "status": "active"}
    walk.post("Saved with a temporary field", f"/users/{uid}/general", fields, headers=HX,
              shows="Temporary")
    walk.post("Open for Update, Yes", f"/users/{uid}/open", {"protect": "yes"}, headers=HX)
    walk.post("Saved with a protected field", f"/users/{uid}/general",
              dict(fields, version="2", first_name="Ezekiel"), headers=HX, shows="Protected")
    walk.get("User Details, protected and temporary fields", f"/users/{uid}",
             shows="Release to source")
    walk.get("Edit, protected and temporary fields", f"/users/{uid}?edit=1")
    walk.both("History tab after Open for Update", f"/users/{uid}/history")
    walk.post("Released to source", f"/users/{uid}/release/first_name",
              {"version": version_of(uid)}, headers=HX, shows="holds the source")


def walk_refusals(walk, ids):
    """422 with the errors in place and 409 side by side, on General and on a segment."""
    uid = ids["internal"]
    bad = {"version": "1", "last_name": "", "expiry_date": "2031-01-01",
           "purge_date": "2030-01-01", "user_group": "Community", "primary_id": "INT1"}
    walk.post("General, 422", f"/users/{uid}/general", bad, status=422)
    walk.post("General, 422 (fragment)", f"/users/{uid}/general", bad, status=422, headers=HX)
    base = {"user_group": "Community", "primary_id": "INT1"}
    walk.post("General, saved", f"/users/{uid}/general", dict(base, version="1", last_name="Theirs"),
              status=302)
    stale = dict(base, version="1", last_name="Mine")
    walk.post("General, 409", f"/users/{uid}/general", stale, status=409)
    walk.post("General, 409 (fragment)", f"/users/{uid}/general", stale, status=409, headers=HX,
              shows="<td>Theirs</td><td>Mine</td>")
    duplicate = {"version": "2", "identifiers.new.id_type": "barcode",
                 "identifiers.new.value": "BC-EXT1"}
    walk.post("Identifiers, 422", f"/users/{uid}/segments/identifiers", duplicate, status=422)
    walk.post("Identifiers, 422 (fragment)", f"/users/{uid}/segments/identifiers", duplicate,
              status=422, headers=HX)
    walk.post("Emails, 409 (fragment)", f"/users/{uid}/segments/emails",
              {"version": "1", "emails.new.address": "ida@work.org"}, status=409, headers=HX)
    with db.connection_context():
        email = Email.get(Email.user == uid).id
    walk.post("Email, inline form 422", f"/users/{uid}/segments/emails/{email}",
              {"version": version_of(uid), f"emails.{email}.address": "nope"}, status=422,
              headers=HX)
    walk.post("Password, 422", f"/users/{uid}/password",
              {"password": "short", "password_confirm": "short"}, status=422)
    walk.post("Emails, added", f"/users/{uid}/segments/emails",
              {"version": version_of(uid), "emails.new.address": "ida@work.org"}, status=302)
    walk.get("User Details, Saved message", f"/users/{uid}/contact")
    walk.both("History tab with changes", f"/users/{uid}/history")


def walk_accounts(walk, ids):
    """Add user with its duplicates step, and the account type change both ways."""
    walk.get("Add user", "/users/new")
    form = {"primary_id": "NEW1", "first_name": "Ida", "last_name": "Inman",
            "user_group": "Community", "emails.new.address": "ida@home.org",
            "identifiers.new.id_type": "barcode", "identifiers.new.value": "B-NEW-1"}
    walk.post("Add user, possible duplicates", "/users/new", form, shows="Possible duplicates")
    walk.post("Add user, 422", "/users/new", {"primary_id": "", "last_name": "", "user_group": ""},
              status=422)
    for kind in ("internal", "external"):
        walk.get(f"Account type, {kind}", f"/users/{ids[kind]}/account-type")
    walk.post("Account type, 422", f"/users/{ids['external']}/account-type",
              {"version": version_of(ids["external"]), "password": "short"}, status=422)
    walk.post("Account type, changed", f"/users/{ids['external']}/account-type",
              {"version": version_of(ids["external"]), "password": "a good long password"},
              status=302)
    walk.get("User Details, changed to internal", f"/users/{ids['external']}")
    walk.post("Account type, changed back", f"/users/{ids['external']}/account-type",
              {"version": version_of(ids["external"]), "source": "SIS", "external_id": "S1"},
              status=302)
    walk.get("User Details, external again", f"/users/{ids['external']}", shows="Managed by SIS")


def walk_roles(walk, ids):
    """The Roles tab's forms: add, its 422, the staff-record question, change, remove."""
    pid = ids["internal"]
    version = version_of(pid)
    walk.both("Roles, add", f"/users/{pid}/roles/new")
    walk.post("Roles, add, 422", f"/users/{pid}/roles",
              {"version": version, "role": "Head Librarian", "confirm_staff": "yes"}, status=422,
              headers=HX)
    walk.post("Roles, first role asks", f"/users/{pid}/roles",
              {"version": version, "role": "User Manager"}, headers=HX,
              shows="makes it a staff record")
    walk.post("Roles, student worker", f"/users/{pid}/student-worker",
              {"version": version, "library": str(ids["sci"]), "confirm_staff": "yes"}, headers=HX)
    with db.connection_context():
        aid = roles.roles_of(pid)[0].assignment_id
    walk.both("Roles, change", f"/users/{pid}/roles/{aid}/edit")
    walk.both("Roles, remove", f"/users/{pid}/roles/{aid}/remove")
    walk.post("Roles, 409", f"/users/{pid}/roles", {"version": version, "role": "User Manager"},
              status=409, headers=HX)


def walk_desk(walk, ids):
    """Manage Patron Services: find, the patron, Edit User Info with 422 and 409."""
    uid = ids["external"]
    walk.get("Desk", "/desk/")
    walk.get("Desk, pick list", "/desk/?q=e")
    walk.get("Desk, pick list (fragment)", "/desk/?q=e", headers=HX)
    walk.get("Desk, no match", "/desk/?q=zz9")
    walk.get("Desk, unknown patron", "/desk/?patron=99999", status=404)
    walk.get("Desk, patron found", f"/desk/?patron={uid}")
    walk.get("Desk, patron found (fragment)", "/desk/?q=BC-EXT1", headers=HX)
    walk.both("Desk, Edit User Info", f"/desk/patrons/{uid}/edit", shows="Managed by SIS")
    walk.both("Desk, Edit User Info, internal", f"/desk/patrons/{ids['internal']}/edit")
    walk.get("Desk, summary again", f"/desk/patrons/{uid}/summary", headers=HX)
    form = quick_form(walk.client, uid)
    bad = dict(form, **{"emails.new.address": ["nope"]})
    walk.post("Desk, 422", f"/desk/patrons/{uid}", bad, status=422)
    walk.post("Desk, 422 (fragment)", f"/desk/patrons/{uid}", bad, status=422, headers=HX)
    with db.connection_context():
        save_user(uid, version=int(form["version"][0]), actor=SYSTEM, fields={"campus": "South"})
    walk.post("Desk, 409 (fragment)", f"/desk/patrons/{uid}", form, status=409, headers=HX)
    walk.post("Desk, 409", f"/desk/patrons/{uid}", form, status=409)
    walk.post("Desk, updated", f"/desk/patrons/{uid}", quick_form(walk.client, uid), headers=HX)


def walk_loans(walk, ids):
    """The desk's loans: check out, a shortened loan, refusals, closed loans, Return items."""
    ext, internal = ids["external"], ids["internal"]
    walk.post("Loans, checked out", f"/desk/patrons/{ext}/loans", {"barcode": "IT1"}, headers=HX)
    walk.post("Loans, shortened", f"/desk/patrons/{internal}/loans", {"barcode": "IT2"},
              headers=HX, shows="Due date shortened")
    with db.connection_context():
        shortened = Loan.get(Loan.item_barcode == "IT2").id
    walk.get("Desk, shortened loan", f"/desk/?patron={internal}&shortened={shortened}",
             shows="Due date shortened")
    walk.post("Loans, no such item", f"/desk/patrons/{ext}/loans", {"barcode": "NOPE"}, status=422,
              headers=HX)
    walk.post("Loans, blocked", f"/desk/patrons/{ids['worker']}/loans", {"barcode": "IT3"},
              status=422, headers=HX)
    walk.post("Loans, on loan to another", f"/desk/patrons/{internal}/loans", {"barcode": "IT1"},
              status=409)
    with db.connection_context():
        loan = Loan.get(Loan.item_barcode == "IT1").id
    walk.post("Loans, renew refused", f"/desk/loans/{loan}/renew", status=422, headers=HX)
    walk.post("Loans, renew all refused", f"/desk/patrons/{ext}/loans/renew", status=422, headers=HX)
    walk.post("Loans, lost", f"/desk/loans/{loan}/lost", headers=HX)
    walk.get("Loans, closed", f"/desk/patrons/{ext}/loans?view=closed", headers=HX)
    walk.get("Desk, closed loans", f"/desk/?patron={ext}&loans=closed")
    walk.post("Loans, relink 422", f"/desk/loans/{loan}/relink", {"due_date": "soon"}, status=422,
              headers=HX)
    walk.post("Loans, relinked", f"/desk/loans/{loan}/relink", {"due_date": ""}, headers=HX)
    walk.get("Return items", "/circulation/return")
    walk.post("Return items, returned", "/circulation/return", {"barcode": "IT2"}, headers=HX)
    walk.post("Return items, not on loan", "/circulation/return", {"barcode": "IT3"}, status=409)


def walk_admin(walk, ids):
    """Admin: staff, who can, libraries, settings, sign-ins, items, loan policies."""
    walk.get("Admin", "/admin/")
    walk.both("Admin › Staff", f"/admin/staff?role={STUDENT}&library={ids['sci']}&expiring=1")
    with db.connection_context():
        held = [str(h.assignment_id) for h in roles.roles_of(ids["worker"])]
    walk.post("Admin › Staff, confirm", "/admin/staff", {"action": "extend", "assignment": held},
              shows="Extend to the end of next semester")
    walk.both("Who can…", "/admin/who-can?permission=desk.use")
    walk.get("Admin › Libraries", "/admin/libraries")
    walk.post("Admin › Libraries, 422", "/admin/libraries", {"code": "main", "name": "Other"},
              status=422, headers=HX)
    walk.post("Admin › Libraries, delete refused", f"/admin/libraries/{ids['sci']}/delete",
              status=422, headers=HX)
    walk.get("Admin › Settings", "/admin/settings")
    walk.post("Admin › Settings, 422", "/admin/settings", {"end0": "02-30", "end1": "12-31"},
              status=422)
    walk.get("Admin › Sign-ins", "/admin/sign-ins")
    walk.get("Admin › Sign-ins, filtered", "/admin/sign-ins?outcome=failure", headers=HX)
    walk.get("Admin › Items", "/admin/items?q=atlas")
    walk.get("Admin › Items, new", "/admin/items/new")
    with db.connection_context():
        item = Item.get(Item.barcode == "IT3").id
        main = Library.get(Library.code == "MAIN").id
    walk.get("Admin › Item", f"/admin/items/{item}")
    walk.post("Admin › Items, new, 422", "/admin/items/new",
              {"barcode": "it1", "title": "", "library": main}, status=422)
    walk.get("Admin › Loan policies", "/admin/loan-policies")
    with db.connection_context():
        policy = LoanPolicy.get().id
    walk.get("Admin › Loan policy", f"/admin/loan-policies/{policy}")
    walk.post("Admin › Loan policies, 422", "/admin/loan-policies",
              {"user_group": "", "library": "", "loan_days": "x"}, status=422)


def upload(walk, name, data, status=303, **options):
    """Upload DATA as a sync file; return the run's address."""
    form = {"file": (io.BytesIO(data), "sis.csv"), "source": "SIS", **options}
    response = walk.post(name, "/admin/sync", form, status=status,
                         content_type="multipart/form-data")
    return response.headers.get("Location")


def walk_sync(walk):
    """Synchronize: the upload form, its 422, a preview, a report, a rejected file, a 409."""
    walk.get("Sync", "/admin/sync")
    upload(walk, "Sync, 422", b"", status=422, source="")
    preview = upload(walk, "Sync, upload", SYNC_FILE)
    walk.both("Sync, preview", preview)
    walk.post("Sync, applied", f"{preview}/apply", status=303)
    walk.both("Sync, report", preview)
    rejected = upload(walk, "Sync, rejected upload", SYNC_FILE + b"S3,P3,Cy,,Lee,Graduate,B3,cy@\n",
                      skip_invalid="on")
    walk.both("Sync, rejected rows skipped", rejected)
    walk.both("Sync, file unusable", upload(walk, "Sync, junk", b"\x00junk"))
    changed = upload(walk, "Sync, changed file", SYNC_FILE.replace(b"Ray,", b"Ray-Lee,"))
    with db.connection_context():
        user = User.get(User.primary_id == "P1")
        save_user(user.id, version=user.version, actor=SYSTEM, fields={"middle_name": "Kay"},
                  opened=TEMPORARY)
    walk.post("Sync, 409", f"{changed}/apply", status=409)
    walk.both("Sync, local edits it will overwrite", upload(walk, "Sync, again", SYNC_FILE))
    walk.get("Sync, runs", "/admin/sync")


def walk_errors(walk, ids):
    """403 and 404 pages and fragments, and Why can't I…?"""
    walk.sign_in_as("User Manager")
    walk.both("403", "/admin/", status=403)
    walk.both("404", "/users/99999", status=404)
    walk.get("User Details, staff record, User Manager", "/users/1")
    walk.get("Why can't I…?", "/why")
    walk.sign_in_as("Circulation Desk Operator")
    walk.get("Desk, no user management", f"/desk/?patron={ids['external']}")
    walk.get("User Details, reader", f"/users/{ids['internal']}")
    with db.connection_context():
        student = User.get(User.primary_id == ROLE_LOGINS[STUDENT])
        scoped = RoleAssignment.get(RoleAssignment.user == student.id)
        roles.change_role(scoped.id, libraries=[ids["sci"]], actor=SYSTEM)
        roles.assign_role(student.id, "User Manager", [Library.get(Library.code == "MAIN").id],
                          actor=SYSTEM)
    walk.sign_in_as(STUDENT)
    walk.get("Topbar with Currently at", "/users/", shows='id="currently-at"')
    walk.post("Currently at, changed", "/currently-at", {"library": str(ids["sci"])}, status=303)
    walk.get("Desk, student worker", "/desk/?q=e")


def test_every_page_state_is_valid_html(app, library):
    pages = Pages()
    walk = Walk(app.test_client(), pages)
    walk_sign_in(walk)
    walk.sign_in_as("General System Administrator")
    walk_search(walk, app)
    walk_user_details(walk, library)
    walk_open_for_update(walk, library)
    walk_refusals(walk, library)
    walk_accounts(walk, library)
    walk_roles(walk, library)
    walk_desk(walk, library)
    walk_loans(walk, library)
    walk_admin(walk, library)
    walk_sync(walk)
    walk_errors(walk, library)
    assert len(pages.html_by_name) > 150, "the walk lost its states"
    pages.assert_valid()
