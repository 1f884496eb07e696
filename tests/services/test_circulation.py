"""Circulation service: due dates and the expiry cap, refusals, override, lost and re-link, import."""

import datetime
import threading

import pytest
from peewee import IntegrityError

from webapp.db import db
from webapp.models import Block, History, Item, Library, Loan, LoanPolicy, User
from webapp.services import Forbidden, ValidationError, circulation, clock
from webapp.services.circulation import CirculationRefused
from webapp.services.permissions import Actor

NOW = datetime.datetime(2026, 3, 10, 10, 0)
TODAY = NOW.date()
DESK = Actor("desk1", frozenset({"users.view", "desk.use"}))
MANAGER = Actor("manager1", frozenset({"users.view", "desk.use", "loans.override_expiry"}))
ADMIN = Actor("admin1", frozenset({"system.admin"}))


def at(days, hour=23, minute=59):
    """Return the time DAYS after today at HOUR:MINUTE."""
    return datetime.datetime.combine(TODAY + datetime.timedelta(days=days),
                                     datetime.time(hour, minute))


@pytest.fixture
def fixed_clock(monkeypatch):
    """Fix the services' clock at NOW; return a function that moves it on by days."""
    state = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: state["now"])
    monkeypatch.setattr(clock, "today", lambda: state["now"].date())

    def advance(days):
        state["now"] += datetime.timedelta(days=days)

    return advance


@pytest.fixture
def desk(dbc, patrons, fixed_clock):
    """Items at the main library and the two patrons, expiring far in the future."""
    main = Library.get(Library.code == "MAIN")
    for n in range(1, 6):
        Item.create(barcode=f"BC{n}", barcode_key=f"bc{n}", title=f"Book {n}", library=main)
    User.update(expiry_date=TODAY + datetime.timedelta(days=400)).execute()
    return {"ida": patrons["internal"], "ezra": patrons["external"], "main": main,
            "advance": fixed_clock}


def expire_in(user_id, days):
    User.update(expiry_date=TODAY + datetime.timedelta(days=days)).where(User.id == user_id).execute()


def item(barcode):
    return Item.get(Item.barcode == barcode)


# Policy and cap arithmetic


@pytest.mark.parametrize(("expiry_days", "due_days", "shortened"), [
    (None, 28, False), (400, 28, False), (28, 28, False), (7, 7, True), (1, 1, True),
    (0, 0, True),
])
def test_due_date_is_the_closing_time_of_the_last_day_capped_at_expiry(expiry_days, due_days,
                                                                      shortened):
    expiry = None if expiry_days is None else TODAY + datetime.timedelta(days=expiry_days)
    due = circulation.due_date(LoanPolicy(loan_days=28), NOW, expiry)
    assert due.due_at == at(due_days)
    assert due.policy_due_at == at(28)
    assert due.shortened is shortened


def test_closing_time_setting_moves_the_hour_of_every_due_date():
    expiry = TODAY + datetime.timedelta(days=3)
    due = circulation.due_date(LoanPolicy(loan_days=14), NOW, expiry, closing="17:30")
    assert (due.due_at, due.policy_due_at) == (at(3, 17, 30), at(14, 17, 30))
    with pytest.raises(ValueError):
        circulation.closing_time("half past five")


def test_policy_lookup_prefers_group_and_library_then_group_then_library_then_default(dbc):
    main = Library.get(Library.code == "MAIN")
    law = Library.create(code="LAW", name="Law Library")
    LoanPolicy.create(user_group="Graduate", library=main, loan_days=10)
    LoanPolicy.create(user_group="Graduate", library=None, loan_days=20)
    LoanPolicy.create(user_group="", library=law, loan_days=7)
    assert circulation.policy_for("Graduate", main.id).loan_days == 10
    assert circulation.policy_for("Graduate", law.id).loan_days == 20
    assert circulation.policy_for("Faculty", law.id).loan_days == 7
    assert circulation.policy_for("Faculty", main.id).loan_days == 28  # the default


# Check out


def test_check_out_lends_the_item_due_by_policy_and_writes_history_not_a_version(desk):
    version = User.get_by_id(desk["ida"]).version
    loan = circulation.check_out(DESK, desk["ida"], " bc1 ")
    assert (loan.due_at, loan.shortened, loan.loaned_by) == (at(28), False, "desk1")
    assert item("BC1").status == "on_loan"
    assert [lo.id for lo in circulation.open_loans(desk["ida"])] == [loan.id]
    row = History.get(History.field == f"Loan {loan.id}")
    assert (row.actor, row.via) == ("desk1", "staff")
    assert "checked out BC1" in row.new and "2026-04-07 23:59" in row.new
    assert User.get_by_id(desk["ida"]).version == version


