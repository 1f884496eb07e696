"""Add the user search index (search_entry), its filter-flag trigger, and fill it.

search_entry is keyed (kind, term, sort_key, user_id): a name prefix's users come in the
order results are listed in, so a page of thousands of matches is read without sorting
and several words intersect by merging. On PostgreSQL term and sort_key use the "C" collation: a
prefix range (term >= p AND term < p || chr(127)) follows byte order and uses the key, and
the database orders sort keys as the application does.
The rows are derived data, filled here by frozen copies of the search service's indexer
as it stood when this migration was written (webapp/services/search/index.py keeps them
current afterwards); later changes to the application never alter what this migration does.
"""

import re

from peewee import (
    CompositeKey,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
    SmallIntegerField,
    TextField,
    chunked,
)
from unidecode import unidecode

FLAGS_SQL = (
    "(CASE WHEN NEW.account_type = 'external' THEN 1 ELSE 0 END)"
    " + (CASE WHEN NEW.record_type = 'staff' THEN 2 ELSE 0 END)"
    " + (CASE WHEN NEW.status = 'inactive' THEN 4 ELSE 0 END)"
)


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    collate = ' COLLATE "C"' if postgres else ""
    db.execute_sql(
        "CREATE TABLE search_entry ("
        " kind SMALLINT NOT NULL,"
        f" term TEXT{collate} NOT NULL,"
        ' user_id INTEGER NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,'
        " tier SMALLINT NOT NULL,"
        f" sort_key TEXT{collate} NOT NULL,"
        " flags SMALLINT NOT NULL,"
        " PRIMARY KEY (kind, term, sort_key, user_id))" + ("" if postgres else " WITHOUT ROWID")
    )
    db.execute_sql("CREATE INDEX search_entry_user_id ON search_entry (user_id)")
    if postgres:
        db.execute_sql(
            "CREATE FUNCTION search_entry_flags() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN UPDATE search_entry SET flags = {FLAGS_SQL} WHERE user_id = NEW.id; "
            "RETURN NULL; END $$"
        )
        db.execute_sql(
            "CREATE TRIGGER search_entry_flags"
            ' AFTER UPDATE OF account_type, record_type, status ON "user"'
            " FOR EACH ROW WHEN (OLD.account_type IS DISTINCT FROM NEW.account_type"
            " OR OLD.record_type IS DISTINCT FROM NEW.record_type"
            " OR OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION search_entry_flags()"
        )
    else:
        db.execute_sql(
            "CREATE TRIGGER search_entry_flags"
            ' AFTER UPDATE OF account_type, record_type, status ON "user"'
            " FOR EACH ROW WHEN OLD.account_type IS NOT NEW.account_type"
            " OR OLD.record_type IS NOT NEW.record_type OR OLD.status IS NOT NEW.status "
            f"BEGIN UPDATE search_entry SET flags = {FLAGS_SQL} WHERE user_id = NEW.id; END"
        )
    # search_term and its index stay: other lookups read single terms from it.
    fill(db)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('DROP TRIGGER IF EXISTS search_entry_flags ON "user"')
        db.execute_sql("DROP FUNCTION IF EXISTS search_entry_flags()")
    else:
        db.execute_sql("DROP TRIGGER IF EXISTS search_entry_flags")
    db.execute_sql("DROP TABLE search_entry")


# Frozen copies of the indexer (services/search as of this migration).

WORD = re.compile(r"[a-z0-9]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_FIELDS = ("first_name", "middle_name", "last_name", "pref_first_name", "pref_middle_name",
               "pref_last_name")
NAME, IDENTIFIER, EMAIL = 0, 1, 2
LAST_NAME, OTHER = 1, 2
CHUNK = 500


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


def prefixes(words):
    return {word[:end] for word in words for end in range(1, len(word) + 1)}


def flags_of(account_type, record_type, status):
    return ((1 if account_type == "external" else 0) + (2 if record_type == "staff" else 0)
            + (4 if status == "inactive" else 0))


def index_rows(names, primary_id, identifiers, emails):
    field_words = {field: name_words(names[field]) for field in NAME_FIELDS}
    shown_last = "pref_last_name" if names["pref_last_name"] else "last_name"
    shown_first = names["pref_first_name"] or names["first_name"]
    key = f"{fold(names[shown_last])}\x1f{fold(shown_first)}"
    words = {word for found in field_words.values() for word in found}
    email_terms = [normalize(v) for v in emails]
    last_prefixes = prefixes(field_words[shown_last])
    found_by = words | {email_word(address) for address in email_terms} - {""}
    entries = [(NAME, prefix, LAST_NAME if prefix in last_prefixes else OTHER, key)
               for prefix in prefixes(found_by)]
    folded = {(IDENTIFIER, fold(v)) for v in (primary_id, *identifiers)}
    folded |= {(EMAIL, fold(v)) for v in emails}
    entries.extend((kind, term, OTHER, key) for kind, term in folded if term)
    return entries


def frozen_models(db):
    class User(Model):
        primary_id = TextField()
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

    class Identifier(Model):
        user = ForeignKeyField(User)
        value = TextField()
        class Meta:
            database = db
            table_name = "identifier"

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
        flags = IntegerField()
        class Meta:
            database = db
            table_name = "search_entry"
            primary_key = CompositeKey("kind", "term", "sort_key", "user")

    return User, Identifier, Email, SearchEntry


def fill(db):
    """Index every existing user."""
    User, Identifier, Email, SearchEntry = frozen_models(db)
    ids = [row[0] for row in User.select(User.id).order_by(User.id).tuples()]
    for chunk in chunked(ids, CHUNK):
        identifiers, emails = {}, {}
        for user_id, value in Identifier.select(Identifier.user, Identifier.value).where(
                Identifier.user.in_(chunk)).tuples():
            identifiers.setdefault(user_id, []).append(value)
        for user_id, address in Email.select(Email.user, Email.address).where(
                Email.user.in_(chunk)).tuples():
            emails.setdefault(user_id, []).append(address)
        users = User.select(User.id, User.primary_id, User.account_type, User.record_type,
                            User.status, *(getattr(User, f) for f in NAME_FIELDS))
        rows = set()
        for user_id, primary_id, account, record, status, *names in users.where(
                User.id.in_(chunk)).tuples():
            flags = flags_of(account, record, status)
            for kind, term, tier, key in index_rows(dict(zip(NAME_FIELDS, names)), primary_id,
                                                    identifiers.get(user_id, ()),
                                                    emails.get(user_id, ())):
                rows.add((kind, term, key, user_id, tier, flags))
        fields = [SearchEntry.kind, SearchEntry.term, SearchEntry.sort_key, SearchEntry.user,
                  SearchEntry.tier, SearchEntry.flags]
        for part in chunked(sorted(rows), CHUNK):
            SearchEntry.insert_many(part, fields=fields).execute()
