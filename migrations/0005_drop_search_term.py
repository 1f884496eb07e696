"""Drop search_term: every lookup reads search_entry (migration 0002) now."""

from peewee import CharField, ForeignKeyField, Model


def up(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS search_term")


def down(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class SearchTerm(Model):
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        term = CharField(max_length=254, index=True)
        kind = CharField(max_length=10)

        class Meta:
            database = db
            table_name = "search_term"

    db.create_tables([SearchTerm])
