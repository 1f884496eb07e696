"""What the circulation pages' forms sent, as the circulation service takes it."""

from webapp.services.circulation import CSV_COLUMNS, EDITABLE_STATUSES, POLICY_NUMBERS
from webapp.web.ids import parse_ids

ITEM_FIELDS = tuple(c for c in CSV_COLUMNS if c != "library") + ("library", "status")
POLICY_FIELDS = ("user_group", "library", *POLICY_NUMBERS)


def scanned_barcode(form):
    """Return the barcode scanned or typed into the Return items box."""
    return (form.get("barcode") or "").strip()[:50]


def returned_ids(form):
    """Return the loan ids the Return items page listed before this scan."""
    return parse_ids(form.getlist("returned"), "returned")


def item_values(form):
    """Return the item form's values, each as typed."""
    values = {name: (form.get(name) or "").strip() for name in ITEM_FIELDS}
    if values["status"] not in EDITABLE_STATUSES:
        values["status"] = None
    return values


def item_values_of(item):
    """Return ITEM's values as the item form shows them."""
    return {"barcode": item.barcode, "title": item.title, "author": item.author,
            "call_number": item.call_number, "library": str(item.library_id),
            "status": item.status}


def policy_values(form):
    """Return the loan policy form's values, each as typed."""
    return {name: (form.get(name) or "").strip() for name in POLICY_FIELDS}


def policy_values_of(policy=None):
    """Return POLICY's values as the policy form shows them (a new policy: the model's defaults)."""
    if policy is None:
        return {"user_group": "", "library": "", "loan_days": "28", "max_renewals": "2",
                "max_loans": "20"}
    return {"user_group": policy.user_group, "library": str(policy.library_id or ""),
            **{name: str(getattr(policy, name)) for name in POLICY_NUMBERS}}
