"""Loans at the desk: check out, return, renew, extend past expiry, lost, found, re-link, anonymize.

Each change runs in one write transaction (BEGIN IMMEDIATE on SQLite) that locks the
item's row first on PostgreSQL, so two desks acting on one item take turns. The partial
unique index loan_one_open_per_item makes "one open loan per item" the database's rule:
a second checkout that slips past the check fails on it and is refused the same way.
Loan events go to the patron's history; they are not edits of the user record, so the
record's version does not move.
"""

import dataclasses
import datetime

from peewee import IntegrityError

from webapp.db import db, is_sqlite
from webapp.models import Block, Item, Loan, User
from webapp.services import clock
from webapp.services.circulation import items, policies
from webapp.services.circulation.events import event_field, forget_events, record_event
from webapp.services.errors import DomainError, NotFound
from webapp.services.permissions import require

VIA = "staff"
OVERRIDE = "loans.override_expiry"


class CirculationRefused(DomainError):
    """The desk may not do this now; ``reason`` says why in the desk's words, nothing changed.

    ``code`` names the case (unknown, on_loan_here, on_loan_elsewhere, lost, missing,
    inactive, expired, blocked, max_loans, renewals, capped, too_soon, not_on_loan, not_lost,
    not_shortened, closed)
    and ``loan`` is the loan concerned, when there is one.
    """

    def __init__(self, reason, code, loan=None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.loan = loan


def stamp(moment):
    """Return MOMENT as the desk shows dates and times."""
    return moment.strftime("%Y-%m-%d %H:%M")


def describe(loan):
    """Return the loan's item as history shows it: barcode and title."""
    return f"{loan.item_barcode} “{loan.title}”"


def write_history(loan, actor, what, at):
    """Record a loan event WHAT in the patron's history, without touching the user record."""
    record_event(loan.user_id, actor.name, VIA, event_field(loan.id), what, at)


def locked_item(item_id):
    """Return item ITEM_ID read for update (a row lock on PostgreSQL; SQLite holds the database lock)."""
    query = Item.select().where(Item.id == item_id)
    return (query if is_sqlite() else query.for_update()).get()


def open_loan_of(item):
    """Return the open loan of ITEM, or None."""
    return Loan.get_or_none((Loan.item == item) & (Loan.status == "open"))


def get_loan(loan_id):
    """Return loan LOAN_ID, or raise NotFound."""
    loan = Loan.get_or_none(Loan.id == loan_id)
    if loan is None:
        raise NotFound(f"no loan {loan_id}")
    return loan


def loan_of_patron(loan_id, user_id):
    """Return loan LOAN_ID if it is patron USER_ID's, else None."""
    return Loan.get_or_none((Loan.id == loan_id) & (Loan.user == user_id))


def patron_refusal(user, on):
    """Return the CirculationRefused that USER's account gives for a loan ON a date, or None."""
    if user.status != "active":
        return CirculationRefused("The patron's account is inactive.", "inactive")
    if user.expiry_date is not None and user.expiry_date < on:
        return CirculationRefused(
            f"The patron's account expired on {user.expiry_date.isoformat()}.", "expired")
    blocked = Block.select().where(
        (Block.user == user.id) & (Block.expires_on.is_null() | (Block.expires_on >= on)))
    block = blocked.first()
    if block is not None:
        what = f": {block.description}" if block.description else ""
        return CirculationRefused(f"The patron has an active block ({block.block_type}){what}.",
                                  "blocked")
    return None


def item_refusal(item, user, barcode):
    """Return the CirculationRefused that ITEM gives for a checkout to USER, or None."""
    if item is None:
        return CirculationRefused(f"No item has the barcode {barcode.strip()}.", "unknown")
    current = open_loan_of(item)
    if current is not None:
        return on_loan_refusal(current, user)
    if item.status in ("lost", "missing"):
        return CirculationRefused(f"The item {item.barcode} is {item.status}.", item.status)
    return None


def on_loan_refusal(current, user):
    """Return the refusal for an item already lent: to this patron, or to another (not named)."""
    if current.user_id == user.id:
        return CirculationRefused(
            f"The item {current.item_barcode} is already on loan to this patron, due "
            f"{stamp(current.due_at)}.", "on_loan_here", current)
    return CirculationRefused(f"The item {current.item_barcode} is on loan to another patron.",
                              "on_loan_elsewhere")


def check_out(actor, user_id, barcode, *, closing=None):
    """Lend the item with BARCODE to patron USER_ID; return the new loan (see loan.shortened)."""
    require(actor, "desk.use")
    with db.atomic():
        user = User.get_by_id(user_id)
        item = items.find_by_barcode(barcode)
        if item is not None:
            item = locked_item(item.id)
        refusal = item_refusal(item, user, barcode or "") or patron_refusal(user, clock.today())
        if refusal:
            raise refusal
        policy = policies.policy_for(user.user_group, item.library_id)
        count = Loan.select().where((Loan.user == user.id) & (Loan.status == "open")).count()
        if count >= policy.max_loans:
            raise CirculationRefused(
                f"The patron has {count} open loans, the most their policy allows.", "max_loans")
        at = clock.now()
        due = policies.due_date(policy, at, user.expiry_date, closing)
        try:
            with db.atomic():
                loan = Loan.create(user=user.id, item=item.id, library=item.library_id,
                                   title=item.title, item_barcode=item.barcode, loaned_at=at,
                                   due_at=due.due_at, policy_due_at=due.policy_due_at,
                                   loaned_by=actor.name)
        except IntegrityError as exc:
            # Another desk lent it between our check and our insert.
            raise on_loan_refusal(open_loan_of(item), user) from exc
        Item.update(status="on_loan", modified_at=at).where(Item.id == item.id).execute()
        write_history(loan, actor, f"checked out {describe(loan)}, due {stamp(loan.due_at)}"
                      + (" (shortened to the expiry date)" if loan.shortened else ""), at)
    return loan


@dataclasses.dataclass
class Returned:
    """A returned loan as the Return items page lists it."""

    loan: Loan
    patron: User | None
    overdue: bool
    found: bool = False  # the item had been declared lost


def return_item(actor, barcode):
    """Check in the item with BARCODE: close its open (or lost) loan and make it available."""
    require(actor, "desk.use")
    with db.atomic():
        item = items.find_by_barcode(barcode)
        if item is None:
            raise CirculationRefused(f"No item has the barcode {(barcode or '').strip()}.",
                                     "unknown")
        item = locked_item(item.id)
        loan = open_loan_of(item)
        if loan is None and item.status == "lost":
            lost = latest_lost_loan(item)
            if lost is not None:
                return Returned(close_found(actor, lost, item), lost.user, False, found=True)
        if loan is None:
            raise CirculationRefused(f"The item {item.barcode} is not on loan.", "not_on_loan")
        at = clock.now()
        overdue = loan.due_at < at
        loan.status, loan.returned_at, loan.closed_at, loan.closed_by = (
            "returned", at, at, actor.name)
        loan.save()
        Item.update(status="available", modified_at=at).where(Item.id == item.id).execute()
        write_history(loan, actor, f"returned {describe(loan)}" + (" (overdue)" if overdue else ""),
                      at)
    return Returned(loan, loan.user, overdue)


def renewal_refusal(loan, user, policy):
    """Return the CirculationRefused for renewing LOAN of USER under POLICY, or None."""
    if loan.status != "open":
        return CirculationRefused("The loan is closed.", "closed", loan)
    if loan.renewals >= policy.max_renewals:
        return CirculationRefused(
            f"{loan.item_barcode}: renewals used up ({loan.renewals} of {policy.max_renewals}).",
            "renewals", loan)
    return patron_refusal(user, clock.today())


def renew_loan(actor, loan, user, closing):
    """Renew LOAN of USER inside the caller's transaction; return it."""
    policy = policies.policy_for(user.user_group, loan.library_id)
    refusal = renewal_refusal(loan, user, policy)
    if refusal:
        raise refusal
    at = clock.now()
    due = policies.due_date(policy, at, user.expiry_date, closing)
    if due.due_at <= loan.due_at:
        if due.shortened:
            raise CirculationRefused(
                f"{loan.item_barcode}: renewing would not move the due date, the patron's "
                f"expiry date is {user.expiry_date.isoformat()}.", "capped", loan)
        raise CirculationRefused(f"{loan.item_barcode}: renewing today would not move the due "
                                 "date.", "too_soon", loan)
    old = loan.due_at
    loan.due_at, loan.policy_due_at, loan.renewals = due.due_at, due.policy_due_at, loan.renewals + 1
    loan.extended_by = loan.extended_at = None
    loan.save()
    write_history(loan, actor, f"renewed {describe(loan)}: due {stamp(old)} → {stamp(loan.due_at)}"
                  + (" (shortened to the expiry date)" if loan.shortened else ""), at)
    return loan


def renew(actor, loan_id, *, closing=None):
    """Renew loan LOAN_ID from today by its policy's loan period; return it (see loan.shortened)."""
    require(actor, "desk.use")
    with db.atomic():
        loan = get_loan(loan_id)
        return renew_loan(actor, loan, loan.user, closing)


def renew_all(actor, user_id, *, closing=None):
    """Renew each open loan of patron USER_ID; return [(loan, refusal or None)]."""
    require(actor, "desk.use")
    results = []
    with db.atomic():
        user = User.get_by_id(user_id)
        open_loans = Loan.select().where((Loan.user == user.id) & (Loan.status == "open"))
        for loan in open_loans.order_by(Loan.due_at, Loan.id):
            try:
                results.append((renew_loan(actor, loan, user, closing), None))
            except CirculationRefused as refusal:
                results.append((loan, refusal))
    return results


def extend_due_date(actor, loan_id):
    """Give loan LOAN_ID, shortened to the patron's expiry, the policy's due date after all."""
    require(actor, "desk.use")
    require(actor, OVERRIDE, "Only a Circulation Desk Manager extends a due date past the "
                             "patron's expiry date.")
    with db.atomic():
        loan = get_loan(loan_id)
        if loan.status != "open" or not loan.shortened:
            raise CirculationRefused("The loan's due date was not shortened.", "not_shortened",
                                     loan)
        at, old = clock.now(), loan.due_at
        loan.due_at, loan.extended_by, loan.extended_at = loan.policy_due_at, actor.name, at
        loan.save()
        write_history(loan, actor, f"due date extended past the expiry date {describe(loan)}: "
                                   f"due {stamp(old)} → {stamp(loan.due_at)}", at)
    return loan


def latest_lost_loan(item):
    """Return the newest lost loan of ITEM, or None."""
    return (Loan.select().where((Loan.item == item) & (Loan.status == "lost"))
            .order_by(Loan.lost_at.desc(), Loan.id.desc()).first())


def declare_lost(actor, loan_id):
    """Close open loan LOAN_ID as lost and mark its item lost; return the loan."""
    require(actor, "desk.use")
    with db.atomic():
        loan = get_loan(loan_id)
        locked_item(loan.item_id)
        if loan.status != "open":
            raise CirculationRefused("Only an open loan can be declared lost.", "closed", loan)
        at = clock.now()
        loan.status, loan.lost_at, loan.closed_at, loan.closed_by = "lost", at, at, actor.name
        loan.save()
        Item.update(status="lost", modified_at=at).where(Item.id == loan.item_id).execute()
        write_history(loan, actor, f"declared lost {describe(loan)}", at)
    return loan


def close_found(actor, loan, item):
    """Close lost LOAN of ITEM as returned and make the item available, in the caller's transaction."""
    at = clock.now()
    loan.status, loan.returned_at, loan.closed_at, loan.closed_by = (
        "returned", at, at, actor.name)
    loan.save()
    if item.status == "lost":
        Item.update(status="available", modified_at=at).where(Item.id == item.id).execute()
    if loan.user_id is not None:
        write_history(loan, actor, f"found {describe(loan)}: the lost loan is closed as returned",
                      at)
    return loan


def found(actor, loan_id):
    """Close lost loan LOAN_ID as returned: the item turned up; return the loan."""
    require(actor, "desk.use")
    with db.atomic():
        loan = get_loan(loan_id)
        item = locked_item(loan.item_id)
        if loan.status != "lost":
            raise CirculationRefused("Only a lost loan can be found.", "not_lost", loan)
        return close_found(actor, loan, item)


def relink(actor, loan_id, *, due_on=None, closing=None):
    """Re-open closed lost loan LOAN_ID for its patron, due as before or on DUE_ON; send no notice."""
    require(actor, "desk.use")
    with db.atomic():
        loan = get_loan(loan_id)
        item = locked_item(loan.item_id)
        if loan.status != "lost" or loan.user_id is None:
            raise CirculationRefused("Only a lost loan of a patron can be re-linked.", "not_lost",
                                     loan)
        if open_loan_of(item) is not None:
            raise CirculationRefused(f"The item {item.barcode} is on loan again.",
                                     "on_loan_elsewhere")
        user = loan.user
        due = loan.due_at
        if due_on is not None:
            due = datetime.datetime.combine(due_on, policies.closing_time(closing))
        cap = policies.expiry_cap(user.expiry_date, closing)
        if cap is not None and due > cap:
            require(actor, OVERRIDE, "The due date is past the patron's expiry date: only a "
                                     "Circulation Desk Manager may give it.")
        at = clock.now()
        loan.status, loan.due_at, loan.relinked_by, loan.relinked_at = "open", due, actor.name, at
        loan.closed_at = loan.closed_by = None
        loan.save()
        Item.update(status="on_loan", modified_at=at).where(Item.id == item.id).execute()
        write_history(loan, actor, f"re-linked to the patron {describe(loan)}, due {stamp(due)}"
                                   " (no notice sent)", at)
    return loan


def open_loans(user_id):
    """Return the patron's open loans, the newest first."""
    return list(Loan.select().where((Loan.user == user_id) & (Loan.status == "open"))
                .order_by(Loan.loaned_at.desc(), Loan.id.desc()))


def closed_loans(user_id, limit=100):
    """Return the patron's closed loans (returned and lost), the most recently closed first."""
    return list(Loan.select().where((Loan.user == user_id) & (Loan.status != "open"))
                .order_by(Loan.closed_at.desc(), Loan.id.desc()).limit(limit))


def anonymize_loans(older_than_days, at=None):
    """Detach closed loans closed more than OLDER_THAN_DAYS ago from their patrons; return how many."""
    at = at or clock.now()
    before = at - datetime.timedelta(days=older_than_days)
    with db.atomic():
        rows = list(Loan.select(Loan.id, Loan.user).where(
            (Loan.status != "open") & Loan.user.is_null(False) & (Loan.closed_at < before)).tuples())
        by_user = {}
        for loan_id, user_id in rows:
            by_user.setdefault(user_id, []).append(loan_id)
        for user_id, loan_ids in by_user.items():
            # The loan events would still tell who borrowed what: they go too.
            forget_events(user_id, loan_ids)
            record_event(user_id, "system", "system", "Loans",
                         f"{len(loan_ids)} closed loans anonymized", at)
            (Loan.update(user=None, anonymized_at=at).where(Loan.id.in_(loan_ids)).execute())
    return len(rows)
