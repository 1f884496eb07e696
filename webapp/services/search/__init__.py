"""Find users by name, identifier or email; keep the search index up to date.

`search_entry` (migration 0002) holds what a user is found by, rebuilt by `index_users`
inside the transaction of every change to names, primary identifier, identifiers or
emails. Rows of kind NAME hold
  every prefix of every word a user is known by (name words and the leading word of each
  email), so "users with a word starting with w" is one equality lookup whose rows come
  in list order (sort key, then id), already free of duplicates: a page is read without
  sorting, and a query of several words intersects those lookups by merging them.
  Rows of kind IDENTIFIER and EMAIL hold whole folded values, matched by prefix with a
  range. Each row carries the user's sort key and filter flags, so counting and ordering
  thousands of matches never visits the user table. A trigger keeps the flags current
  when status, account type or record type change.
"""

import dataclasses
import re

from unidecode import unidecode

from webapp.db import db
from webapp.models import User

_WORD = re.compile(r"[a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
)
MAX_TERM = 254

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
}
# Folded strings hold printable ASCII only, so every string starting with p sorts
# between p and p + "\x7f".
_ABOVE = "\x7f"
# Identifier and email prefixes matching more users than this are refused: "p0" would
# otherwise list every patron. Name prefixes are counted exactly, however many match.
MAX_TERM_MATCHES = 5000
MAX_SQL_WORDS = 5
_CHUNK = 500


def normalize(text):
    """Return TEXT folded for matching: accents removed, lower case, trimmed."""
    text = text or ""
    return (text if text.isascii() else unidecode(text)).lower().strip()


def fold(text):
    """Return TEXT folded for the search index: normalized, without control characters."""
    return _CONTROL.sub("", normalize(text)).strip()


def name_words(text):
    """Return the normalized words of a name."""
    return _WORD.findall(normalize(text))


def email_word(address):
    """Return the word an email address starts with ('ada' for ada.l@x.org), or ''."""
    match = _WORD.match(fold(address))
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


def _insert(table, columns, rows):
    """Insert ROWS (tuples) into TABLE in multi-row statements."""
    per_row = "(" + ", ".join([db.param] * len(columns)) + ")"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    for start in range(0, len(rows), _CHUNK):
        part = rows[start : start + _CHUNK]
        db.execute_sql(head + ", ".join([per_row] * len(part)),
                       [value for row in part for value in row])


def _changes(table, key_columns, value_columns, chunk, marks, wanted):
    """Bring TABLE's rows of the users in CHUNK to WANTED, writing only what differs.

    WANTED holds (key columns..., value columns...) tuples; a row whose values changed
    is deleted and inserted again.
    """
    columns = (*key_columns, *value_columns)
    present = set(map(tuple, db.execute_sql(
        f"SELECT {', '.join(columns)} FROM {table} WHERE user_id IN ({marks})", chunk)))
    wanted = set(wanted)
    stale = sorted(row[: len(key_columns)] for row in present - wanted)
    if stale:
        condition = " AND ".join(f"{c} = {db.param}" for c in key_columns)
        db.cursor().executemany(f"DELETE FROM {table} WHERE {condition}", stale)
    _insert(table, columns, sorted(wanted - present))


def index_users(user_ids):
    """Rebuild the search index of the given users; call inside the change's transaction."""
    user_ids = sorted(set(user_ids))
    for start in range(0, len(user_ids), _CHUNK):
        chunk = user_ids[start : start + _CHUNK]
        marks = ", ".join([db.param] * len(chunk))
        identifiers, emails = {}, {}
        for user_id, value in db.execute_sql(
            f"SELECT user_id, value FROM identifier WHERE user_id IN ({marks})", chunk
        ):
            identifiers.setdefault(user_id, []).append(value)
        for user_id, address in db.execute_sql(
            f"SELECT user_id, address FROM email WHERE user_id IN ({marks})", chunk
        ):
            emails.setdefault(user_id, []).append(address)
        entries = []
        for user_id, primary_id, account, record, status, *names in db.execute_sql(
            "SELECT id, primary_id, account_type, record_type, status, "
            f'{", ".join(NAME_FIELDS)} FROM "user" WHERE id IN ({marks})', chunk
        ):
            flags = flags_of(account, record, status)
            user_entries = index_rows(
                dict(zip(NAME_FIELDS, names, strict=True)), primary_id,
                identifiers.get(user_id, ()), emails.get(user_id, ()))
            entries.extend((kind, term, key, user_id, tier, flags)
                           for kind, term, tier, key in user_entries)
        # Rows of unchanged users stay as they are: a synchronization that re-sends the
        # same names, identifiers and emails writes nothing here.
        _changes("search_entry", ("kind", "term", "sort_key", "user_id"), ("tier", "flags"),
                 chunk, marks, entries)


