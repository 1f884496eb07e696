"""The loans section of the Patron Services page: what its templates need."""

from webapp.services import circulation
from webapp.web import current_actor
from webapp.web.ids import parse_id


def section(user, view="open", alert=None, error=None, barcode="", problem=None, notice=None,
            focus="scan"):
    """Return the loans section's context for USER.

    ALERT is a loan whose due date the patron's expiry shortened (the alert with Ok and,
    for staff who may, Extend due date); ERROR is a checkout refusal shown beside the scan
    box with the BARCODE kept; PROBLEM a refusal of another action; NOTICE what was done.
    """
    return {
        "loans": circulation.patron_loans(current_actor(), user.id, view),
        "alert": alert,
        "error": error,
        "barcode": barcode,
        "problem": problem,
        "notice": notice,
        "focus": focus,
    }


def page_section(user, args):
    """Return the loans section of the Patron Services page as its query ARGS ask (loans=, shortened=)."""
    alert = None
    shortened = parse_id(args.get("shortened"), "shortened")
    if shortened:
        loan = circulation.loan_of_patron(shortened, user.id)
        alert = loan if loan is not None and loan.shortened and loan.status == "open" else None
    return section(user, view=args.get("loans", "open"), alert=alert)
