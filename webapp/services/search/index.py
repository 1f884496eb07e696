"""Build and write the search_entry rows a user is found by.

The words a user is known by (name words and the leading word of each email) are grouped
by their first HEAD letters: one row of kind NAME per group, its term those letters, with
the group's words (and those of the shown last name) for longer prefixes to be matched
against. Rows of kind IDENTIFIER and EMAIL hold whole folded values. Each row carries the
user's sort key and filter flags, so counting and ordering thousands of matches never
visits the user table.
"""

import functools
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
# Where the names a user is listed by sit in NAME_FIELDS: the preferred ones when given.
_FIRST, _LAST, _PREF_FIRST, _PREF_LAST = map(NAME_FIELDS.index, (
    "first_name", "last_name", "pref_first_name", "pref_last_name"))

# search_entry kinds.
NAME, IDENTIFIER, EMAIL = 0, 1, 2
# Letters of a NAME row's term: a user has about one row per name word, not one per prefix
# of it (bench: "sync all new", 42 s with every prefix), and a word of HEAD letters or fewer
# still finds its users in list order from the key alone.
HEAD = 2
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
_COLUMNS = (*_KEY, "tier", "flags", "words", "last_words")


def normalize(text):
    """Return TEXT folded for matching: accents removed, lower case, trimmed."""
    text = text or ""
    return (text if text.isascii() else unidecode(text)).lower().strip()


def _clean(text):
    """Return normalized TEXT (ASCII, so printable unless it holds one) without its control characters."""
    return text if text.isprintable() else _CONTROL.sub("", text).strip()


def fold(text):
    """Return TEXT folded for the search index: normalized, without control characters."""
    return _clean(normalize(text))


def name_words(text):
    """Return the normalized words of a name."""
    return WORD.findall(normalize(text))


def email_word(address):
    """Return the word an email address starts with ('ada' for ada.l@x.org), or ''."""
    match = WORD.match(fold(address))
    return match.group() if match else ""


@functools.cache
def flags_of(account_type, record_type, status):
    """Return the filter flags of a user with these values."""
    values = {"account_type": account_type, "record_type": record_type, "status": status}
    return sum(bit for field, (value, bit) in FLAGS.items() if values[field] == value)


def spaced(words):
    """Return WORDS as a NAME row holds them: sorted, each after a space (" ada lovelace")."""
    if len(words) == 1:
        return f" {words[0]}"
    return "".join([f" {word}" for word in sorted(words)])


@functools.lru_cache(maxsize=1 << 16)
def _name(text):
    """Return (folded, words) of one name: names repeat across users, each is folded once."""
    normalized = normalize(text)
    return _clean(normalized), frozenset(WORD.findall(normalized))


def _user_rows(user_id, flags, names, values, emails):
    """Return the search_entry rows, as column tuples, of one user.

    NAMES are the values of NAME_FIELDS in order; VALUES the primary identifier and the
    other identifiers; EMAILS the addresses. Each name is folded once for all users who
    bear it, each other text once (bench: "sync all new").
    """
    parts = [_name(name) for name in names]
    last, last_words = parts[_PREF_LAST if names[_PREF_LAST] else _LAST]
    first = parts[_PREF_FIRST if names[_PREF_FIRST] else _FIRST][0]
    key = f"{last}\x1f{first}"
    email_terms = [fold(address) for address in emails]
    words = set().union(*[words for _, words in parts])
    words.update(match.group() for match in map(WORD.match, email_terms) if match)
    heads = {}
    for word in words:
        heads.setdefault(word[:HEAD], []).append(word)
    rows = []
    for head, group in heads.items():
        in_last = [word for word in group if word in last_words]
        rows.append((NAME, head, key, user_id, LAST_NAME if in_last else OTHER, flags,
                     spaced(group), spaced(in_last) if in_last else ""))
    terms = {(IDENTIFIER, fold(value)) for value in values}
    terms.update((EMAIL, term) for term in email_terms)
    rows.extend((kind, term, key, user_id, OTHER, flags, "", "") for kind, term in terms if term)
    return rows


def _by_user(rows):
    """Return {user_id: [value]} of (user_id, value) ROWS."""
    found = {}
    for user_id, value in rows:
        found.setdefault(user_id, []).append(value)
    return found


# The user columns an index row is made of, in the order _wanted_rows takes them.
USER_COLUMNS = ("id", "primary_id", "account_type", "record_type", "status", *NAME_FIELDS)


def _wanted_rows(chunk):
    """Return the search_entry rows, as column tuples, the users in CHUNK should have."""
    identifiers = _by_user(select_in(Identifier._meta.table_name, ("user_id", "value"),
                                     "user_id", chunk))
    emails = _by_user(select_in(Email._meta.table_name, ("user_id", "address"), "user_id", chunk))
    rows = []
    for user_id, primary_id, account, record, status, *names in select_in(
            f'"{User._meta.table_name}"', USER_COLUMNS, "id", chunk):
        rows.extend(_user_rows(user_id, flags_of(account, record, status), names,
                               (primary_id, *identifiers.get(user_id, ())), emails.get(user_id, ())))
    return rows


def _write(chunk, wanted):
    """Bring the search_entry rows of the users in CHUNK to WANTED, writing only what differs.

    A row whose tier or flags changed is deleted and inserted again.
    """
    present = set(map(tuple, select_in(_TABLE, _COLUMNS, "user_id", chunk)))
    wanted = set(wanted)
    delete_rows(_TABLE, _KEY, sorted(row[: len(_KEY)] for row in present - wanted))
    insert_rows(_TABLE, _COLUMNS, sorted(wanted - present), scattered=True)


def index_users(user_ids):
    """Rebuild the search index of the given users; call inside the change's transaction."""
    # Rows of unchanged users stay as they are: a synchronization that re-sends the same
    # names, identifiers and emails writes nothing here.
    for chunk in chunked(sorted(set(user_ids)), CHUNK):
        _write(chunk, _wanted_rows(chunk))


def index_new_users(users):
    """Write the search index of users created in this transaction, from what was written.

    USERS are (user_id, account type, record type, status, names in NAME_FIELDS' order,
    identifier values with the primary one first, email addresses). A new user has no rows
    yet, so nothing is read back (bench: "sync all new").
    """
    rows = []
    for user_id, account, record, status, names, values, emails in users:
        rows.extend(_user_rows(user_id, flags_of(account, record, status), names, values, emails))
    insert_rows(_TABLE, _COLUMNS, rows, scattered=True)
