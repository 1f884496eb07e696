"""Roles: who may give and remove them, when and where they grant, and what the history keeps."""

import datetime

import pytest

from tests.conftest import ROLE_LOGINS
from webapp.models import History, Library, RoleAssignment, SignInLog, User
from webapp.services import EditConflict, Forbidden, ValidationError, clock, roles, sessions, settings
from webapp.services.permissions import (
    Actor,
    current_library,
    desk_libraries,
    permissions_of,
    workplaces,
)
from webapp.services.roles import STUDENT_ROLE, StaffRecordNeeded

GSA = "General System Administrator"
UA = "User Administrator"
DESK = "Circulation Desk Operator"


@pytest.fixture
def day(monkeypatch):
    """Fix the services' clock; return a function that moves it to another date."""

    def set_day(value):
        monkeypatch.setattr(clock, "today", lambda: value)
        monkeypatch.setattr(clock, "now", lambda: datetime.datetime.combine(
            value, datetime.time(10, 0)))

    set_day(datetime.date(2026, 10, 15))
    return set_day


@pytest.fixture
def sci(dbc):
    return Library.create(code="SCI", name="Science Library")


@pytest.fixture
def main_library(dbc):
    return Library.get(Library.code == "MAIN")


def staff(role):
    return User.get(User.primary_id == ROLE_LOGINS[role])


def actor_for(role):
    user = staff(role)
    return Actor(user.primary_id, permissions_of(user), user.id)


def patron(primary_id="PAT1", record_type="public"):
    return User.create(primary_id=primary_id, first_name="Pia", last_name="Patron",
                       user_group="Undergraduate", record_type=record_type)


def history_of(user):
    return [(h.field, h.old, h.new) for h in
            History.select().where(History.user == user.id).order_by(History.id)]


def held_roles(user):
    return sorted(a.role for a in RoleAssignment.select().where(RoleAssignment.user == user.id))


def reload(user):
    return User.get_by_id(user.id)


def open_sessions(user):
    return len(sessions.open_sessions(user, idle_minutes=30))


# ---------------------------------------------------------------- the first role


def test_first_role_on_a_public_record_asks_for_confirmation(dbc, day):
    pia = patron()
    with pytest.raises(StaffRecordNeeded):
        roles.assign_role(pia.id, "User Manager", actor=actor_for(UA))
    assert held_roles(pia) == [] and reload(pia).record_type == "public"
    assert history_of(pia) == []

    roles.assign_role(pia.id, "User Manager", actor=actor_for(UA), confirm_staff=True)
    pia = reload(pia)
    assert pia.record_type == "staff" and held_roles(pia) == ["User Manager"]
    assert history_of(pia) == [("Record type", "public", "staff"),
                               ("Role", None, "User Manager at all libraries")]
    assert pia.version == 2 and pia.modified_by == ROLE_LOGINS[UA]


def test_history_says_role_scope_and_dates_old_and_new(dbc, day, sci, main_library):
    pia = patron(record_type="staff")
    assignment = roles.assign_role(pia.id, DESK, [sci.id], datetime.date(2026, 11, 1),
                                   datetime.date(2026, 12, 31), actor=actor_for(UA))
    roles.change_role(assignment.id, libraries=[sci.id, main_library.id],
                      expires_on=datetime.date(2027, 1, 31), actor=actor_for(UA))
    roles.remove_role(assignment.id, actor=actor_for(UA))
    assert history_of(pia) == [
        ("Role", None, f"{DESK} at Science Library, from 2026-11-01, until 2026-12-31"),
        ("Role", f"{DESK} at Science Library, from 2026-11-01, until 2026-12-31",
         f"{DESK} at Main Library, Science Library, until 2027-01-31"),
        ("Role", f"{DESK} at Main Library, Science Library, until 2027-01-31", None),
    ]
    row = History.select().where(History.user == pia.id).first()
    assert (row.actor, row.via, row.at) == (ROLE_LOGINS[UA], "staff",
                                            datetime.datetime(2026, 10, 15, 10, 0))
    assert reload(pia).version == 4


def test_stale_version_is_an_edit_conflict_and_changes_nothing(dbc, day):
    pia = patron(record_type="staff")
    roles.assign_role(pia.id, DESK, actor=actor_for(UA), version=1)
    with pytest.raises(EditConflict):
        roles.assign_role(pia.id, "User Manager", actor=actor_for(GSA), version=1)
    assert held_roles(pia) == [DESK]


