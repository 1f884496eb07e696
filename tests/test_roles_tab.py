"""The Roles tab: add, change and remove roles, Make student worker, and crafted posts refused."""

import datetime

import pytest

from tests.conftest import PASSWORD, ROLE_LOGINS, sign_in
from webapp.db import db
from webapp.models import History, Library, RoleAssignment, User

GSA = "General System Administrator"
UA = "User Administrator"
STUDENT = "Circulation Desk Operator – Limited"


@pytest.fixture
def sci(app):
    with db.connection_context():
        return Library.create(code="SCI", name="Science Library").id


def user(user_id):
    with db.connection_context():
        return User.get_by_id(user_id)


def roles_of(user_id):
    with db.connection_context():
        return sorted((a.role, a.expires_on) for a in
                      RoleAssignment.select().where(RoleAssignment.user == user_id))


def assignment_of(identifier):
    with db.connection_context():
        staff = User.get(User.primary_id == identifier)
        return RoleAssignment.get(RoleAssignment.user == staff.id).id, staff.id


def test_first_role_asks_then_makes_a_staff_record(login_as, htmx_client, patrons):
    login_as(UA)
    pid = patrons["internal"]
    tab = htmx_client.get(f"/users/{pid}/roles").get_data(as_text=True)
    assert "This is a public record" in tab and "Make student worker" in tab
    form = htmx_client.get(f"/users/{pid}/roles/new").get_data(as_text=True)
    assert 'name="role"' in form and "General System Administrator" not in form
    data = {"version": "1", "role": "User Manager"}
    asked = htmx_client.post(f"/users/{pid}/roles", data=data)
    assert asked.status_code == 200
    assert "makes it a staff record" in asked.get_data(as_text=True)
    assert roles_of(pid) == [] and user(pid).record_type == "public"
    done = htmx_client.post(f"/users/{pid}/roles", data=dict(data, confirm_staff="yes"))
    assert done.status_code == 200 and "User Manager given." in done.get_data(as_text=True)
    assert roles_of(pid) == [("User Manager", None)] and user(pid).record_type == "staff"


