"""Loan policies and due dates: the loan period, renewals, open-loan limit, closing time, expiry cap."""

import dataclasses
import datetime

from peewee import JOIN

from webapp.db import db
from webapp.models import Library, LoanPolicy
from webapp.services import config_changes
from webapp.services.errors import NotFound, ValidationError
from webapp.services.fields import as_id
from webapp.services.permissions import require

DEFAULT_CLOSING_TIME = datetime.time(23, 59)
# The numbers a policy holds, with their labels and bounds.
POLICY_NUMBERS = {
    "loan_days": ("Loan period (days)", 1, 3650),
    "max_renewals": ("Maximum renewals", 0, 99),
    "max_loans": ("Maximum open loans", 1, 9999),
}


def closing_time(value=None):
    """Return the closing time VALUE gives ("HH:MM", a time, or None for 23:59)."""
    if value is None or value == "":
        return DEFAULT_CLOSING_TIME
    if isinstance(value, datetime.time):
        return value.replace(second=0, microsecond=0)
    try:
        return datetime.datetime.strptime(str(value).strip(), "%H:%M").time()
    except ValueError as exc:
        raise ValueError(f"closing time {value!r} is not HH:MM") from exc


@dataclasses.dataclass(frozen=True)
class DueDate:
    """A loan's due date, and the later date the policy would give without the expiry cap."""

    due_at: datetime.datetime
    policy_due_at: datetime.datetime

    @property
    def shortened(self):
        """Tell whether the patron's expiry date cut the policy's due date short."""
        return self.due_at < self.policy_due_at


def due_date(policy, start, expiry=None, closing=None):
    """Return the DueDate of a loan made or renewed at START under POLICY for a patron expiring EXPIRY.

    The loan is due at the closing time of its last day, START's date plus the loan
    period; past the patron's expiry date it is due at the closing time of that date.
    """
    closing = closing_time(closing)
    policy_due = datetime.datetime.combine(
        start.date() + datetime.timedelta(days=policy.loan_days), closing)
    if expiry is not None:
        cap = datetime.datetime.combine(expiry, closing)
        if cap < policy_due:
            return DueDate(cap, policy_due)
    return DueDate(policy_due, policy_due)


def expiry_cap(expiry, closing=None):
    """Return the latest due date a patron expiring EXPIRY may get without an override, or None."""
    if expiry is None:
        return None
    return datetime.datetime.combine(expiry, closing_time(closing))


def policy_for(user_group, library_id):
    """Return the policy for USER_GROUP at LIBRARY_ID: group and library, group, library, default."""
    candidates = list(LoanPolicy.select().where(
        LoanPolicy.user_group.in_([user_group or "", ""])
        & (LoanPolicy.library.is_null() | (LoanPolicy.library == library_id))))

    def rank(policy):
        return (policy.user_group != (user_group or ""), policy.library_id is None)

    if not candidates:
        return LoanPolicy(user_group="", library=None)  # the model's defaults
    return min(candidates, key=rank)


def list_policies():
    """Return every loan policy: the default first, then by user group and library."""
    return list(LoanPolicy.select(LoanPolicy, Library).join(Library, JOIN.LEFT_OUTER)
                .order_by(LoanPolicy.user_group, Library.code.is_null(False), Library.code))


def get_policy(policy_id):
    """Return the loan policy POLICY_ID, or raise NotFound."""
    policy = LoanPolicy.get_or_none(LoanPolicy.id == policy_id)
    if policy is None:
        raise NotFound(f"no loan policy {policy_id}")
    return policy


def is_default(policy):
    """Tell whether POLICY is the default one (any group, any library)."""
    return policy.user_group == "" and policy.library_id is None


def clean_policy(values):
    """Return (user group, library id, numbers) from form VALUES, or raise ValidationError."""
    errors, numbers = {}, {}
    for name, (label, low, high) in POLICY_NUMBERS.items():
        try:
            number = int(str(values.get(name, "")).strip())
        except ValueError:
            errors[name] = f"{label}: give a whole number."
            continue
        if not low <= number <= high:
            errors[name] = f"{label}: between {low} and {high}."
        numbers[name] = number
    chosen = str(values.get("library") or "").strip()
    library_id = as_id(chosen)
    if chosen and (library_id is None or Library.get_or_none(Library.id == library_id) is None):
        errors["library"] = "Choose a library from the list."
    if errors:
        raise ValidationError(errors)
    return (values.get("user_group") or "").strip(), library_id, numbers


def save_policy(actor, values, policy_id=None):
    """Create a loan policy, or update POLICY_ID, from VALUES; return it."""
    require(actor, "system.admin")
    group, library_id, numbers = clean_policy(values)
    with db.atomic():
        policy = get_policy(policy_id) if policy_id else LoanPolicy()
        if policy_id and is_default(policy):
            group, library_id = "", None  # the default stays the default
        clash = LoanPolicy.select().where(
            (LoanPolicy.user_group == group)
            & (LoanPolicy.library.is_null() if library_id is None
               else LoanPolicy.library == library_id)
            & (LoanPolicy.id != (policy.id or 0))).exists()
        if clash:
            raise ValidationError({"user_group": "A policy for this user group and library exists."})
        before = _described(policy) if policy_id else {}
        policy.user_group, policy.library = group, library_id
        for name, number in numbers.items():
            setattr(policy, name, number)
        policy.save()
        _record(actor, policy, before, _described(policy))
    return policy


def _library_code(policy):
    return Library.get_by_id(policy.library_id).code if policy.library_id else "any library"


def policy_key(policy):
    """Return the name the configuration history gives POLICY: its user group at its library."""
    return f"{policy.user_group or 'any user group'} at {_library_code(policy)}"


def _described(policy):
    """Return {label: value} of POLICY's terms, for the configuration history."""
    texts = {"User group": policy.user_group or "any user group", "Library": _library_code(policy)}
    texts.update((label, getattr(policy, name)) for name, (label, _l, _h) in POLICY_NUMBERS.items())
    return texts


def _record(actor, policy, before, after):
    """Record the changes of POLICY's terms from BEFORE to AFTER (either empty: added, deleted)."""
    config_changes.record(actor, "loan policy", policy_key(policy),
                          [(label, before.get(label), after.get(label))
                           for label in {**before, **after}])


def delete_policy(actor, policy_id):
    """Delete the loan policy POLICY_ID; the default policy stays."""
    require(actor, "system.admin")
    with db.atomic():
        policy = get_policy(policy_id)
        if is_default(policy):
            raise ValidationError({"policy": "The default policy cannot be deleted."})
        _record(actor, policy, _described(policy), {})
        policy.delete_instance()
