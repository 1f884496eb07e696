"""Loans on the Patron Services page: check out, renew, extend past expiry, lost, found, re-link.

Each action answers the loans section again for htmx (focus back on the scan box), or,
without JavaScript, sends the browser back to the patron's page (303); a refusal is
shown in place with its reason: 409 when the item is someone's loan, 422 otherwise.
"""

from flask import current_app, redirect, request, url_for

from webapp.desk.circulation import section
from webapp.desk.forms import relink_due_date, scanned_barcode
from webapp.desk.routes import bp, patron_page
from webapp.services import NotFound, ValidationError, circulation
from webapp.services.circulation import CirculationRefused
from webapp.services.users import get_user
from webapp.web import current_actor, permission_required, render, wants_fragment

# Refusals that are about the state of an item or loan rather than what was typed.
CONFLICTS = {"on_loan_here", "on_loan_elsewhere", "lost", "missing", "closed", "not_lost"}


def _closing():
    """Return the library's closing time setting."""
    return current_app.config["LIBRARY_CLOSING_TIME"]


def _answer(user, status=200, **circ):
    """Answer the loans section (htmx) or the whole Patron Services page."""
    context = section(user, **circ)
    if not wants_fragment():
        return patron_page(user, status, circulation=context)
    return render("desk/index.html", "desk/_loans.html", status, user=user, circulation=context)


def _done(user, loan=None, view="open", notice=None):
    """Answer a change: the section with the shortened-due-date alert when LOAN has one."""
    alert = loan if loan is not None and loan.status == "open" and loan.shortened else None
    if wants_fragment():
        return _answer(user, alert=alert, view=view, notice=notice)
    return redirect(url_for("desk.index", patron=user.id, loans=None if view == "open" else view,
                            shortened=alert.id if alert else None), 303)


def _refused(user, refusal, view="open", **circ):
    """Answer a refusal in place, with the alert when the expiry cap was the reason."""
    status = 409 if refusal.code in CONFLICTS else 422
    alert = refusal.loan if refusal.loan is not None and refusal.loan.shortened else None
    return _answer(user, status, view=view, alert=alert, **circ)


def _loan_and_patron(loan_id):
    """Return (loan, patron) of LOAN_ID, or raise NotFound for an unknown or anonymized loan."""
    loan = circulation.get_loan(loan_id)
    if loan.user_id is None:
        raise NotFound("This loan no longer belongs to a patron.")
    return loan, get_user(loan.user_id)


@bp.route("/patrons/<int:user_id>/loans")
@permission_required("desk.use")
def loans(user_id):
    """Show the patron's open or closed loans (view=closed)."""
    return _answer(get_user(user_id), view=request.args.get("view", "open"))


@bp.route("/patrons/<int:user_id>/loans", methods=["POST"])
@permission_required("desk.use")
def check_out(user_id):
    """Check out the scanned item to the patron; refused with the reason, the barcode kept."""
    user = get_user(user_id)
    barcode = scanned_barcode(request.form)
    try:
        loan = circulation.check_out(current_actor(), user.id, barcode, closing=_closing())
    except CirculationRefused as refusal:
        return _refused(user, refusal, error=refusal.reason, barcode=barcode)
    return _done(user, loan, notice=f"Checked out {loan.item_barcode}, due {_due(loan)}.")


@bp.route("/patrons/<int:user_id>/loans/renew", methods=["POST"])
@permission_required("desk.use")
def renew_all(user_id):
    """Renew every open loan of the patron; say which could not be renewed and why."""
    user = get_user(user_id)
    results = circulation.renew_all(current_actor(), user.id, closing=_closing())
    refusals = [refused for _loan, refused in results if refused is not None]
    shortened = next((loan for loan, refused in results if refused is None and loan.shortened),
                     None)
    renewed = len(results) - len(refusals)
    notice = f"Renewed {renewed} of {len(results)} loans."
    if refusals:
        return _answer(user, 422, alert=shortened, notice=notice,
                       problem=" ".join(r.reason for r in refusals))
    return _done(user, shortened, notice=notice)


def _on_loan(loan_id, act, notice, view="open"):
    """Do ACT(actor, loan id) to loan LOAN_ID; answer the section with NOTICE(loan), or the refusal."""
    loan, user = _loan_and_patron(loan_id)
    try:
        loan = act(current_actor(), loan.id)
    except CirculationRefused as refusal:
        return _refused(user, refusal, view=view, problem=refusal.reason)
    return _done(user, loan, view=view, notice=notice(loan))


def _due(loan):
    """Return LOAN's due date and time as the desk says it."""
    return loan.due_at.strftime("%Y-%m-%d %H:%M")


@bp.route("/loans/<int:loan_id>/renew", methods=["POST"])
@permission_required("desk.use")
def renew(loan_id):
    """Renew one loan from today; refused with the reason when it cannot be."""
    return _on_loan(loan_id, lambda actor, i: circulation.renew(actor, i, closing=_closing()),
                    lambda loan: f"Renewed {loan.item_barcode}, due {_due(loan)}.")


@bp.route("/loans/<int:loan_id>/extend", methods=["POST"])
@permission_required("desk.use")
def extend(loan_id):
    """Extend a loan shortened to the patron's expiry to the policy's date (loans.override_expiry)."""
    return _on_loan(loan_id, circulation.extend_due_date,
                    lambda loan: f"Due date of {loan.item_barcode} extended to {_due(loan)}.")


@bp.route("/loans/<int:loan_id>/lost", methods=["POST"])
@permission_required("desk.use")
def declare_lost(loan_id):
    """Declare a loan lost: it closes as lost and its item becomes lost."""
    return _on_loan(loan_id, circulation.declare_lost,
                    lambda loan: f"{loan.item_barcode} declared lost; see Closed loans.")


@bp.route("/loans/<int:loan_id>/found", methods=["POST"])
@permission_required("desk.use")
def found(loan_id):
    """Close a lost loan as returned: the item turned up."""
    return _on_loan(loan_id, circulation.found,
                    lambda loan: f"{loan.item_barcode} found and returned.", view="closed")


@bp.route("/loans/<int:loan_id>/relink", methods=["POST"])
@permission_required("desk.use")
def relink(loan_id):
    """Re-link a closed lost loan to its patron, due as before or on the date given; no notice."""
    loan, user = _loan_and_patron(loan_id)
    try:
        due_on = relink_due_date(request.form)
        loan = circulation.relink(current_actor(), loan.id, due_on=due_on, closing=_closing())
    except ValidationError as exc:
        return _answer(user, 422, view="closed", problem=" ".join(exc.errors.values()))
    except CirculationRefused as refusal:
        return _refused(user, refusal, view="closed", problem=refusal.reason)
    return _done(user, notice=f"{loan.item_barcode} re-linked to the patron, due {_due(loan)}; "
                              "no notice was sent.")
