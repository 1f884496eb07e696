"""Fulfillment › Checkout/Checkin › Return items: scan barcodes in a row."""

from flask import Blueprint, request

from webapp.circulation.forms import returned_ids, scanned_barcode
from webapp.services import circulation
from webapp.services.circulation import CirculationRefused
from webapp.web import current_actor, permission_required, render

bp = Blueprint("circulation", __name__)


def _return_page(status=200, returned=(), error=None, barcode="", last=None):
    """Render the Return items page, or its desk section for htmx."""
    listed = circulation.returned_list(current_actor(), returned)
    return render("circulation/return.html", "circulation/_return.html", status,
                  returned=listed, error=error, barcode=barcode, last=last)


@bp.route("/circulation/return")
@permission_required("desk.use")
def return_items():
    """Show the Return items page with its scan box."""
    return _return_page()


@bp.route("/circulation/return", methods=["POST"])
@permission_required("desk.use")
def return_scan():
    """Return the scanned item; list it at the top with its patron and whether it was overdue."""
    earlier = returned_ids(request.form)
    barcode = scanned_barcode(request.form)
    try:
        done = circulation.return_item(current_actor(), barcode)
    except CirculationRefused as refusal:
        return _return_page(409 if refusal.code == "not_on_loan" else 422, earlier,
                            error=refusal.reason, barcode=barcode)
    return _return_page(returned=[str(done.loan.id), *earlier], last=done)