def test_check_out_for_a_patron_expiring_in_a_week_is_due_at_expiry(desk):
    expire_in(desk["ida"], 7)
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    assert loan.shortened and loan.due_at == at(7) and loan.policy_due_at == at(28)
    assert "shortened to the expiry date" in History.get(History.field == f"Loan {loan.id}").new


def test_check_out_on_the_expiry_day_is_due_that_evening_and_the_day_after_is_refused(desk):
    expire_in(desk["ida"], 0)
    assert circulation.check_out(DESK, desk["ida"], "BC1").due_at == at(0)
    desk["advance"](1)
    with pytest.raises(CirculationRefused) as refused:
        circulation.check_out(DESK, desk["ida"], "BC2")
    assert refused.value.code == "expired" and "2026-03-10" in refused.value.reason


def refusal(desk, barcode, patron="ida"):
    """Return the refusal of checking BARCODE out to PATRON; assert nothing changed."""
    before = (Loan.select().count(), list(Item.select(Item.status).tuples()))
    with pytest.raises(CirculationRefused) as refused:
        circulation.check_out(DESK, desk[patron], barcode)
    assert (Loan.select().count(), list(Item.select(Item.status).tuples())) == before
    return refused.value


def test_unknown_barcode_is_refused(desk):
    assert refusal(desk, "NOPE").reason == "No item has the barcode NOPE."


def test_item_on_loan_says_whether_to_this_patron_or_another_without_naming_them(desk):
    circulation.check_out(DESK, desk["ezra"], "BC1")
    here = refusal(desk, "bc1", patron="ezra")
    assert here.code == "on_loan_here" and "already on loan to this patron" in here.reason
    elsewhere = refusal(desk, "BC1")
    assert elsewhere.code == "on_loan_elsewhere"
    assert elsewhere.reason == "The item BC1 is on loan to another patron."


@pytest.mark.parametrize("status", ["lost", "missing"])
def test_lost_or_missing_item_is_refused(desk, status):
    Item.update(status=status).where(Item.barcode == "BC1").execute()
    assert refusal(desk, "BC1").reason == f"The item BC1 is {status}."


def test_inactive_patron_is_refused(desk):
    User.update(status="inactive").where(User.id == desk["ida"]).execute()
    assert refusal(desk, "BC1").code == "inactive"


def test_active_block_is_refused_and_an_expired_one_is_not(desk):
    Block.create(user=desk["ida"], block_type="fine", description="Unpaid fine",
                 expires_on=TODAY - datetime.timedelta(days=1))
    circulation.check_out(DESK, desk["ida"], "BC1")
    Block.create(user=desk["ida"], block_type="fine", description="Unpaid fine")
    blocked = refusal(desk, "BC2")
    assert blocked.code == "blocked" and "Unpaid fine" in blocked.reason


def test_maximum_open_loans_is_refused(desk):
    LoanPolicy.update(max_loans=2).execute()
    circulation.check_out(DESK, desk["ida"], "BC1")
    circulation.check_out(DESK, desk["ida"], "BC2")
    assert refusal(desk, "BC3").code == "max_loans"


def test_check_out_needs_desk_use(desk):
    with pytest.raises(Forbidden):
        circulation.check_out(ADMIN, desk["ida"], "BC1")
    assert not Loan.select().exists()


# Extending past expiry


def test_extend_due_date_needs_the_override_permission(desk):
    expire_in(desk["ida"], 7)
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    with pytest.raises(Forbidden):
        circulation.extend_due_date(DESK, loan.id)
    assert Loan.get_by_id(loan.id).due_at == at(7)
    extended = circulation.extend_due_date(MANAGER, loan.id)
    assert (extended.due_at, extended.extended_by, extended.shortened) == (at(28), "manager1",
                                                                           False)
    row = History.select().where(History.field == f"Loan {loan.id}").order_by(History.id.desc()).get()
    assert row.actor == "manager1" and "extended" in row.new
    with pytest.raises(CirculationRefused):
        circulation.extend_due_date(MANAGER, loan.id)  # nothing left to extend


# Renewals


def test_renew_starts_a_new_loan_period_and_counts_until_used_up(desk):
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    desk["advance"](20)
    renewed = circulation.renew(DESK, loan.id)
    assert (renewed.due_at, renewed.renewals) == (at(48), 1)
    with pytest.raises(CirculationRefused) as refused:
        circulation.renew(DESK, loan.id)
    assert refused.value.code == "too_soon"
    desk["advance"](10)
    assert circulation.renew(DESK, loan.id).due_at == at(58)
    desk["advance"](1)
    with pytest.raises(CirculationRefused) as refused:
        circulation.renew(DESK, loan.id)
    assert refused.value.code == "renewals" and "2 of 2" in refused.value.reason
    assert Loan.get_by_id(loan.id).renewals == 2