# ---------------------------------------------------------------- who may


def test_only_users_admin_gives_roles(dbc, day):
    pia = patron(record_type="staff")
    for role in ("User Manager", "Circulation Desk Manager", DESK):
        with pytest.raises(Forbidden):
            roles.assign_role(pia.id, DESK, actor=actor_for(role))
    assert held_roles(pia) == []


def test_nobody_changes_their_own_roles(dbc, day):
    for role in (GSA, UA):
        me = staff(role)
        before = (held_roles(me), reload(me).version)
        mine = RoleAssignment.get(RoleAssignment.user == me.id)
        with pytest.raises(Forbidden):
            roles.assign_role(me.id, "User Manager", actor=actor_for(role))
        with pytest.raises(Forbidden):
            roles.remove_role(mine.id, actor=actor_for(role))
        with pytest.raises(Forbidden):
            roles.change_role(mine.id, expires_on=datetime.date(2030, 1, 1), actor=actor_for(role))
        with pytest.raises(Forbidden):
            roles.extend_to_next_semester([mine.id], actor=actor_for(role))
        with pytest.raises(Forbidden):
            roles.make_student_worker(me.id, Library.get().id, actor=actor_for(role))
        assert (held_roles(me), reload(me).version) == before
        assert history_of(me) == [("Record", None, "created"), ("Role", None, role)]


def test_a_user_administrator_cannot_give_or_take_the_administrator_roles(dbc, day):
    pia = patron(record_type="staff")
    for role in (GSA, UA):
        with pytest.raises(Forbidden, match="Only a General System Administrator"):
            roles.assign_role(pia.id, role, actor=actor_for(UA))
    assert held_roles(pia) == []
    other_admin = roles.assign_role(pia.id, UA, actor=actor_for(GSA))
    with pytest.raises(Forbidden):
        roles.remove_role(other_admin.id, actor=actor_for(UA))
    with pytest.raises(Forbidden):
        roles.remove_roles([other_admin.id], actor=actor_for(UA))
    assert held_roles(pia) == [UA]
    roles.remove_role(other_admin.id, actor=actor_for(GSA))
    assert held_roles(pia) == []


def test_the_last_active_general_system_administrator_keeps_the_role(dbc, day):
    chief = staff(GSA)
    deputy = patron("DEPUTY", record_type="staff")
    deputy_gsa = roles.assign_role(deputy.id, GSA, actor=actor_for(GSA))
    # The deputy removes the chief's role while the chief, in another tab, removes theirs:
    # the chief's request still carries the permissions it was signed in with.
    chief_acting = actor_for(GSA)
    deputy_acting = Actor(deputy.primary_id, permissions_of(deputy), deputy.id)
    chief_gsa = RoleAssignment.get(RoleAssignment.user == chief.id)
    roles.remove_role(chief_gsa.id, actor=deputy_acting)
    with pytest.raises(Forbidden, match="last active General System Administrator"):
        roles.remove_role(deputy_gsa.id, actor=chief_acting)
    with pytest.raises(Forbidden, match="last active"):
        roles.change_role(deputy_gsa.id, expires_on=datetime.date(2026, 12, 31),
                          actor=chief_acting)
    with pytest.raises(Forbidden, match="last active"):
        roles.remove_roles([deputy_gsa.id], actor=chief_acting)
    assert held_roles(deputy) == [GSA]


def test_an_inactive_administrator_does_not_count(dbc, day):
    deputy = patron("DEPUTY", record_type="staff")
    deputy_gsa = roles.assign_role(deputy.id, GSA, actor=actor_for(GSA))
    User.update(status="inactive").where(User.id == staff(GSA).id).execute()
    with pytest.raises(Forbidden, match="last active"):
        roles.remove_role(deputy_gsa.id, actor=actor_for(GSA))


# ---------------------------------------------------------------- when and where


def test_an_assignment_grants_from_its_start_through_its_expiry_day(dbc, day):
    pia = patron(record_type="staff")
    roles.assign_role(pia.id, DESK, starts_on=datetime.date(2026, 11, 1),
                      expires_on=datetime.date(2026, 12, 31), actor=actor_for(UA))
    expected = {
        datetime.date(2026, 10, 31): frozenset(),
        datetime.date(2026, 11, 1): frozenset({"users.view", "desk.use"}),
        datetime.date(2026, 12, 31): frozenset({"users.view", "desk.use"}),
        datetime.date(2027, 1, 1): frozenset(),
    }
    for when, granted in expected.items():
        day(when)
        assert permissions_of(pia) == granted, when
        assert permissions_of(pia, today=when) == granted, when


