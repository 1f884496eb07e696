"""Index a user's name words by their first two letters instead of by every prefix.

A name row's term was each prefix of each word (about 15 rows a user); it is now the first
two letters of the user's words, with those words (and the shown last name's) in two new
columns that a longer prefix is matched against with LIKE. A first load of a source writes
a third of the rows it did. The rows are derived data, refilled here by frozen copies of
the search service's indexer as it stood when this migration was written; identifier and
email rows do not change.
"""

import re

from peewee import CompositeKey, ForeignKeyField, Model, SmallIntegerField, TextField, chunked
from unidecode import unidecode

WORD = re.compile(r"[a-z0-9]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_FIELDS = ("first_name", "middle_name", "last_name", "pref_first_name", "pref_middle_name",
               "pref_last_name")
NAME = 0
LAST_NAME, OTHER = 1, 2
HEAD = 2
CHUNK = 500


def up(migrator, db):
    for column in ("words", "last_words"):
        db.execute_sql(f"ALTER TABLE search_entry ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
    db.execute_sql(f"DELETE FROM search_entry WHERE kind = {NAME}")
    fill(db)


def down(migrator, db):
    # Migration 0002's indexer writes every prefix again; the columns go.
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).with_name("0002_search_entry.py")
    spec = importlib.util.spec_from_file_location("search_entry_0002", path)
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    db.execute_sql("DELETE FROM search_entry")
    for column in ("words", "last_words"):
        db.execute_sql(f"ALTER TABLE search_entry DROP COLUMN {column}")
    before.fill(db)


# Frozen copies of the indexer (services/search as of this migration).


def normalize(text):
    text = text or ""
    return (text if text.isascii() else unidecode(text)).lower().strip()


def fold(text):
    return CONTROL.sub("", normalize(text)).strip()


def name_words(text):
    return WORD.findall(normalize(text))


def email_word(address):
    match = WORD.match(fold(address))
    return match.group() if match else ""


def spaced(words):
    return "".join(f" {word}" for word in sorted(words))


def name_rows(names, emails):
    """Return the NAME rows (term, tier, sort key, words, last words) of one user."""
    field_words = {field: name_words(names[field]) for field in NAME_FIELDS}
    shown_last = "pref_last_name" if names["pref_last_name"] else "last_name"
    shown_first = names["pref_first_name"] or names["first_name"]
    key = f"{fold(names[shown_last])}\x1f{fold(shown_first)}"
    words = {word for found in field_words.values() for word in found}
    words |= {email_word(normalize(address)) for address in emails} - {""}
    last_words = set(field_words[shown_last])
    heads = {}
    for word in words:
        heads.setdefault(word[:HEAD], set()).add(word)
    return [(head, LAST_NAME if group & last_words else OTHER, key, spaced(group),
             spaced(group & last_words)) for head, group in heads.items()]


def frozen_models(db):
    class User(Model):
        first_name = TextField()
        middle_name = TextField()
        last_name = TextField()
        pref_first_name = TextField()
        pref_middle_name = TextField()
        pref_last_name = TextField()
        account_type = TextField()
        record_type = TextField()
        status = TextField()

        class Meta:
            database = db
            table_name = "user"

    class Email(Model):
        user = ForeignKeyField(User)
        address = TextField()

        class Meta:
            database = db
            table_name = "email"

    class SearchEntry(Model):
        kind = SmallIntegerField()
        term = TextField()
        sort_key = TextField()
        user = ForeignKeyField(User)
        tier = SmallIntegerField()
        flags = SmallIntegerField()
        words = TextField()
        last_words = TextField()

        class Meta:
            database = db
            table_name = "search_entry"
            primary_key = CompositeKey("kind", "term", "sort_key", "user")

    return User, Email, SearchEntry


def flags_of(account_type, record_type, status):
    return ((1 if account_type == "external" else 0) + (2 if record_type == "staff" else 0)
            + (4 if status == "inactive" else 0))


def fill(db):
    """Write the NAME rows of every existing user."""
    User, Email, SearchEntry = frozen_models(db)
    ids = [row[0] for row in User.select(User.id).order_by(User.id).tuples()]
    fields = [SearchEntry.kind, SearchEntry.term, SearchEntry.sort_key, SearchEntry.user,
              SearchEntry.tier, SearchEntry.flags, SearchEntry.words, SearchEntry.last_words]
    for chunk in chunked(ids, CHUNK):
        emails = {}
        for user_id, address in Email.select(Email.user, Email.address).where(
                Email.user.in_(chunk)).tuples():
            emails.setdefault(user_id, []).append(address)
        users = User.select(User.id, User.account_type, User.record_type, User.status,
                            *(getattr(User, f) for f in NAME_FIELDS))
        rows = []
        for user_id, account, record, status, *names in users.where(User.id.in_(chunk)).tuples():
            flags = flags_of(account, record, status)
            rows.extend((NAME, term, key, user_id, tier, flags, words, last)
                        for term, tier, key, words, last in
                        name_rows(dict(zip(NAME_FIELDS, names)), emails.get(user_id, ())))
        for part in chunked(sorted(rows), CHUNK):
            SearchEntry.insert_many(part, fields=fields).execute()
