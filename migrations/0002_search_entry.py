"""Add the user search index (search_entry), its filter-flag trigger, and fill it.

search_entry is keyed (kind, term, sort_key, user_id): a name prefix's users come in the
order results are listed in, so a page of thousands of matches is read without sorting
and several words intersect by merging. On PostgreSQL term and sort_key use the "C" collation: a
prefix range (term >= p AND term < p || chr(127)) follows byte order and uses the key, and
the database orders sort keys as the application does.
The rows are derived data: they are computed by the search service's indexer, the same
code that keeps them current afterwards, so the migration and the application never
disagree on what a row holds.
"""

from peewee import PostgresqlDatabase

from webapp.services.search import index_users

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
    user_ids = [row[0] for row in db.execute_sql('SELECT id FROM "user" ORDER BY id')]
    index_users(user_ids)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('DROP TRIGGER IF EXISTS search_entry_flags ON "user"')
        db.execute_sql("DROP FUNCTION IF EXISTS search_entry_flags()")
    else:
        db.execute_sql("DROP TRIGGER IF EXISTS search_entry_flags")
    db.execute_sql("DROP TABLE search_entry")