def test_a_scoped_role_grants_only_at_its_libraries(dbc, day, sci, main_library):
    pia = patron(record_type="staff")
    roles.assign_role(pia.id, STUDENT_ROLE, [sci.id], actor=actor_for(UA))
    assert permissions_of(pia, library=sci.id) == {"desk.use"}
    assert permissions_of(pia, library=sci) == {"desk.use"}
    assert permissions_of(pia, library=main_library.id) == frozenset()
    assert permissions_of(pia) == {"desk.use"}  # anywhere: may sign in
    assert desk_libraries(pia) == [sci]

    roles.assign_role(pia.id, "User Manager", actor=actor_for(UA))
    assert permissions_of(pia, library=main_library.id) == {"users.view", "users.edit"}
    roles.assign_role(pia.id, DESK, actor=actor_for(UA))
    main_library.is_main = True
    main_library.save()
    assert desk_libraries(pia) == [main_library, sci]


def test_bad_input_is_refused_beside_its_field_and_changes_nothing(dbc, day, sci):
    pia = patron(record_type="staff")
    cases = {
        "role": dict(role="Head Librarian"),
        "libraries": dict(role=DESK, libraries=[sci.id + 100]),
        "expires_on": dict(role=DESK, starts_on=datetime.date(2026, 12, 1),
                           expires_on=datetime.date(2026, 11, 30)),
    }
    for field, kwargs in cases.items():
        with pytest.raises(ValidationError) as refused:
            roles.assign_role(pia.id, actor=actor_for(UA), **kwargs)
        assert field in refused.value.errors
    assert held_roles(pia) == [] and history_of(pia) == []


def test_a_duplicate_assignment_is_refused_but_a_later_semester_is_not(dbc, day, sci):
    pia = patron(record_type="staff")
    roles.assign_role(pia.id, DESK, [sci.id], expires_on=datetime.date(2026, 12, 31),
                      actor=actor_for(UA))
    with pytest.raises(ValidationError) as refused:
        roles.assign_role(pia.id, DESK, [str(sci.id)], actor=actor_for(UA))
    assert "already holds" in refused.value.errors["role"]
    roles.assign_role(pia.id, DESK, actor=actor_for(UA))  # another scope: all libraries
    roles.assign_role(pia.id, DESK, [sci.id], starts_on=datetime.date(2027, 1, 1),
                      actor=actor_for(UA))
    assert held_roles(pia) == [DESK, DESK, DESK]


# ---------------------------------------------------------------- student workers


def test_make_student_worker_gives_the_limited_desk_role_until_the_semester_ends(dbc, day, sci):
    sam = patron("SAM", record_type="staff")
    assignment = roles.make_student_worker(sam.id, sci.id, actor=actor_for(UA))
    assert (assignment.role, assignment.expires_on) == (STUDENT_ROLE, datetime.date(2026, 12, 31))
    assert history_of(sam) == [
        ("Role", None, f"{STUDENT_ROLE} at Science Library, until 2026-12-31")]
    assert permissions_of(sam, library=sci.id) == {"desk.use"}

    day(datetime.date(2027, 3, 1))  # next semester: the same button renews the same role
    roles.make_student_worker(sam.id, sci.id, actor=actor_for(UA))
    assert RoleAssignment.get(RoleAssignment.user == sam.id).expires_on == datetime.date(2027, 7, 31)
    assert held_roles(sam) == [STUDENT_ROLE] and len(history_of(sam)) == 2


def test_semester_ends_come_from_the_settings(dbc, day, sci):
    settings.set_semester_ends(["05-15", "08-20", "12-20"], actor=actor_for(GSA))
    assert settings.current_semester_end(datetime.date(2026, 12, 21)) == datetime.date(2027, 5, 15)
    assert settings.next_semester_end(datetime.date(2026, 8, 20)) == datetime.date(2026, 12, 20)
    sam = patron("SAM")
    with pytest.raises(StaffRecordNeeded):
        roles.make_student_worker(sam.id, sci.id, actor=actor_for(UA))
    assignment = roles.make_student_worker(sam.id, sci.id, actor=actor_for(UA), confirm_staff=True)
    assert assignment.expires_on == datetime.date(2026, 12, 20)
    with pytest.raises(ValidationError):
        settings.set_semester_ends(["02-29", "13-01"], actor=actor_for(GSA))
    with pytest.raises(Forbidden):
        settings.set_semester_ends(["06-30"], actor=actor_for(UA))
    assert settings.semester_ends() == [(5, 15), (8, 20), (12, 20)]


