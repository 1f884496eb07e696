"""Admin › Staff, Who can…, Libraries and Settings; Currently at and "Why can't I…?"."""

import datetime

import pytest

from tests.conftest import PASSWORD, ROLE_LOGINS, sign_in
from webapp.db import db
from webapp.models import Library, RoleAssignment, Setting, User
from webapp.services import roles, search
from webapp.services.permissions import SYSTEM

STUDENT = "Circulation Desk Operator – Limited"


@pytest.fixture
def workers(app):
    """Two student workers at the Science Library, their roles ending this semester."""
    with db.connection_context():
        sci = Library.create(code="SCI", name="Science Library")
        ids = []
        for n in (1, 2):
            worker = User.create(primary_id=f"worker{n}", first_name="Wes", last_name=f"Worker{n}",
                                 user_group="Undergraduate", record_type="staff")
            ids.append(roles.make_student_worker(worker.id, sci.id, actor=SYSTEM).id)
            search.index_users([worker.id])
    return {"library": sci.id, "assignments": ids}


def expiry(assignment_id):
    with db.connection_context():
        held = RoleAssignment.get_or_none(RoleAssignment.id == assignment_id)
        return held.expires_on if held else None


def test_staff_lists_role_holders_with_filters_in_the_address(login_as, htmx_client, workers):
    login_as("User Administrator")
    page = htmx_client.client.get("/admin/staff").get_data(as_text=True)
    assert "Worker1, Wes" in page and ROLE_LOGINS["User Manager"] in page
    url = f"/admin/staff?role={STUDENT}&library={workers['library']}&expiring=1"
    table = htmx_client.get(url).get_data(as_text=True)
    assert not table.startswith("<!doctype html>")
    assert "Worker1, Wes" in table and ROLE_LOGINS["User Manager"] not in table
    full = htmx_client.client.get(url).get_data(as_text=True)
    assert f'<option value="{workers["library"]}" selected>' in full
    assert 'id="filter-expiring" type="checkbox" name="expiring" value="1" checked' in full


def test_extend_several_student_workers_after_one_confirmation(login_as, workers):
    client = login_as("User Administrator")
    before = [expiry(i) for i in workers["assignments"]]
    data = {"action": "extend", "assignment": [str(i) for i in workers["assignments"]]}
    asked = client.post("/admin/staff", data=data)
    assert asked.status_code == 200 and "Extend to the end of next semester: 2 role(s)?" in \
        asked.get_data(as_text=True)
    assert [expiry(i) for i in workers["assignments"]] == before
    done = client.post("/admin/staff", data=dict(data, confirm="yes"))
    assert done.status_code == 303
    after = [expiry(i) for i in workers["assignments"]]
    assert all(new > old for new, old in zip(after, before, strict=True))


def test_remove_several_roles_refuses_the_whole_batch_with_one_of_ones_own(login_as, workers):
    client = login_as("User Administrator")
    with db.connection_context():
        own = RoleAssignment.get(RoleAssignment.user == User.get(
            User.primary_id == ROLE_LOGINS["User Administrator"]).id).id
    ids = [str(i) for i in workers["assignments"]]
    refused = client.post("/admin/staff", data={"action": "remove", "confirm": "yes",
                                                "assignment": ids + [str(own)]})
    assert refused.status_code == 403 and "Nobody changes their own roles" in \
        refused.get_data(as_text=True)
    assert all(expiry(i) for i in workers["assignments"])
    done = client.post("/admin/staff", data={"action": "remove", "confirm": "yes",
                                             "assignment": ids})
    assert done.status_code == 303
    assert [expiry(i) for i in workers["assignments"]] == [None, None]
    assert client.post("/admin/staff", data={"action": "remove"}).status_code == 422


def test_who_can_shows_holders_and_their_role(login_as, htmx_client, workers):
    login_as("User Administrator")
    table = htmx_client.get("/admin/who-can?permission=desk.use").get_data(as_text=True)
    assert "Worker2, Wes" in table and STUDENT in table and "Science Library" in table
    assert ROLE_LOGINS["User Manager"] not in table
    assert htmx_client.get("/admin/who-can?permission=nonsense").status_code == 200


