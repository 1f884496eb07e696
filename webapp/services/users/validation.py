"""Checking what a staff member typed: general fields, segments, versions, identifiers."""

import dataclasses
import functools
import re

from email_validator import EmailNotValidError, validate_email

from webapp.models import SEGMENT_MODELS, Identifier, Library, User
from webapp.services import EditConflict, ValidationError
from webapp.services.fields import (
    BOOLEAN_FIELDS,
    DATE_FIELDS,
    GENERAL_FIELDS,
    LABELS,
    REQUIRED,
    SEGMENT_BOOLEANS,
    SEGMENT_DATES,
    SEGMENT_FIELDS,
    SEGMENT_REQUIRED,
    STATUSES,
    TYPE_CHOICES,
    USER_GROUPS,
    as_id,
    max_length,
    parse_date,
    parse_flag,
)


@dataclasses.dataclass
class SegmentChange:
    """One change to a repeatable part: add, update or remove a segment."""

    kind: str
    action: str  # add | update | remove
    values: dict = dataclasses.field(default_factory=dict)
    segment_id: int | None = None
    as_external: bool = False

    def key(self, field):
        """Return the form name of FIELD of this segment, which errors are keyed by."""
        return f"{self.kind}.{self.segment_id if self.segment_id else 'new'}.{field}"


# A plain address: ASCII letters, digits and _ + - in dot-separated words before the @-sign.
# Whether it is valid depends on its domain alone, so each domain is checked once (a
# student body shares a few); any other address goes through the full validator.
_PLAIN = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@([A-Za-z0-9.-]+)")
# The length limits of an address and of the part before the @-sign.
_ADDRESS_MAX, _LOCAL_MAX = 254, 64


