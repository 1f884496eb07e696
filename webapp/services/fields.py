"""The field catalogue: which fields exist, who manages them, their labels and limits.

Every other module (users, sync, search, desk, demo, templates) reads these names from
here, and converts values to and from text with the one pair of functions below.
"""

import datetime
import functools

# Fields whose value comes from the source system on an external account.
SOURCE_MANAGED = (
    "primary_id",
    "first_name",
    "middle_name",
    "last_name",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
    "birth_date",
    "status",
    "expiry_date",
    "purge_date",
)
# Editable without Open for Update; a manual edit is kept at synchronization.
LIBRARY_MANAGED = (
    "user_group",
    "campus",
    "job_category",
    "preferred_language",
    "title",
    "rs_library",
    "notices_opt_in",
)
GENERAL_FIELDS = SOURCE_MANAGED + LIBRARY_MANAGED

LABELS = {
    "primary_id": "Primary identifier",
    "first_name": "First name",
    "middle_name": "Middle name",
    "last_name": "Last name",
    "pref_first_name": "Preferred first name",
    "pref_middle_name": "Preferred middle name",
    "pref_last_name": "Preferred last name",
    "title": "Title",
    "birth_date": "Birth date",
    "user_group": "User group",
    "status": "Status",
    "expiry_date": "Expiry date",
    "purge_date": "Purge date",
    "campus": "Campus",
    "rs_library": "Resource sharing library",
    "job_category": "Job category",
    "preferred_language": "Preferred language",
    "notices_opt_in": "Library notices",
    "record_type": "Record type",
    "account_type": "Account type",
    "source": "Source system",
    "external_id": "External ID",
    "password": "Password",
    "pin": "PIN",
}

USER_GROUPS = ("Undergraduate", "Graduate", "Faculty", "Staff", "Community")
STATUSES = ("active", "inactive")
DATE_FIELDS = ("birth_date", "expiry_date", "purge_date")
REQUIRED = ("primary_id", "last_name", "user_group")
BOOLEAN_FIELDS = ("notices_opt_in",)

# Segment kinds: editable fields, required ones, and a label for each.
SEGMENT_FIELDS = {
    "identifiers": {"id_type": "Type", "value": "Value", "note": "Note"},
    "emails": {"address": "Email address", "email_type": "Type", "preferred": "Preferred"},
    "phones": {"number": "Phone number", "phone_type": "Type", "preferred": "Preferred"},
    "addresses": {
        "line1": "Address line 1",
        "line2": "Address line 2",
        "city": "City",
        "region": "State or region",
        "postal_code": "Postal code",
        "country": "Country",
        "address_type": "Type",
        "preferred": "Preferred",
    },
    "notes": {"note_type": "Type", "text": "Note", "show_at_desk": "Show at the desk"},
    "blocks": {"block_type": "Type", "description": "Description", "expires_on": "Expires on"},
}
SEGMENT_REQUIRED = {
    "identifiers": ("id_type", "value"),
    "emails": ("address",),
    "phones": ("number",),
    "addresses": ("line1", "city"),
    "notes": ("text",),
    "blocks": ("block_type",),
}
SEGMENT_LABELS = {
    "identifiers": "Identifier",
    "emails": "Email",
    "phones": "Phone",
    "addresses": "Address",
    "notes": "Note",
    "blocks": "Block",
}
SEGMENT_BOOLEANS = ("preferred", "show_at_desk")
SEGMENT_DATES = ("expires_on",)
IDENTIFIER_TYPES = ("barcode", "university_id", "library_card", "other")
TYPE_CHOICES = {
    "id_type": IDENTIFIER_TYPES,
    "email_type": ("personal", "school", "work", "other"),
    "phone_type": ("mobile", "home", "work", "other"),
    "address_type": ("home", "school", "work", "other"),
    "note_type": ("general", "circulation", "registrar", "other"),
    "block_type": ("general", "overdue", "fines", "registrar", "other"),
}

# How untrusted text is checked (services/text.py), a segment field named "kind.field":
# every field holds one line of text except the multi-line ones (tabs and line breaks
# allowed); names and identifiers refuse bidirectional overrides as well; secrets are
# checked but kept as typed.
MULTILINE_FIELDS = frozenset({"notes.text", "addresses.line1", "addresses.line2"})
NAME_FIELDS = frozenset({"first_name", "middle_name", "last_name", "pref_first_name",
                         "pref_middle_name", "pref_last_name"})
IDENTIFIER_FIELDS = frozenset({"primary_id", "external_id", "source", "identifiers.value",
                               "emails.address", "phones.number", "identifier", "barcode",
                               "filename"})
SECRET_FIELDS = frozenset({"password", "password_confirm", "current_password", "new_password", "pin"})

# Provenance states of a field edited on an external account.
TEMPORARY = "temporary"
PROTECTED = "protected"

# Texts a checkbox, a CSV cell or a JSON value may use for yes and for no.
TRUE_TEXTS = frozenset({"yes", "y", "true", "1", "on"})
FALSE_TEXTS = frozenset({"no", "n", "false", "0", "off", ""})


@functools.cache
def max_length(model, field):
    """Return the longest text FIELD of MODEL holds."""
    return getattr(model._meta.fields[field], "max_length", None) or 10000


def parse_flag(value):
    """Return VALUE (a bool, None or a text such as 'yes', 'on', '0') as a bool, or raise ValueError."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in TRUE_TEXTS:
            return True
        if folded in FALSE_TEXTS:
            return False
    raise ValueError("Enter yes or no.")


def parse_date(text):
    """Return the date written as YYYY-MM-DD in TEXT, None for an empty text, or raise ValueError."""
    text = "" if text is None else str(text).strip()
    return datetime.date.fromisoformat(text) if text else None


def to_text(value):
    """Return a stored value as text: '' for None, 'yes'/'no' for a flag, YYYY-MM-DD for a date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def history_text(value):
    """Return VALUE as the history stores it: None stays None, everything else to_text()."""
    return None if value is None else to_text(value)


def from_text(field, text):
    """Turn TEXT (as to_text() wrote it) back into FIELD's stored type."""
    if text is None:
        return None
    if field in DATE_FIELDS or field in SEGMENT_DATES:
        return parse_date(text)
    if field in BOOLEAN_FIELDS or field in SEGMENT_BOOLEANS:
        return parse_flag(text)
    if field == "rs_library":
        return as_id(text)
    return text


# Record ids are 4-byte on PostgreSQL (SERIAL keys, INTEGER foreign keys), 8 on SQLite.
MAX_ID = 2**31 - 1


def as_id(value):
    """Return VALUE (text or int) as a record id in 1..MAX_ID, or None when it is not one.

    A number past the id columns' range would raise in the database driver (SQLite's
    OverflowError, PostgreSQL's "integer out of range") instead of finding nothing.
    """
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    # str.isdigit() admits "²" and other digits that int() refuses: ASCII digits only.
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def describe_segment(kind, values):
    """Return a segment of KIND (a mapping of its fields and 'segment') as the history shows it."""
    fields = SEGMENT_FIELDS[kind]
    parts = [str(values.get(f)) for f in fields
             if values.get(f) not in (None, "", False) and f not in SEGMENT_BOOLEANS]
    parts.extend(fields[flag].lower() for flag in SEGMENT_BOOLEANS
                 if flag in fields and values.get(flag))
    parts.append(f"({values['segment']})")
    return ", ".join(parts)
