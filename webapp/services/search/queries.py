"""The hand-written reads of the search index, each with the bench figure it buys.

A query word is looked up by its first HEAD letters, the term of a NAME row, and a longer
word is then matched against the row's words (LIKE '% smit%'). A term's rows come in list
order (sort key, then id) from the primary key, one per user: a page is read without
sorting, and several words intersect their lookups by merging them. peewee would build
each statement again on every keystroke of a live search; written out, each is one string
format.
"""

from webapp.db import db, marks
from webapp.models import User
from webapp.services import clock
from webapp.services.permissions import IN_FORCE_SQL
from webapp.services.search.index import (
    CHUNK,
    EMAIL,
    EXACT,
    FILTER_VALUES,
    FLAGS,
    HEAD,
    IDENTIFIER,
    LAST_NAME,
    NAME,
    NAME_FIELDS,
    OTHER,
    WORD,
    fold,
)

# Folded strings hold printable ASCII only, so every string starting with p sorts
# between p and p + "\x7f".
_ABOVE = "\x7f"
# Words intersected in one statement; any further words are checked per found user.
MAX_SQL_WORDS = 5


def _rows(sql, params):
    """Return every row SQL gives with PARAMS."""
    return db.execute_sql(sql, params).fetchall()


def exact_identifier(value):
    """Return up to 3 (user_id, how) rows for VALUE: 0 primary id, 1 identifier, 2 any case."""
    # Three lookups in one statement (bench: "search: exact identifier (scan)").
    p = db.param
    return _rows(
        f'SELECT id, 0 FROM "user" WHERE primary_id = {p} '
        f"UNION ALL SELECT user_id, 1 FROM identifier WHERE value = {p} "
        f"UNION ALL SELECT user_id, 2 FROM search_entry WHERE kind = {IDENTIFIER} AND term = {p} "
        "ORDER BY 2 LIMIT 3",
        [value, value, fold(value)],
    )


def filter_sql(filters):
    """Return the SQL condition and parameters that apply FILTERS to search_entry rows."""
    mask = value = 0
    for field, (flag_value, bit) in FLAGS.items():
        wanted = (filters or {}).get(field)
        if wanted in FILTER_VALUES[field]:
            mask |= bit
            value |= bit if wanted == flag_value else 0
    where, params = (f" AND (flags & {db.param}) = {db.param}", [mask, value]) if mask else ("", [])
    role = (filters or {}).get("role")
    if role in FILTER_VALUES["role"]:
        # Users holding the role today: not an assignment that expired or has not begun.
        where += (" AND user_id IN (SELECT user_id FROM role_assignment WHERE role = "
                  f"{db.param} AND {IN_FORCE_SQL.format(mark=db.param)})")
        today = clock.today()
        params += [role, today, today]
    return where, params


def _pattern(word):
    """Return the LIKE pattern of the NAME rows' words one of which starts with WORD."""
    return f"% {word}%"


def _word_where(word):
    """Return the SQL condition and parameters of the NAME rows with a word starting with WORD.

    A word of one letter (an initial, never the only word) spans every term it starts.
    """
    if len(word) < HEAD:
        return f"kind = {NAME} AND term >= {db.param} AND term < {db.param}", [word, word + _ABOVE]
    if len(word) == HEAD:
        return f"kind = {NAME} AND term = {db.param}", [word]
    return (f"kind = {NAME} AND term = {db.param} AND words LIKE {db.param}",
            [word[:HEAD], _pattern(word)])


def _last_tier(word):
    """Return the SQL condition and parameters of WORD's matching rows in the last-name tier."""
    if len(word) <= HEAD:
        return f"tier = {LAST_NAME}", []
    return f"last_words LIKE {db.param}", [_pattern(word)]


def _word_sql(word, where, params):
    """Return the SQL and parameters of the users with a word starting with WORD."""
    match, match_params = _word_where(word)
    return (f"SELECT sort_key, user_id FROM search_entry WHERE {match}{where}",
            [*match_params, *params])


def word_count(word, where, params):
    """Return (users, users in the last-name tier) with a word starting with WORD."""
    # Counted from the index alone (bench: "search: thousands (smith)").
    match, match_params = _word_where(word)
    last, last_params = _last_tier(word)
    count, tiers = _rows(f"SELECT count(*), sum(CASE WHEN {last} THEN 1 ELSE 0 END) "
                         f"FROM search_entry WHERE {match}{where}",
                         [*last_params, *match_params, *params])[0]
    return count, tiers or 0