def test_renewal_is_capped_at_expiry_and_refused_when_the_cap_leaves_nothing(desk):
    expire_in(desk["ida"], 40)
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    desk["advance"](20)
    renewed = circulation.renew(DESK, loan.id)
    assert renewed.shortened and renewed.due_at == at(40)
    with pytest.raises(CirculationRefused) as refused:
        circulation.renew(DESK, loan.id)
    assert refused.value.code == "capped" and refused.value.loan.id == loan.id
    assert Loan.get_by_id(loan.id).renewals == 1


def test_renew_all_renews_what_it_can_and_says_why_not_for_the_rest(desk):
    first = circulation.check_out(DESK, desk["ida"], "BC1")
    second = circulation.check_out(DESK, desk["ida"], "BC2")
    Loan.update(renewals=2).where(Loan.id == second.id).execute()
    desk["advance"](1)
    results = {loan.id: refused for loan, refused in circulation.renew_all(DESK, desk["ida"])}
    assert results[first.id] is None and results[second.id].code == "renewals"
    assert Loan.get_by_id(first.id).renewals == 1


# Return, lost, found, re-link


def test_return_closes_the_loan_frees_the_item_and_says_if_overdue(desk):
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    desk["advance"](29)
    returned = circulation.return_item(DESK, "bc1")
    assert returned.overdue and returned.patron.id == desk["ida"]
    stored = Loan.get_by_id(loan.id)
    assert (stored.status, stored.returned_at, stored.closed_by) == ("returned", clock.now(), "desk1")
    assert item("BC1").status == "available"
    with pytest.raises(CirculationRefused) as refused:
        circulation.return_item(DESK, "BC1")
    assert refused.value.code == "not_on_loan"


def test_declare_lost_then_relink_with_the_original_dates_then_found(desk):
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    lost = circulation.declare_lost(DESK, loan.id)
    assert (lost.status, item("BC1").status) == ("lost", "lost")
    assert circulation.open_loans(desk["ida"]) == []
    assert [lo.id for lo in circulation.closed_loans(desk["ida"])] == [loan.id]
    assert refusal(desk, "BC1", patron="ezra").code == "lost"
    relinked = circulation.relink(DESK, loan.id)
    assert (relinked.status, relinked.due_at, relinked.loaned_at) == ("open", at(28), NOW)
    assert relinked.relinked_by == "desk1" and item("BC1").status == "on_loan"
    texts = [h.new for h in History.select().where(History.field == f"Loan {loan.id}")]
    assert any("re-linked" in t and "no notice" in t for t in texts)
    circulation.declare_lost(DESK, loan.id)
    found = circulation.found(DESK, loan.id)
    assert (found.status, item("BC1").status) == ("returned", "available")
    with pytest.raises(CirculationRefused):
        circulation.found(DESK, loan.id)


def test_relink_past_expiry_needs_the_override(desk):
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    circulation.declare_lost(DESK, loan.id)
    expire_in(desk["ida"], 10)
    with pytest.raises(Forbidden):
        circulation.relink(DESK, loan.id)  # its original due date is past the expiry now
    with pytest.raises(Forbidden):
        circulation.relink(DESK, loan.id, due_on=TODAY + datetime.timedelta(days=11))
    assert circulation.relink(DESK, loan.id, due_on=TODAY + datetime.timedelta(days=10)).due_at == at(10)
    circulation.declare_lost(DESK, loan.id)
    assert circulation.relink(MANAGER, loan.id, due_on=TODAY + datetime.timedelta(days=28)).due_at == at(28)


def test_relink_is_refused_when_the_item_is_on_loan_again(desk):
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    circulation.declare_lost(DESK, loan.id)
    Item.update(status="available").where(Item.barcode == "BC1").execute()
    circulation.check_out(DESK, desk["ezra"], "BC1")
    with pytest.raises(CirculationRefused):
        circulation.relink(DESK, loan.id)


def test_returning_a_lost_item_closes_its_lost_loan_as_found(desk):
    loan = circulation.check_out(DESK, desk["ida"], "BC1")
    circulation.declare_lost(DESK, loan.id)
    returned = circulation.return_item(DESK, "BC1")
    assert returned.found and returned.patron.id == desk["ida"]
    assert (Loan.get_by_id(loan.id).status, item("BC1").status) == ("returned", "available")


# Anonymization