def test_libraries_add_rename_main_and_a_refused_delete(login_as, htmx_client, workers):
    login_as("General System Administrator")
    sci = workers["library"]
    added = htmx_client.post("/admin/libraries", data={"code": "LAW", "name": "Law Library"})
    assert added.status_code == 200 and "Law Library added." in added.get_data(as_text=True)
    clash = htmx_client.post("/admin/libraries", data={"code": "law", "name": "Other"})
    assert clash.status_code == 422 and "Another library already has this code." in \
        clash.get_data(as_text=True)
    htmx_client.post(f"/admin/libraries/{sci}/rename", data={"name": "Science and Engineering"})
    htmx_client.post(f"/admin/libraries/{sci}/main")
    refused = htmx_client.post(f"/admin/libraries/{sci}/delete")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Science and Engineering cannot be deleted" in text and "worker1" in text
    with db.connection_context():
        assert Library.get_by_id(sci).is_main and Library.get_by_id(sci).name == \
            "Science and Engineering"


def test_settings_store_the_semester_ends(app, login_as):
    client = login_as("General System Administrator")
    assert 'value="07-31"' in client.get("/admin/settings").get_data(as_text=True)
    refused = client.post("/admin/settings", data={"end0": "02-30", "end1": "12-31"})
    assert refused.status_code == 422 and 'value="02-30"' in refused.get_data(as_text=True)
    assert client.post("/admin/settings", data={"end0": "06-30", "end1": "12-20"}).status_code \
        == 303
    with db.connection_context():
        assert Setting.get_by_id("semester_ends").value == "06-30 12-20"
    other = app.test_client()
    sign_in(other, ROLE_LOGINS["User Administrator"], PASSWORD)
    assert other.get("/admin/settings").status_code == 403


def test_currently_at_chooses_where_a_scoped_role_grants(app, workers):
    with db.connection_context():
        main = Library.get(Library.code == "MAIN")
        staff = User.get(User.primary_id == ROLE_LOGINS[STUDENT])
        scoped = RoleAssignment.get(RoleAssignment.user == staff.id)
        roles.change_role(scoped.id, libraries=[workers["library"]], actor=SYSTEM)
        roles.assign_role(staff.id, "User Manager", [main.id], actor=SYSTEM)
    client = app.test_client()
    assert sign_in(client, ROLE_LOGINS[STUDENT], PASSWORD).status_code == 302
    page = client.get("/users/").get_data(as_text=True)  # at the main library: User Manager
    assert 'id="currently-at"' in page and f'<option value="{main.id}" selected>' in page
    assert client.get("/desk/").status_code == 403
    moved = client.post("/currently-at", data={"library": str(workers["library"]),
                                               "next": "/desk/"})
    assert moved.status_code == 303 and moved.headers["Location"] == "/desk/"
    desk = client.get("/desk/").get_data(as_text=True)
    assert "Working at <strong>Science Library</strong>" in desk
    assert client.get("/users/").status_code == 403
    assert client.post("/currently-at", data={"library": "999"}).status_code == 400


def test_why_shows_own_roles_what_each_gives_and_whom_to_ask(app, login_as, workers):
    app.config["USER_ADMIN_CONTACT"] = "Ravi at the circulation office"
    client = login_as(STUDENT)
    page = client.get("/why").get_data(as_text=True)
    assert STUDENT in page and "Ravi at the circulation office" in page
    assert "Fulfillment › Checkout/Checkin › Manage Patron Services" in page
    assert "User Manager" in page  # which role gives users.edit
    desk = client.get("/desk/").get_data(as_text=True)
    assert 'href="/why"' in desk


def test_user_search_filters_by_role_in_the_address(login_as, workers):
    client = login_as("General System Administrator")
    found = client.get(f"/users/?q=worker&role={STUDENT}").get_data(as_text=True)
    assert "Worker1" in found and f'<option value="{STUDENT}" selected>' in found
    none = client.get("/users/?q=worker&role=User+Manager").get_data(as_text=True)
    assert "Worker1" not in none


def test_the_demo_has_a_student_worker_at_the_science_library(app):
    from webapp.services.demo import load_demo

    with db.connection_context():
        for identifier in ("admin", "usermanager", "desk", "student"):
            assert User.get_or_none(User.primary_id == identifier) is None
        load_demo(patrons=3)
        student = User.get(User.primary_id == "student")
        held = roles.roles_of(student.id)
        assert [(h.scope.role, [lib.code for lib in h.scope.libraries]) for h in held] == [
            (STUDENT, ["SCI"])]
        assert held[0].scope.expires_on >= datetime.date.today()
        assert Library.get(Library.code == "MAIN").is_main