def test_extend_to_next_semester_and_remove_several_student_workers(dbc, day, sci):
    day(datetime.date(2026, 12, 1))
    sam, sue = patron("SAM", "staff"), patron("SUE", "staff")
    ids = [roles.make_student_worker(u.id, sci.id, actor=actor_for(UA)).id for u in (sam, sue)]
    versions = [reload(sam).version, reload(sue).version]
    assert roles.extend_to_next_semester(ids, actor=actor_for(UA)) == 2
    assert [RoleAssignment.get_by_id(i).expires_on for i in ids] == [datetime.date(2027, 7, 31)] * 2
    assert [reload(sam).version, reload(sue).version] == [v + 1 for v in versions]
    assert history_of(sue)[-1] == ("Role", f"{STUDENT_ROLE} at Science Library, until 2026-12-31",
                                   f"{STUDENT_ROLE} at Science Library, until 2027-07-31")
    assert roles.extend_to_next_semester(ids, actor=actor_for(UA)) == 0  # already there

    for holder in (sam, sue):
        sessions.start(holder, "10.1.1.1", "test", idle_minutes=30)
    mine = RoleAssignment.get(RoleAssignment.user == staff(UA).id).id
    with pytest.raises(Forbidden):  # one of them is the admin's own: nothing is removed
        roles.remove_roles(ids + [mine], actor=actor_for(UA))
    assert held_roles(sam) == [STUDENT_ROLE]
    assert [open_sessions(sam), open_sessions(sue)] == [1, 1]
    assert roles.remove_roles(ids, actor=actor_for(UA)) == 2
    assert held_roles(sam) == held_roles(sue) == []
    assert [open_sessions(sam), open_sessions(sue)] == [0, 0]
    assert history_of(sam)[-1] == ("Role", f"{STUDENT_ROLE} at Science Library, until 2027-07-31",
                                   None)


def test_removing_a_role_ends_sessions_and_the_last_one_may_turn_the_record_back(dbc, day):
    pia = patron()
    first = roles.assign_role(pia.id, DESK, actor=actor_for(UA), confirm_staff=True)
    second = roles.assign_role(pia.id, "User Manager", actor=actor_for(UA))
    sessions.start(pia, "10.1.1.1", "test", idle_minutes=30)
    roles.remove_role(first.id, actor=actor_for(UA), revert_to_public=True)
    assert reload(pia).record_type == "staff"  # a role is left: it stays a staff record
    assert open_sessions(pia) == 0
    roles.remove_role(second.id, actor=actor_for(UA), revert_to_public=True)
    assert reload(pia).record_type == "public"
    assert history_of(pia)[-1] == ("Record type", "staff", "public")


# ---------------------------------------------------------------- reviewing


def test_who_can_lists_the_accounts_holding_a_permission_now_and_through_which_role(dbc, day):
    pia = patron("PIA", "staff")
    roles.assign_role(pia.id, UA, expires_on=datetime.date(2026, 10, 14), actor=actor_for(GSA))
    gone = patron("GONE", "staff")
    roles.assign_role(gone.id, UA, actor=actor_for(GSA))
    User.update(status="inactive").where(User.id == gone.id).execute()
    found = {(h.user.primary_id, h.scope.role) for h in roles.who_can("users.admin")}
    assert found == {(ROLE_LOGINS[GSA], GSA), (ROLE_LOGINS[UA], UA)}
    desk = {h.user.primary_id for h in roles.who_can("desk.use")}
    assert desk == {ROLE_LOGINS[r] for r in (GSA, "Circulation Desk Manager", DESK, STUDENT_ROLE)}
    with pytest.raises(ValidationError):
        roles.who_can("everything")


