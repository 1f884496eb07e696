"""Find users by name, identifier or email; keep the search index up to date.

`search_entry` (models.SearchEntry, migrations 0002 and 0012) holds what a user is found by,
rebuilt by `index_users` inside the transaction of every change to names, primary
identifier, identifiers or emails (index.py); queries.py reads it. A trigger keeps the
rows' filter flags current when status, account type or record type change.
"""

import dataclasses

from webapp.models import SearchEntry, User
from webapp.services.search import queries
from webapp.services.search.index import (
    EMAIL,
    FILTER_VALUES,
    NAME_FIELDS,
    email_word,
    fold,
    index_new_users,
    index_users,
    name_words,
    normalize,
)
from webapp.services.search.queries import Listed

__all__ = [
    "FILTER_VALUES", "MAX_TERM_MATCHES", "NAME_FIELDS", "Listed", "Results", "email_word",
    "find_by_email", "find_by_identifier", "fold", "index_new_users", "index_users", "name_words",
    "normalize", "search_users", "simple_search",
]

# Identifier and email prefixes matching more users than this are refused: "p0" would
# otherwise list every patron. Name prefixes are counted exactly, however many match.
MAX_TERM_MATCHES = 5000


def find_by_identifier(value):
    """Return the user whose primary identifier or any identifier is exactly VALUE, or None.

    Failing an exact match, one user whose identifier matches in another case (a barcode
    typed by hand) is returned too.
    """
    value = (value or "").strip()
    if not value:
        return None
    rows = queries.exact_identifier(value)
    if rows and (rows[0][1] < 2 or len({r[0] for r in rows}) == 1):
        return User.get_or_none(User.id == rows[0][0])
    return None


def find_by_email(address):
    """Return the one user with exactly this email in any case, or None."""
    term = fold(address)
    if not term:
        return None
    rows = list(SearchEntry.select(SearchEntry.user).distinct()
                .where((SearchEntry.kind == EMAIL) & (SearchEntry.term == term))
                .limit(2).tuples())
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


def _query_words(text):
    """Return the distinct words of TEXT, without those that start another one."""
    words = set(name_words(text))
    return sorted((w for w in words if not any(o != w and o.startswith(w) for o in words)),
                  key=lambda w: (-len(w), w))


def _ordered(matches):
    """Return [(user_id, tier)] of MATCHES ({user_id: (tier, key)}) in ranked order."""
    ranked = sorted(matches.items(), key=lambda item: (item[1][0], item[1][1], item[0]))
    return [(user_id, tier) for user_id, (tier, _key) in ranked]


def _one_word(results, word, terms, where, params):
    """Fill RESULTS for one query word besides TERMS; return the matches still to rank."""
    offset = (results.page - 1) * results.page_size
    count, tiers = queries.word_count(word, where, params)
    if not terms:
        rows = queries.word_page(word, where, params, tiers, offset, results.page_size)
        results.total = count
        results.users = queries.load([(user_id, tier) for user_id, tier, _key in rows])
        return None
    # Identifier or email matches besides: merge them with the best name matches.
    both = queries.word_matches_among(word, where, params, list(terms))
    results.total = count + len(terms) - len(both)
    best = queries.word_page(word, where, params, tiers, 0, offset + results.page_size)
    return {user_id: (tier, key) for user_id, tier, key in best}


def search_users(text, filters=None, page=1, page_size=25):
    """Return page PAGE of the users TEXT finds, ranked, with the total count.

    A user is found when every word of TEXT starts a word of one of their names or the
    leading word of one of their emails, or when all of TEXT starts their primary
    identifier, another identifier or an email, all compared without case or accents.
    FILTERS maps account_type, record_type and status to a wanted value.
    """
    text = text or ""
    term = fold(text)
    words = _query_words(text)
    search_words = bool(words) and len(words[0]) >= 2
    search_terms = len(term) >= 2
    results = Results(text.strip(), [], 0, max(1, page), page_size)
    if not search_words and not search_terms:
        results.too_short = bool(text.strip())
        return results
    where, params = queries.filter_sql(filters)
    terms = (queries.terms_match(term, where, params, MAX_TERM_MATCHES,
                                 searched_as_word=search_words and words == [term])
             if search_terms else {})
    if terms is None:
        results.too_many = True
        return results
    if search_words and len(words) == 1:
        matches = _one_word(results, words[0], terms, where, params)
        if matches is None:
            return results
    else:
        matches = queries.words_match(words, where, params) if search_words else {}
        results.total = len(set(matches) | set(terms))
    for user_id, (tier, key) in terms.items():
        if user_id not in matches or tier < matches[user_id][0]:
            matches[user_id] = (tier, key)
    offset = (results.page - 1) * page_size
    results.users = queries.load(_ordered(matches)[offset : offset + page_size])
    return results


def simple_search(query, limit=25):
    """Return the best-ranked users QUERY finds (User models), at most LIMIT."""
    ids = [row.id for row, _tier in search_users(query, page_size=limit).users]
    users = {u.id: u for u in User.select().where(User.id.in_(ids))}
    return [users[i] for i in ids if i in users]