def test_anonymize_detaches_old_closed_loans_only(desk):
    old = circulation.check_out(DESK, desk["ida"], "BC1")
    lost = circulation.check_out(DESK, desk["ida"], "BC2")
    circulation.return_item(DESK, "BC1")
    circulation.declare_lost(DESK, lost.id)
    desk["advance"](31)
    recent = circulation.check_out(DESK, desk["ida"], "BC3")
    circulation.return_item(DESK, "BC3")
    still_open = circulation.check_out(DESK, desk["ida"], "BC4")
    assert circulation.anonymize_loans(30) == 2
    for loan_id in (old.id, lost.id):
        stored = Loan.get_by_id(loan_id)
        assert stored.user_id is None and stored.item_barcode and stored.loaned_at == NOW
        assert not History.select().where(History.field == f"Loan {loan_id}").exists()
    assert {Loan.get_by_id(i).user_id for i in (recent.id, still_open.id)} == {desk["ida"]}
    assert History.select().where(History.field == "Loans").get().new == "2 closed loans anonymized"
    assert circulation.anonymize_loans(30) == 0


# Concurrency: the database keeps one open loan per item


def test_the_database_refuses_a_second_open_loan_of_one_item(desk):
    circulation.check_out(DESK, desk["ida"], "BC1")
    with pytest.raises(IntegrityError), db.atomic():
        Loan.create(user=desk["ezra"], item=item("BC1"), title="Book 1", item_barcode="BC1",
                    due_at=at(28))


def run_at_once(*actions):
    """Run ACTIONS in threads started together, each on its own connection; return outcomes."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(n, action):
        with db.connection_context():
            barrier.wait()
            try:
                outcomes[n] = action()
            except CirculationRefused as refused:
                outcomes[n] = refused

    threads = [threading.Thread(target=run, args=(n, a)) for n, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_desks_checking_out_one_item_make_exactly_one_loan(desk):
    for barcode in ("BC1", "BC2", "BC3"):
        outcomes = run_at_once(lambda b=barcode: circulation.check_out(DESK, desk["ida"], b),
                               lambda b=barcode: circulation.check_out(DESK, desk["ezra"], b))
        refused = [o for o in outcomes if isinstance(o, CirculationRefused)]
        assert len(refused) == 1 and refused[0].code == "on_loan_elsewhere"
        assert Loan.select().where(Loan.item == item(barcode)).count() == 1


def test_a_return_and_a_checkout_at_once_leave_the_item_consistent(desk):
    for _ in range(3):
        circulation.check_out(DESK, desk["ida"], "BC1")
        run_at_once(lambda: circulation.return_item(DESK, "BC1"),
                    lambda: circulation.check_out(DESK, desk["ezra"], "BC1"))
        open_loans = Loan.select().where((Loan.item == item("BC1")) & (Loan.status == "open"))
        assert item("BC1").status == ("on_loan" if open_loans.exists() else "available")
        assert open_loans.count() <= 1
        if open_loans.exists():
            circulation.return_item(DESK, "BC1")


# What the desk lists


def test_patron_loans_lists_the_newest_first_flags_overdue_and_closed_on_request(desk):
    first = circulation.check_out(DESK, desk["ida"], "BC1")
    desk["advance"](30)
    second = circulation.check_out(DESK, desk["ida"], "BC2")
    listed = circulation.patron_loans(DESK, desk["ida"])
    assert [(line.loan.id, line.overdue) for line in listed.open] == [(second.id, False),
                                                                        (first.id, True)]
    assert listed.closed == []
    circulation.return_item(DESK, "BC1")
    desk["advance"](1)
    circulation.declare_lost(DESK, second.id)
    closed = circulation.patron_loans(DESK, desk["ida"], view="closed")
    assert [loan.id for loan in closed.closed] == [second.id, first.id]
    with pytest.raises(Forbidden):
        circulation.patron_loans(ADMIN, desk["ida"])


def test_returned_list_names_patron_and_overdue_of_each_return(desk):
    on_time = circulation.check_out(DESK, desk["ida"], "BC1")
    late = circulation.check_out(DESK, desk["ezra"], "BC2")
    circulation.return_item(DESK, "BC1")
    desk["advance"](40)
    circulation.return_item(DESK, "BC2")
    listed = circulation.returned_list(DESK, [str(on_time.id), str(late.id), "junk"])
    assert [(r.loan.id, r.patron.id, r.overdue) for r in listed] == [
        (late.id, desk["ezra"], True), (on_time.id, desk["ida"], False)]


def test_an_item_on_loan_keeps_its_status_until_returned(desk):
    circulation.check_out(DESK, desk["ida"], "BC1")
    with pytest.raises(ValidationError, match="on loan"):
        circulation.edit_item(ADMIN, item("BC1").id, {"barcode": "BC1", "title": "Book 1",
                                                       "library": desk["main"].id,
                                                       "status": "missing"})