def word_page(word, where, params, tiers, offset, limit):
    """Return LIMIT (user_id, tier, sort key) rows of WORD's matches from OFFSET, ranked.

    TIERS is the number of matches in the last-name tier. Each tier's rows are read in
    index order, which is list order, and the reading stops at the page's end
    (bench: "search: thousands, page 40, filtered", "search: surname prefix").
    """
    match, match_params = _word_where(word)
    last, last_params = _last_tier(word)
    rows = []
    for tier, skip in ((LAST_NAME, offset), (OTHER, max(0, offset - tiers))):
        if len(rows) >= limit or (tier == LAST_NAME and offset >= tiers):
            continue
        rows += _rows(
            f"SELECT user_id, {tier}, sort_key FROM search_entry WHERE {match} AND "
            f"{'' if tier == LAST_NAME else 'NOT '}({last}){where} ORDER BY sort_key, user_id "
            f"LIMIT {db.param} OFFSET {db.param}",
            [*match_params, *last_params, *params, limit - len(rows), skip],
        )
    return rows


def word_matches_among(word, where, params, user_ids):
    """Return those of USER_IDS with a word starting with WORD."""
    word_sql, word_params = _word_sql(word, where, params)
    return {row[0] for row in _rows(
        f"SELECT user_id FROM ({word_sql}) w WHERE user_id IN ({marks(len(user_ids))})",
        [*word_params, *user_ids])}


def _with_word(word, user_ids):
    """Return those of USER_IDS with a word starting with WORD, CHUNK ids a statement."""
    keep = set()
    match, match_params = _word_where(word)
    for start in range(0, len(user_ids), CHUNK):
        chunk = user_ids[start : start + CHUNK]
        keep.update(r[0] for r in _rows(
            f"SELECT user_id FROM search_entry WHERE {match} "
            f"AND user_id IN ({marks(len(chunk))})", [*match_params, *chunk]))
    return keep


def words_match(words, where, params):
    """Return {user_id: (tier, sort key)} of users with a word starting with each of WORDS."""
    for word in words:
        sql, word_params = _word_sql(word, where, params)
        if not _rows(f"{sql} LIMIT 1", word_params):
            return {}
    # Merge the longest (usually rarest) words' lookups, which come in user order; check
    # any further words per remaining user (bench: "search: two-word name",
    # "search: first name + initial").
    parts = [_word_sql(w, where, params) for w in words[:MAX_SQL_WORDS]]
    sql = " INTERSECT ".join(p[0] for p in parts) + " ORDER BY 1, 2"
    found = {user_id: key for key, user_id in _rows(sql, [v for p in parts for v in p[1]])}
    for word in words[MAX_SQL_WORDS:]:
        keep = _with_word(word, list(found))
        found = {k: v for k, v in found.items() if k in keep}
    result = {}
    for user_id, key in found.items():
        last = WORD.findall(key.partition("\x1f")[0])
        ranked = any(w.startswith(q) for q in words for w in last)
        result[user_id] = (LAST_NAME if ranked else OTHER, key)
    return result


def terms_match(term, where, params, limit, *, searched_as_word=False):
    """Return {user_id: (tier, sort key)} of users with an identifier or email starting with TERM.

    None when more than LIMIT rows match. SEARCHED_AS_WORD tells that TERM is also the one
    word searched in the name rows.
    """
    # An email starting with that word starts with it: the name rows, which hold each
    # email's leading word, already find it.
    plain = searched_as_word and WORD.fullmatch(term)
    kinds = f"{IDENTIFIER}" if plain else f"{IDENTIFIER}, {EMAIL}"
    # A range over the key, cut at LIMIT + 1 (bench: "search: identifier typed, live",
    # "search: email").
    rows = _rows(
        f"SELECT user_id, CASE WHEN kind = {IDENTIFIER} AND term = {db.param} THEN {EXACT} "
        f"ELSE {OTHER} END, sort_key FROM search_entry WHERE kind IN ({kinds}) "
        f"AND term >= {db.param} AND term < {db.param}{where} LIMIT {int(limit) + 1}",
        [term, term, term + _ABOVE, *params],
    )
    if len(rows) > limit:
        return None
    found = {}
    for user_id, tier, key in rows:
        if user_id not in found or tier < found[user_id][0]:
            found[user_id] = (tier, key)
    return found


class Listed:
    """What a result row shows of a user: the listed columns and the name properties."""

    __slots__ = ("id", "primary_id", *NAME_FIELDS, "user_group", "account_type", "record_type",
                 "status", "expiry_date")
    sort_name = property(User.sort_name.fget)
    display_name = property(User.display_name.fget)

    def __init__(self, row):
        for name, value in zip(self.__slots__, row, strict=True):
            setattr(self, name, value)


def load(ranked):
    """Return [(Listed, tier)] for RANKED [(user_id, tier)], keeping the order."""
    if not ranked:
        return []
    # Plain rows, no model instances: a page's 25 users cost one statement
    # (bench: "search: surname prefix").
    rows = db.execute_sql(f'SELECT {", ".join(Listed.__slots__)} FROM "user" '
                          f"WHERE id IN ({marks(len(ranked))})", [r[0] for r in ranked])
    users = {row[0]: Listed(row) for row in rows}
    return [(users[user_id], tier) for user_id, tier in ranked if user_id in users]
