"""The user search index: a user's name words by their first letters, identifiers and emails."""

from peewee import CompositeKey, ForeignKeyField, SmallIntegerField, TextField

from webapp.db import BaseModel
from webapp.models.users import User


class SearchEntry(BaseModel):
    """A term a user is found by, with what ranking, ordering and filtering read.

    Created by migration 0002 (a "C" collation on PostgreSQL, WITHOUT ROWID on SQLite, and
    a trigger that keeps `flags` current when status, account type or record type change).
    The rows are derived data: the database holds no foreign key for `user` (migration
    0013); a trigger on "user" deletes a deleted user's rows, and `flask check` any left.
    The key orders a term's users as results are listed, so a page is read without sorting.
    """

    kind = SmallIntegerField()  # services.search: NAME | IDENTIFIER | EMAIL
    term = TextField()
    sort_key = TextField()
    user = ForeignKeyField(User, index=True)  # for queries: no constraint in the database
    tier = SmallIntegerField()
    flags = SmallIntegerField()
    # NAME rows: the words starting with the term, and those of them in the shown last name,
    # each after a space (" smith smithson"), matched with LIKE '% smit%' (migration 0012).
    words = TextField(default="")
    last_words = TextField(default="")

    class Meta:
        table_name = "search_entry"
        primary_key = CompositeKey("kind", "term", "sort_key", "user")
        without_rowid = True