def find_by_identifier(value):
    """Return the user whose primary identifier or any identifier is exactly VALUE, or None.

    Failing an exact match, one user whose identifier matches in another case (a barcode
    typed by hand) is returned too.
    """
    value = (value or "").strip()
    if not value:
        return None
    p = db.param
    rows = db.execute_sql(
        f'SELECT id, 0 FROM "user" WHERE primary_id = {p} '
        f"UNION ALL SELECT user_id, 1 FROM identifier WHERE value = {p} "
        f"UNION ALL SELECT user_id, 2 FROM search_entry WHERE kind = {IDENTIFIER} AND term = {p} "
        "ORDER BY 2 LIMIT 3",
        [value, value, fold(value)],
    ).fetchall()
    if rows and (rows[0][1] < 2 or len({r[0] for r in rows}) == 1):
        return User.get_or_none(User.id == rows[0][0])
    return None


def find_by_email(address):
    """Return the one user with exactly this email in any case, or None."""
    term = fold(address)
    if not term:
        return None
    rows = db.execute_sql(
        f"SELECT DISTINCT user_id FROM search_entry WHERE kind = {EMAIL} AND term = {db.param} "
        "LIMIT 2", [term]).fetchall()
    return User.get_or_none(User.id == rows[0][0]) if len(rows) == 1 else None


