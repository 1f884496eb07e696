"""What the desk shows of loans: a patron's open and closed loans, the items returned in a row."""

import dataclasses

from peewee import JOIN

from webapp.models import Loan, User
from webapp.services import clock
from webapp.services.circulation.loans import Returned, closed_loans, open_loans
from webapp.services.fields import as_id
from webapp.services.permissions import require

VIEWS = ("open", "closed")
# How many returns the Return items page keeps listing.
RETURNED_KEPT = 50


@dataclasses.dataclass
class LoanLine:
    """One open loan as the loans table shows it."""

    loan: Loan
    overdue: bool


@dataclasses.dataclass
class PatronLoans:
    """The patron's loans for the desk: the open ones, and the closed ones in the Closed view."""

    user_id: int
    view: str
    open: list
    closed: list


def patron_loans(actor, user_id, view="open"):
    """Return the PatronLoans of patron USER_ID for the desk's VIEW ("open" or "closed")."""
    require(actor, "desk.use")
    view = view if view in VIEWS else "open"
    at = clock.now()
    lines = [LoanLine(loan, loan.due_at < at) for loan in open_loans(user_id)]
    return PatronLoans(user_id, view, lines, closed_loans(user_id) if view == "closed" else [])


def returned_list(actor, loan_ids):
    """Return the Returned entries of the loans LOAN_IDS returned at the desk, newest first."""
    require(actor, "desk.use")
    ids = [as_id(i) for i in loan_ids if as_id(i) is not None][:RETURNED_KEPT]
    if not ids:
        return []
    rows = (Loan.select(Loan, User).join(User, JOIN.LEFT_OUTER, on=(Loan.user == User.id))
            .where(Loan.id.in_(ids) & (Loan.status == "returned"))
            .order_by(Loan.returned_at.desc(), Loan.id.desc()))
    return [Returned(loan, loan.user if loan.user_id else None, loan.returned_at > loan.due_at)
            for loan in rows]