def _valid_by_validator(address):
    """Tell whether email_validator accepts ADDRESS (syntax only, no DNS)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _valid_domain(domain):
    """Tell whether email_validator accepts DOMAIN after a plain one-letter part."""
    return _valid_by_validator(f"x@{domain}")


def email_valid(address):
    """Tell whether ADDRESS is an email address as email_validator accepts it."""
    plain = _PLAIN.fullmatch(address)
    if plain and len(address) <= _ADDRESS_MAX and plain.start(1) <= _LOCAL_MAX + 1:
        return _valid_domain(plain.group(1))
    return _valid_by_validator(address)


def check_version(user, version, submitted):
    """Raise EditConflict unless VERSION is the version of USER the form was loaded with."""
    if version is None or as_id(version) != user.version:
        raise EditConflict(user, submitted)


def _convert(field, raw, is_date, cleaned):
    """Store a checkbox or date value in CLEANED; return its error, or None."""
    if not is_date:
        try:
            cleaned[field] = parse_flag(raw)
        except ValueError:
            # A checkbox sends "on" or nothing; anything else is not a tick.
            cleaned[field] = False
        return None
    try:
        cleaned[field] = parse_date(raw)
    except ValueError:
        return "Enter a date as YYYY-MM-DD."
    return None


# The choices of a general field offered as a list, and the message for any other value.
_CHOICES = {"user_group": (USER_GROUPS, "Choose a user group from the list."),
            "status": (STATUSES, "Choose active or inactive.")}


@functools.cache
def _general_rules():
    """Return {field: (date | flag | None, required label, length limit, choices, message)}.

    Worked out once: a first load checks a million values (bench: "sync all new").
    """
    return {field: ("date" if field in DATE_FIELDS else "flag" if field in BOOLEAN_FIELDS else None,
                    LABELS[field] if field in REQUIRED else None, max_length(User, field),
                    *_CHOICES.get(field, (None, None)))
            for field in GENERAL_FIELDS}


def _general_problem(text, required, limit, choices, message):
    """Return the error of a general text field holding TEXT under its rule, or None."""
    if required and not text:
        return f"{required} is required."
    if len(text) > limit:
        return f"Use at most {limit} characters."
    if choices and text not in choices:
        return message
    return None


def _library(text, cleaned, errors):
    if not text:
        cleaned["rs_library"] = None
    elif as_id(text) is None or Library.get_or_none(Library.id == as_id(text)) is None:
        errors["rs_library"] = "Choose a library from the list."
    else:
        cleaned["rs_library"] = as_id(text)


def clean_general(values, user=None):
    """Return VALUES (strings) converted for storage, or raise ValidationError with every error."""
    errors, cleaned = {}, {}
    rules = _general_rules()
    for field, raw in values.items():
        rule = rules.get(field)
        if rule is None:
            continue
        if rule[0]:
            problem = _convert(field, raw, rule[0] == "date", cleaned)
            if problem:
                errors[field] = problem
            continue
        text = "" if raw is None else str(raw).strip()
        if field == "rs_library" and text:
            _library(text, cleaned, errors)
            continue
        problem = _general_problem(text, *rule[1:])
        if problem:
            errors[field] = problem
        elif field == "rs_library":
            cleaned[field] = None
        else:
            cleaned[field] = text
    _check_dates(cleaned, user, errors)
    _check_primary(cleaned, user, errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_dates(cleaned, user, errors):
    expiry = cleaned.get("expiry_date", user.expiry_date if user else None)
    purge = cleaned.get("purge_date", user.purge_date if user else None)
    if expiry and purge and purge < expiry and "purge_date" not in errors:
        errors["purge_date"] = "The purge date cannot be before the expiry date."


def _check_primary(cleaned, user, errors):
    unchanged = user is not None and cleaned.get("primary_id") == getattr(user, "primary_id", None)
    if "primary_id" in cleaned and not errors.get("primary_id") and not unchanged:
        problem = identifier_taken(cleaned["primary_id"], user, for_primary=True)
        if problem:
            errors["primary_id"] = problem


def identifier_taken(value, user=None, *, segment_id=None, for_primary=False):
    """Return a message if VALUE identifies another user (or twice this one), else None."""
    owner = User.get_or_none(User.primary_id == value)
    if owner is not None and (user is None or owner.id != user.id):
        return "Another user already has this identifier."
    ident = Identifier.get_or_none(Identifier.value == value)
    if ident is None or ident.id == segment_id:
        return None
    if user is None or ident.user_id != user.id:
        return "Another user already has this identifier."
    return None if for_primary else "This user already has this identifier."


@functools.cache
def _segment_rules(kind):
    """Return how each field of KIND is checked: (field, is a date, length limit, choices).

    A flag or a date has no limit. Worked out once per kind: a first load checks half a
    million segments (bench: "sync all new").
    """
    model = SEGMENT_MODELS[kind]
    return tuple((field, True, None, None) if field in SEGMENT_DATES else
                 (field, False, None, None) if field in SEGMENT_BOOLEANS else
                 (field, False, max_length(model, field), TYPE_CHOICES.get(field))
                 for field in SEGMENT_FIELDS[kind])


def segment_problems(kind, values, *, adding):
    """Return (cleaned values, {field: error}) of the typed VALUES of a segment of KIND.

    ADDING: a new segment needs every required field; an update only those it sends.
    Nothing here reads the database (a synchronization checks a file's identifiers for a
    whole chunk at once).
    """
    errors, cleaned = {}, {}
    for field, is_date, limit, choices in _segment_rules(kind):
        if field not in values:
            continue
        raw = values[field]
        if limit is None:
            problem = _convert(field, raw, is_date, cleaned)
            if problem:
                errors[field] = problem
            continue
        text = "" if raw is None else str(raw).strip()
        if len(text) > limit:
            errors[field] = f"Use at most {limit} characters."
        elif choices and text and text not in choices:
            errors[field] = "Choose a type from the list."
        else:
            cleaned[field] = text
    for field in SEGMENT_REQUIRED[kind]:
        missing = not cleaned.get(field) if adding else (field in cleaned and not cleaned[field])
        if missing and field not in errors:
            errors[field] = f"{SEGMENT_FIELDS[kind][field]} is required."
    if kind == "emails" and cleaned.get("address") and "address" not in errors \
            and not email_valid(cleaned["address"]):
        errors["address"] = "Enter an email address such as name@example.org."
    return cleaned, errors


def clean_segment(change, user=None):
    """Return the cleaned values of a segment change, or raise ValidationError."""
    cleaned, problems = segment_problems(change.kind, change.values, adding=change.action == "add")
    errors = {change.key(field): message for field, message in problems.items()}
    if change.kind == "identifiers" and cleaned.get("value") and "value" not in problems:
        problem = identifier_taken(cleaned["value"], user, segment_id=change.segment_id)
        if problem:
            errors[change.key("value")] = problem
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_changes(changes, user=None, errors=None):
    """Return [(change, cleaned values)] for CHANGES, adding every problem to ERRORS."""
    errors = {} if errors is None else errors
    cleaned_segments = []
    for change in changes:
        try:
            cleaned_segments.append((change, clean_segment(change, user)))
        except ValidationError as exc:
            errors.update(exc.errors)
    _check_preferred(cleaned_segments, errors)
    _check_new_identifiers_distinct(cleaned_segments, errors)
    return cleaned_segments


def _check_preferred(cleaned_segments, errors):
    """Add an error where a change would leave more than one preferred entry of a kind."""
    for kind in ("emails", "phones", "addresses"):
        marked = [c for c, v in cleaned_segments if c.kind == kind and v.get("preferred")]
        if len(marked) > 1:
            errors[marked[1].key("preferred")] = "Only one entry can be preferred."


def _check_new_identifiers_distinct(cleaned_segments, errors):
    seen = {}
    for change, values in cleaned_segments:
        if change.kind == "identifiers" and values.get("value"):
            folded = values["value"].lower()
            if folded in seen:
                errors[change.key("value")] = "The same identifier is entered twice."
            seen[folded] = change