def test_plain_forms_work_without_javascript(login_as, patrons, sci):
    client = login_as(UA)
    pid = patrons["internal"]
    page = client.get(f"/users/{pid}/roles/new")
    assert page.status_code == 200 and page.get_data(as_text=True).startswith("<!doctype html>")
    answer = client.post(f"/users/{pid}/student-worker",
                         data={"version": "1", "library": str(sci), "confirm_staff": "yes"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/users/{pid}/roles")
    assert [r for r, _ in roles_of(pid)] == [STUDENT]


def test_change_then_remove_the_last_role_and_turn_the_record_back(login_as, htmx_client,
                                                                  patrons, sci):
    login_as(UA)
    pid = patrons["internal"]
    htmx_client.post(f"/users/{pid}/student-worker",
                     data={"version": "1", "library": str(sci), "confirm_staff": "yes"})
    with db.connection_context():
        aid = RoleAssignment.get(RoleAssignment.user == pid).id
    form = htmx_client.get(f"/users/{pid}/roles/{aid}/edit").get_data(as_text=True)
    assert f'value="{sci}" checked' in form
    changed = htmx_client.post(f"/users/{pid}/roles/{aid}", data={
        "version": str(user(pid).version), "libraries": [str(sci)], "expires_on": "2031-01-31"})
    assert changed.status_code == 200
    assert roles_of(pid) == [(STUDENT, datetime.date(2031, 1, 31))]
    ask = htmx_client.get(f"/users/{pid}/roles/{aid}/remove").get_data(as_text=True)
    assert "Turn it back into a public record" in ask
    removed = htmx_client.post(f"/users/{pid}/roles/{aid}/remove", data={
        "version": str(user(pid).version), "revert_to_public": "yes"})
    assert removed.status_code == 200
    assert roles_of(pid) == [] and user(pid).record_type == "public"
    with db.connection_context():
        fields = [h.field for h in History.select().where(History.user == pid)]
    assert fields.count("Role") == 3 and fields.count("Record type") == 2


def test_bad_input_answers_422_beside_the_field(login_as, htmx_client, patrons, sci):
    login_as(UA)
    pid = patrons["internal"]
    cases = {
        "role": {"role": "Head Librarian"},
        "libraries": {"role": "User Manager", "libraries": ["999"]},
        "expires_on": {"role": "User Manager", "starts_on": "2030-05-01",
                       "expires_on": "2030-04-30"},
        "starts_on": {"role": "User Manager", "starts_on": "next week"},
    }
    for field, data in cases.items():
        answer = htmx_client.post(f"/users/{pid}/roles",
                                  data=dict(data, version="1", confirm_staff="yes"))
        assert answer.status_code == 422, field
        assert f'id="{field}-error"' in answer.get_data(as_text=True), field
    assert roles_of(pid) == []


def test_a_stale_version_is_a_409_with_the_roles_as_they_are(login_as, htmx_client, patrons):
    login_as(UA)
    pid = patrons["internal"]
    htmx_client.post(f"/users/{pid}/roles", data={"version": "1", "role": "User Manager",
                                                   "confirm_staff": "yes"})
    stale = htmx_client.post(f"/users/{pid}/roles", data={
        "version": "1", "role": "Circulation Desk Operator"})
    assert stale.status_code == 409
    text = stale.get_data(as_text=True)
    assert "someone else changed this person's roles" in text and "User Manager" in text
    assert roles_of(pid) == [("User Manager", None)]


# ---------------------------------------------------------------- crafted posts


def test_crafted_posts_are_refused_and_change_nothing(login_as, htmx_client, patrons):
    login_as(UA)
    pid = patrons["internal"]
    gsa_assignment, gsa_id = assignment_of(ROLE_LOGINS[GSA])
    own_assignment, own_id = assignment_of(ROLE_LOGINS[UA])
    refused = {
        "GSA role": (f"/users/{pid}/roles", {"role": GSA, "confirm_staff": "yes"}, 403),
        "UA role": (f"/users/{pid}/roles", {"role": UA, "confirm_staff": "yes"}, 403),
        "own roles": (f"/users/{own_id}/roles", {"role": "User Manager"}, 403),
        "own removal": (f"/users/{own_id}/roles/{own_assignment}/remove", {}, 403),
        "GSA removal": (f"/users/{gsa_id}/roles/{gsa_assignment}/remove", {}, 403),
        "GSA change": (f"/users/{gsa_id}/roles/{gsa_assignment}", {"expires_on": "2030-01-01"},
                       403),
        "other user's assignment": (f"/users/{pid}/roles/{gsa_assignment}/remove", {}, 404),
        "no library": (f"/users/{pid}/student-worker", {"library": "", "confirm_staff": "yes"},
                       422),
        "unknown library": (f"/users/{pid}/student-worker",
                            {"library": "4242", "confirm_staff": "yes"}, 422),
        "library not a number": (f"/users/{pid}/roles",
                                 {"role": "User Manager", "libraries": ["1 OR 1=1"],
                                  "confirm_staff": "yes"}, 422),
    }
    for case, (url, data, status) in refused.items():
        version = str(user(int(url.split("/")[2])).version)
        answer = htmx_client.post(url, data=dict(data, version=version))
        assert answer.status_code == status, case
    assert roles_of(pid) == []
    assert [r for r, _ in roles_of(gsa_id)] == [GSA] and [r for r, _ in roles_of(own_id)] == [UA]
    assert htmx_client.post(f"/users/{pid}/roles", data={"role": "User Manager"}).status_code == 400


def test_without_users_admin_the_roles_routes_answer_403(login_as, patrons):
    client = login_as("User Manager")
    pid = patrons["internal"]
    assert client.post(f"/users/{pid}/roles", data={"version": "1", "role": "User Manager",
                                                     "confirm_staff": "yes"}).status_code == 403
    assert client.get(f"/users/{pid}/roles").status_code == 404  # no Roles tab on a patron
    assert roles_of(pid) == []


def test_a_general_system_administrator_gives_the_administrator_roles(login_as, htmx_client,
                                                                     patrons):
    login_as(GSA)
    pid = patrons["internal"]
    form = htmx_client.get(f"/users/{pid}/roles/new").get_data(as_text=True)
    assert "General System Administrator" in form
    answer = htmx_client.post(f"/users/{pid}/roles", data={"version": "1", "role": UA,
                                                           "confirm_staff": "yes"})
    assert answer.status_code == 200 and roles_of(pid) == [(UA, None)]


# ---------------------------------------------------------------- sessions


def test_removing_a_role_refuses_the_old_cookie_on_the_next_request(app, login_as, patrons):
    student = app.test_client()
    assert sign_in(student, ROLE_LOGINS[STUDENT], PASSWORD).status_code == 302
    assert student.get("/desk/").status_code == 200
    admin = login_as(UA)
    aid, sid = assignment_of(ROLE_LOGINS[STUDENT])
    admin.post(f"/users/{sid}/roles/{aid}/remove", data={"version": str(user(sid).version)})
    answer = student.get("/desk/")
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    fragment = student.get("/desk/", headers={"HX-Request": "true"})
    assert fragment.status_code == 401 and "/sign-in" in fragment.headers["HX-Redirect"]


def test_an_expired_role_grants_nothing_on_the_next_request(app, patrons):
    student = app.test_client()
    assert sign_in(student, ROLE_LOGINS[STUDENT], PASSWORD).status_code == 302
    aid, _sid = assignment_of(ROLE_LOGINS[STUDENT])
    with db.connection_context():
        yesterday = datetime.date.today() - datetime.timedelta(days=1)
        RoleAssignment.update(expires_on=yesterday).where(RoleAssignment.id == aid).execute()
    assert student.get("/desk/").status_code == 302


def test_deactivating_an_account_ends_its_sessions(app, patrons):
    student = app.test_client()
    assert sign_in(student, ROLE_LOGINS[STUDENT], PASSWORD).status_code == 302
    with db.connection_context():
        User.update(status="inactive").where(User.primary_id == ROLE_LOGINS[STUDENT]).execute()
    assert student.get("/desk/").status_code == 302


def test_roles_forms_need_the_csrf_token(csrf_app, patrons):
    client = csrf_app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    sign_in_data = {"identifier": ROLE_LOGINS[UA], "password": PASSWORD,
                    "csrf_token": page.split('name="csrf_token" value="')[1].split('"')[0]}
    assert client.post("/sign-in", data=sign_in_data).status_code == 302
    pid = patrons["internal"]
    answer = client.post(f"/users/{pid}/roles", data={"version": "1", "role": "User Manager",
                                                      "confirm_staff": "yes"})
    assert answer.status_code == 400 and roles_of(pid) == []