@dataclasses.dataclass
class Results:
    """One page of a user search."""

    query: str
    users: list  # [(Listed, tier)] in ranked order
    total: int  # users matching, 0 when too_many
    page: int
    page_size: int
    too_many: bool = False  # an identifier or email prefix matched more than MAX_TERM_MATCHES
    too_short: bool = False  # nothing long enough to search for

    @property
    def pages(self):
        """Return the number of pages, at least 1."""
        return max(1, -(-self.total // self.page_size))


def _filter_sql(filters):
    """Return the SQL condition and parameters that apply FILTERS to search_entry rows."""
    mask = value = 0
    for field, (flag_value, bit) in FLAGS.items():
        wanted = (filters or {}).get(field)
        if wanted in FILTER_VALUES[field]:
            mask |= bit
            value |= bit if wanted == flag_value else 0
    if not mask:
        return "", []
    return f" AND (flags & {db.param}) = {db.param}", [mask, value]


def _query_words(text):
    """Return the distinct words of TEXT, without those that start another one."""
    words = set(name_words(text))
    return sorted((w for w in words if not any(o != w and o.startswith(w) for o in words)),
                  key=lambda w: (-len(w), w))


def _rows(sql, params):
    """Return every row SQL gives with PARAMS."""
    return db.execute_sql(sql, params).fetchall()


def _word_sql(word, where, params):
    """Return the SQL and parameters of the users with a word starting with WORD."""
    return (f"SELECT sort_key, user_id FROM search_entry WHERE kind = {NAME} "
            f"AND term = {db.param}{where}", [word, *params])


def _word_page(word, where, params, tiers, offset, limit):
    """Return LIMIT (user_id, tier, sort key) rows of WORD's matches from OFFSET, ranked.

    TIERS is the number of matches in the last-name tier. Each tier's rows are read in
    index order, which is list order, and the reading stops at the page's end.
    """
    rows = []
    for tier, skip in ((LAST_NAME, offset), (OTHER, max(0, offset - tiers))):
        if len(rows) >= limit or (tier == LAST_NAME and offset >= tiers):
            continue
        rows += _rows(
            f"SELECT user_id, tier, sort_key FROM search_entry WHERE kind = {NAME} "
            f"AND term = {db.param} AND tier = {tier}{where} ORDER BY sort_key, user_id "
            f"LIMIT {db.param} OFFSET {db.param}",
            [word, *params, limit - len(rows), skip],
        )
    return rows


def _words_match(words, where, params):
    """Return {user_id: (tier, sort key)} of users with a word starting with each of WORDS."""
    for word in words:
        if not _rows(f"SELECT 1 FROM search_entry WHERE kind = {NAME} AND term = {db.param}"
                     f"{where} LIMIT 1", [word, *params]):
            return {}
    # Merge the longest (usually rarest) words' lookups, which come in user order; check
    # any further words per remaining user.
    parts = [_word_sql(w, where, params) for w in words[:MAX_SQL_WORDS]]
    sql = " INTERSECT ".join(p[0] for p in parts) + " ORDER BY 1, 2"
    found = {user_id: key for key, user_id in _rows(sql, [v for p in parts for v in p[1]])}
    for word in words[MAX_SQL_WORDS:]:
        ids = list(found)
        keep = set()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join([db.param] * len(chunk))
            keep.update(r[0] for r in _rows(
                f"SELECT user_id FROM search_entry WHERE kind = {NAME} AND term = {db.param} "
                f"AND user_id IN ({marks})", [word, *chunk]))
        found = {k: v for k, v in found.items() if k in keep}
    result = {}
    for user_id, key in found.items():
        last = _WORD.findall(key.partition("\x1f")[0])
        ranked = any(w.startswith(q) for q in words for w in last)
        result[user_id] = (LAST_NAME if ranked else OTHER, key)
    return result


def _terms_match(term, where, params):
    """Return {user_id: (tier, sort key)} of users with an identifier or email starting with TERM.

    None when more than MAX_TERM_MATCHES rows match.
    """
    # An email starting with a plain word starts with that word: the name rows, which
    # hold each email's leading word, already find it.
    kinds = f"{IDENTIFIER}" if _WORD.fullmatch(term) else f"{IDENTIFIER}, {EMAIL}"
    rows = _rows(
        f"SELECT user_id, CASE WHEN kind = {IDENTIFIER} AND term = {db.param} THEN {EXACT} "
        f"ELSE {OTHER} END, sort_key FROM search_entry WHERE kind IN ({kinds}) "
        f"AND term >= {db.param} AND term < {db.param}{where} LIMIT {MAX_TERM_MATCHES + 1}",
        [term, term, term + _ABOVE, *params],
    )
    if len(rows) > MAX_TERM_MATCHES:
        return None
    found = {}
    for user_id, tier, key in rows:
        if user_id not in found or tier < found[user_id][0]:
            found[user_id] = (tier, key)
    return found


def _ordered(matches):
    """Return [(user_id, tier)] of MATCHES ({user_id: (tier, key)}) in ranked order."""
    ranked = sorted(matches.items(), key=lambda item: (item[1][0], item[1][1], item[0]))
    return [(user_id, tier) for user_id, (tier, _key) in ranked]


class Listed:
    """What a result row shows of a user: the listed columns and the name properties."""

    __slots__ = ("id", "primary_id", *NAME_FIELDS, "user_group", "account_type", "record_type",
                 "status", "expiry_date")
    sort_name = property(User.sort_name.fget)
    display_name = property(User.display_name.fget)

    def __init__(self, row):
        for name, value in zip(self.__slots__, row, strict=True):
            setattr(self, name, value)


def _load(ranked):
    """Return [(Listed, tier)] for RANKED [(user_id, tier)], keeping the order."""
    if not ranked:
        return []
    marks = ", ".join([db.param] * len(ranked))
    rows = db.execute_sql(f'SELECT {", ".join(Listed.__slots__)} FROM "user" '
                          f"WHERE id IN ({marks})", [r[0] for r in ranked])
    users = {row[0]: Listed(row) for row in rows}
    return [(users[user_id], tier) for user_id, tier in ranked if user_id in users]


def search_users(text, filters=None, page=1, page_size=25):
    """Return page PAGE of the users TEXT finds, ranked, with the total count.

    A user is found when every word of TEXT starts a word of one of their names or the
    leading word of one of their emails, or when all of TEXT starts their primary
    identifier, another identifier or an email, all compared without case or accents.
    FILTERS maps account_type, record_type and status to a wanted value.
    """
    text = text or ""
    page = max(1, page)
    term = fold(text)
    words = _query_words(text)
    search_words = bool(words) and len(words[0]) >= 2
    search_terms = len(term) >= 2
    results = Results(text.strip(), [], 0, page, page_size)
    if not search_words and not search_terms:
        results.too_short = bool(text.strip())
        return results
    where, params = _filter_sql(filters)
    terms = _terms_match(term, where, params) if search_terms else {}
    if terms is None:
        results.too_many = True
        return results
    offset = (page - 1) * page_size
    if search_words and len(words) == 1:
        word_sql, word_params = _word_sql(words[0], where, params)
        count, tiers = _rows(f"SELECT count(*), sum(CASE WHEN tier = {LAST_NAME} THEN 1 ELSE 0 "
                             f"END) FROM search_entry WHERE kind = {NAME} AND term = {db.param}"
                             f"{where}", word_params)[0]
        tiers = tiers or 0
        if not terms:
            rows = _word_page(words[0], where, params, tiers, offset, page_size)
            results.total = count
            results.users = _load([(user_id, tier) for user_id, tier, _key in rows])
            return results
        # Identifier or email matches besides: merge them with the best name matches.
        marks = ", ".join([db.param] * len(terms))
        both = _rows(f"SELECT user_id FROM ({word_sql}) w WHERE user_id IN ({marks})",
                     [*word_params, *terms])
        results.total = count + len(terms) - len(both)
        best = _word_page(words[0], where, params, tiers, 0, offset + page_size)
        matches = {user_id: (tier, key) for user_id, tier, key in best}
    else:
        matches = _words_match(words, where, params) if search_words else {}
        results.total = len(set(matches) | set(terms))
    for user_id, (tier, key) in terms.items():
        if user_id not in matches or tier < matches[user_id][0]:
            matches[user_id] = (tier, key)
    results.users = _load(_ordered(matches)[offset : offset + page_size])
    return results


def simple_search(query, limit=25):
    """Return the best-ranked users QUERY finds (User models), at most LIMIT."""
    ids = [row.id for row, _tier in search_users(query, page_size=limit).users]
    users = {u.id: u for u in User.select().where(User.id.in_(ids))}
    return [users[i] for i in ids if i in users]
