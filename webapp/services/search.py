"""Find users by name, identifier or email; keep the search terms up to date."""

import re

from unidecode import unidecode

from webapp.models import Email, Identifier, SearchTerm, User

_WORD = re.compile(r"[a-z0-9]+")
NAME_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
)
MAX_TERM = 254


def normalize(text):
    """Return TEXT folded for matching: accents removed, lower case, trimmed."""
    return unidecode(text or "").lower().strip()


def name_words(text):
    """Return the normalized words of a name."""
    return _WORD.findall(normalize(text))


def terms_for(user, identifiers, emails):
    """Return the (term, kind) pairs a user is found by."""
    terms = set()
    for field in NAME_FIELDS:
        for word in name_words(getattr(user, field)):
            terms.add((word[:MAX_TERM], "name"))
    terms.add((normalize(user.primary_id)[:MAX_TERM], "identifier"))
    for value in identifiers:
        terms.add((normalize(value)[:MAX_TERM], "identifier"))
    for address in emails:
        terms.add((normalize(address)[:MAX_TERM], "email"))
    return {t for t in terms if t[0]}


def index_users(user_ids):
    """Rebuild the search terms of the given users; call inside the change's transaction."""
    user_ids = list(user_ids)
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        SearchTerm.delete().where(SearchTerm.user.in_(chunk)).execute()
        identifiers, emails = {}, {}
        for row in Identifier.select(Identifier.user, Identifier.value).where(
            Identifier.user.in_(chunk)
        ).tuples():
            identifiers.setdefault(row[0], []).append(row[1])
        for row in Email.select(Email.user, Email.address).where(Email.user.in_(chunk)).tuples():
            emails.setdefault(row[0], []).append(row[1])
        rows = []
        for user in User.select().where(User.id.in_(chunk)):
            for term, kind in terms_for(user, identifiers.get(user.id, ()), emails.get(user.id, ())):
                rows.append({"user": user.id, "term": term, "kind": kind})
        for part in range(0, len(rows), 500):
            SearchTerm.insert_many(rows[part : part + 500]).execute()


def find_by_identifier(value):
    """Return the user whose primary identifier or any identifier is exactly VALUE, or None."""
    value = (value or "").strip()
    if not value:
        return None
    user = User.get_or_none(User.primary_id == value)
    if user is not None:
        return user
    ident = Identifier.get_or_none(Identifier.value == value)
    if ident is not None:
        return ident.user
    # A scanned barcode typed in another case still opens the patron.
    folded = normalize(value)
    match = (
        SearchTerm.select(SearchTerm.user)
        .where((SearchTerm.term == folded) & (SearchTerm.kind == "identifier"))
        .limit(2)
    )
    ids = {row.user_id for row in match}
    if len(ids) == 1:
        return User.get_by_id(ids.pop())
    return None


def simple_search(query, limit=25):
    """Return users with a term starting with each word of QUERY, ordered by name."""
    words = name_words(query)[:5]
    if not words:
        return []
    matching = None
    for word in words:
        ids = SearchTerm.select(SearchTerm.user).where(
            (SearchTerm.term >= word) & (SearchTerm.term < word + "\uffff")
        )
        matching = ids if matching is None else matching.intersect(ids)
    return list(
        User.select().where(User.id.in_(matching)).order_by(User.last_name, User.first_name,
                                                            User.id).limit(limit)
    )
