"""Build and write the search_entry rows a user is found by.

Rows of kind NAME hold every prefix of every word a user is known by (name words and the
leading word of each email); rows of kind IDENTIFIER and EMAIL hold whole folded values.
Each row carries the user's sort key and filter flags, so counting and ordering thousands
of matches never visits the user table.
"""

import re

from peewee import chunked
from unidecode import unidecode

from webapp.db.sql import delete_rows, insert_rows, select_in
from webapp.models import Email, Identifier, SearchEntry, User
from webapp.services.fields import SOURCE_MANAGED
from webapp.services.permissions import ROLES

WORD = re.compile(r"[a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# first, middle, last, then the preferred three.
NAME_FIELDS = tuple(field for field in SOURCE_MANAGED if field.endswith("_name"))

# search_entry kinds.
NAME, IDENTIFIER, EMAIL = 0, 1, 2
# Tiers of the ranking: exact identifier, last-name prefix, the rest.
EXACT, LAST_NAME, OTHER = 0, 1, 2
# Filter flags: one bit per filterable field, in the value that sets it.
FLAGS = {"account_type": ("external", 1), "record_type": ("staff", 2), "status": ("inactive", 4)}
FILTER_VALUES = {
    "account_type": ("internal", "external"),
    "record_type": ("public", "staff"),
    "status": ("active", "inactive"),
    # Alma's Role filter: users holding an assignment of that role.
    "role": tuple(ROLES),
}
# Users per statement: 500 ids, or their rows, stay far below every database's
# parameter limit.
CHUNK = 500
# Read and written with the SQL helpers, not peewee queries: peewee builds a statement of
# 3,000 values far slower than SQLite runs it, and turns each row it reads into Python
# objects (bench: "generated in", 84 s with insert_many against 6 s for 20,000 patrons;
# "sync all new", 76 s against 6 s). The names still come from the model.
_TABLE = SearchEntry._meta.table_name
_KEY = tuple(SearchEntry._meta.fields[f].column_name for f in SearchEntry._meta.primary_key.field_names)
_COLUMNS = (*_KEY, "tier", "flags")


def normalize(text):
    """Return TEXT folded for matching: accents removed, lower case, trimmed."""
    text = text or ""
    return (text if text.isascii() else unidecode(text)).lower().strip()


def fold(text):
    """Return TEXT folded for the search index: normalized, without control characters."""
    return _CONTROL.sub("", normalize(text)).strip()


def name_words(text):
    """Return the normalized words of a name."""
    return WORD.findall(normalize(text))


def email_word(address):
    """Return the word an email address starts with ('ada' for ada.l@x.org), or ''."""
    match = WORD.match(fold(address))
    return match.group() if match else ""


def sort_key(last, first):
    """Return the key users are listed by: folded last name, then first name."""
    return f"{fold(last)}\x1f{fold(first)}"


def flags_of(account_type, record_type, status):
    """Return the filter flags of a user with these values."""
    values = {"account_type": account_type, "record_type": record_type, "status": status}
    return sum(bit for field, (value, bit) in FLAGS.items() if values[field] == value)


def _prefixes(words):
    """Return every prefix of every one of WORDS."""
    return {word[:end] for word in words for end in range(1, len(word) + 1)}


def index_rows(names, primary_id, identifiers, emails):
    """Return the search_entry rows (kind, term, tier, sort key) of one user.

    NAMES maps each of NAME_FIELDS to its value.
    """
    field_words = {field: name_words(names[field]) for field in NAME_FIELDS}
    shown_last = "pref_last_name" if names["pref_last_name"] else "last_name"
    shown_first = names["pref_first_name"] or names["first_name"]
    key = sort_key(names[shown_last], shown_first)
    words = {word for found in field_words.values() for word in found}
    identifier_terms = [normalize(v) for v in (primary_id, *identifiers)]
    email_terms = [normalize(v) for v in emails]
    last_prefixes = _prefixes(field_words[shown_last])
    found_by = words | {email_word(address) for address in email_terms} - {""}
    entries = [(NAME, prefix, LAST_NAME if prefix in last_prefixes else OTHER, key)
               for prefix in _prefixes(found_by)]
    folded = {(IDENTIFIER, _CONTROL.sub("", t).strip()) for t in identifier_terms}
    folded |= {(EMAIL, _CONTROL.sub("", t).strip()) for t in email_terms}
    entries.extend((kind, term, OTHER, key) for kind, term in folded if term)
    return entries


def _by_user(rows):
    """Return {user_id: [value]} of (user_id, value) ROWS."""
    found = {}
    for user_id, value in rows:
        found.setdefault(user_id, []).append(value)
    return found


# The user columns an index row is made of, in the order _rows_of takes them.
USER_COLUMNS = ("id", "primary_id", "account_type", "record_type", "status", *NAME_FIELDS)


def _rows_of(users, identifiers, emails):
    """Return the search_entry rows, as column tuples, of USERS (tuples of USER_COLUMNS).

    IDENTIFIERS and EMAILS map a user id to that user's identifier values and addresses.
    """
    rows = []
    for user_id, primary_id, account, record, status, *names in users:
        flags = flags_of(account, record, status)
        user_rows = index_rows(dict(zip(NAME_FIELDS, names, strict=True)), primary_id,
                               identifiers.get(user_id, ()), emails.get(user_id, ()))
        rows.extend((kind, term, key, user_id, tier, flags)
                    for kind, term, tier, key in user_rows)
    return rows


def _wanted_rows(chunk):
    """Return the search_entry rows, as column tuples, the users in CHUNK should have."""
    identifiers = _by_user(select_in(Identifier._meta.table_name, ("user_id", "value"),
                                     "user_id", chunk))
    emails = _by_user(select_in(Email._meta.table_name, ("user_id", "address"), "user_id", chunk))
    return _rows_of(select_in(f'"{User._meta.table_name}"', USER_COLUMNS, "id", chunk),
                    identifiers, emails)


def _write(chunk, wanted):
    """Bring the search_entry rows of the users in CHUNK to WANTED, writing only what differs.

    A row whose tier or flags changed is deleted and inserted again.
    """
    present = set(map(tuple, select_in(_TABLE, _COLUMNS, "user_id", chunk)))
    wanted = set(wanted)
    delete_rows(_TABLE, _KEY, sorted(row[: len(_KEY)] for row in present - wanted))
    insert_rows(_TABLE, _COLUMNS, sorted(wanted - present))


def index_users(user_ids):
    """Rebuild the search index of the given users; call inside the change's transaction."""
    # Rows of unchanged users stay as they are: a synchronization that re-sends the same
    # names, identifiers and emails writes nothing here.
    for chunk in chunked(sorted(set(user_ids)), CHUNK):
        _write(chunk, _wanted_rows(chunk))


def index_new_users(users, identifiers, emails):
    """Write the search index of users created in this transaction, from what was written.

    USERS are tuples of USER_COLUMNS; IDENTIFIERS and EMAILS map a user id to its values.
    A new user has no rows yet, so nothing is read back (bench: "sync all new").
    """
    insert_rows(_TABLE, _COLUMNS, sorted(set(_rows_of(users, identifiers, emails))))