def test_staff_overview_filters_and_flags(dbc, day, sci, main_library):
    sam = patron("SAM", "staff")
    roles.make_student_worker(sam.id, sci.id, actor=actor_for(UA))  # ends 2026-12-31
    old = patron("OLD", "staff")
    roles.assign_role(old.id, DESK, [main_library.id], expires_on=datetime.date(2026, 10, 1),
                      actor=actor_for(UA))
    SignInLog.create(identifier="sam", address="127.0.0.1", event="success", success=True,
                     at=datetime.datetime(2026, 10, 14, 9, 0))
    SignInLog.create(identifier="sam", address="127.0.0.1", event="failure", success=False,
                     at=datetime.datetime(2026, 10, 15, 9, 0))
    everyone = roles.staff_overview()
    assert len(everyone) == len(ROLE_LOGINS) - 1 + 2
    by_id = {h.user.primary_id: h for h in everyone}
    assert by_id["SAM"].last_sign_in == datetime.datetime(2026, 10, 14, 9, 0)
    assert by_id["OLD"].last_sign_in is None
    assert (by_id["OLD"].state, by_id["SAM"].state) == ("expired", "active")
    day(datetime.date(2026, 12, 1))
    assert roles.staff_overview(role=STUDENT_ROLE)[0].state == "expiring"
    assert {h.user.primary_id for h in roles.staff_overview(expiring=True)} == {"SAM", "OLD"}
    at_sci = {h.user.primary_id for h in roles.staff_overview(library=sci.id)}
    assert "SAM" in at_sci and "OLD" not in at_sci and ROLE_LOGINS[GSA] in at_sci
    desk_at_main = {h.user.primary_id for h in roles.staff_overview(role=DESK, library=main_library.id)}
    assert desk_at_main == {"OLD", ROLE_LOGINS[DESK]}


def test_currently_at_is_chosen_among_the_libraries_of_their_roles(dbc, day, sci, main_library):
    law = Library.create(code="LAW", name="Law Library")
    pia = patron(record_type="staff")
    roles.assign_role(pia.id, "User Manager", [law.id], actor=actor_for(UA))
    assert workplaces(pia) == [law]  # no desk role: where the scoped roles are
    roles.assign_role(pia.id, STUDENT_ROLE, [sci.id, main_library.id], actor=actor_for(UA))
    main_library.is_main = True
    main_library.save()
    assert workplaces(pia) == [main_library, law, sci]
    assert current_library(pia) == main_library
    assert current_library(pia, chosen=sci.id) == sci
    assert current_library(pia, chosen=sci.id + 100) == main_library  # not one of theirs
    assert workplaces(staff(UA)) == []  # unscoped roles only, none at the desk


def test_access_says_what_each_permission_allows_and_which_role_gives_it(dbc, day, sci, main_library):
    sam = patron("SAM", "staff")
    roles.make_student_worker(sam.id, sci.id, actor=actor_for(UA))
    access = {a.permission: a for a in roles.access_of(sam, library=sci.id)}
    assert access["desk.use"].held and not access["users.edit"].held
    assert [s.describe() for s in access["desk.use"].through] == [
        f"{STUDENT_ROLE} at Science Library, until 2026-12-31"]
    assert access["users.edit"].roles == (GSA, UA, "User Manager")
    assert not roles.access_of(sam, library=main_library.id)[3].held  # desk.use, elsewhere


def test_synchronization_keeps_a_student_workers_role_and_deactivation_ends_access(dbc, day, sci):
    from webapp.services import sync
    from webapp.services.permissions import SYSTEM
    from webapp.web.security import may_sign_in

    header = b"external_id,primary_id,last_name,user_group\n"
    sync.synchronize(header + b"S9,STU9,Student,Undergraduate\nS10,OTHER,Other,Graduate\n",
                     filename="users.csv", source="SIS", actor=SYSTEM)
    sam = User.get(User.primary_id == "STU9")
    roles.make_student_worker(sam.id, sci.id, actor=actor_for(UA), confirm_staff=True)
    sync.synchronize(header + b"S9,STU9,Renamed,Undergraduate\nS10,OTHER,Other,Graduate\n",
                     filename="users.csv", source="SIS", actor=SYSTEM)
    assert reload(sam).last_name == "Renamed" and held_roles(sam) == [STUDENT_ROLE]
    assert permissions_of(sam, library=sci.id) == {"desk.use"}
    sync.synchronize(header + b"S10,OTHER,Other,Graduate\n", filename="users.csv", source="SIS",
                     actor=SYSTEM, deactivate_missing=True)
    sam = reload(sam)
    assert sam.status == "inactive" and held_roles(sam) == [STUDENT_ROLE]
    assert not may_sign_in(sam, permissions_of(sam, library=sci.id))
    assert "STU9" not in {h.user.primary_id for h in roles.who_can("desk.use")}
