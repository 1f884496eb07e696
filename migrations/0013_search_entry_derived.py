"""Keep search_entry without a foreign key: a trigger removes a deleted user's rows instead.

The rows are derived data: the search service writes them from users it has just read or
created in the same transaction, so checking each row's user again cost more than any row
could gain from it (a first load of 100,000 users writes 760,000 of them; the check was
0.4 to 0.9 s of it on SQLite). What the key still did, removing a deleted user's rows, an
AFTER DELETE trigger on "user" does. `flask check` counts rows whose user is gone.

SQLite cannot drop a constraint: the table is built again, its rows copied in key order.
Its filter-flag trigger (migration 0002, frozen here) names the table, so it is dropped
and created again around the rebuild.
"""

from peewee import PostgresqlDatabase

FLAGS_SQL = (
    "(CASE WHEN NEW.account_type = 'external' THEN 1 ELSE 0 END)"
    " + (CASE WHEN NEW.record_type = 'staff' THEN 2 ELSE 0 END)"
    " + (CASE WHEN NEW.status = 'inactive' THEN 4 ELSE 0 END)"
)
COLUMNS = "kind, term, user_id, tier, sort_key, flags, words, last_words"
DELETED = "DELETE FROM search_entry WHERE user_id = OLD.id"


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for (name,) in db.execute_sql(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'search_entry'::regclass "
                "AND contype = 'f'").fetchall():
            db.execute_sql(f'ALTER TABLE search_entry DROP CONSTRAINT "{name}"')
        db.execute_sql("CREATE FUNCTION search_entry_user_deleted() RETURNS trigger "
                       f"LANGUAGE plpgsql AS $$ BEGIN {DELETED}; RETURN NULL; END $$")
        db.execute_sql('CREATE TRIGGER search_entry_user_deleted AFTER DELETE ON "user" '
                       "FOR EACH ROW EXECUTE FUNCTION search_entry_user_deleted()")
        return
    _rebuild(db, "")
    db.execute_sql('CREATE TRIGGER search_entry_user_deleted AFTER DELETE ON "user" '
                   f"FOR EACH ROW BEGIN {DELETED}; END")


def down(migrator, db):
    # Rows of users deleted meanwhile are gone already (the trigger); the key comes back.
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('DROP TRIGGER IF EXISTS search_entry_user_deleted ON "user"')
        db.execute_sql("DROP FUNCTION IF EXISTS search_entry_user_deleted()")
        db.execute_sql('DELETE FROM search_entry WHERE user_id NOT IN (SELECT id FROM "user")')
        db.execute_sql("ALTER TABLE search_entry ADD FOREIGN KEY (user_id) "
                       'REFERENCES "user" (id) ON DELETE CASCADE')
        return
    db.execute_sql("DROP TRIGGER IF EXISTS search_entry_user_deleted")
    db.execute_sql('DELETE FROM search_entry WHERE user_id NOT IN (SELECT id FROM "user")')
    _rebuild(db, ' REFERENCES "user" (id) ON DELETE CASCADE')


def _rebuild(db, reference):
    """Build SQLite's search_entry again with REFERENCES (or none) on user_id, rows and all."""
    db.execute_sql("DROP TRIGGER IF EXISTS search_entry_flags")
    db.execute_sql(
        "CREATE TABLE search_entry_rebuilt ("
        " kind SMALLINT NOT NULL,"
        " term TEXT NOT NULL,"
        f" user_id INTEGER NOT NULL{reference},"
        " tier SMALLINT NOT NULL,"
        " sort_key TEXT NOT NULL,"
        " flags SMALLINT NOT NULL,"
        " words TEXT NOT NULL DEFAULT '',"
        " last_words TEXT NOT NULL DEFAULT '',"
        " PRIMARY KEY (kind, term, sort_key, user_id)) WITHOUT ROWID"
    )
    db.execute_sql(f"INSERT INTO search_entry_rebuilt ({COLUMNS}) SELECT {COLUMNS} FROM search_entry "
                   "ORDER BY kind, term, sort_key, user_id")
    db.execute_sql("DROP TABLE search_entry")
    db.execute_sql("ALTER TABLE search_entry_rebuilt RENAME TO search_entry")
    db.execute_sql("CREATE INDEX search_entry_user_id ON search_entry (user_id)")
    db.execute_sql(
        "CREATE TRIGGER search_entry_flags"
        ' AFTER UPDATE OF account_type, record_type, status ON "user"'
        " FOR EACH ROW WHEN OLD.account_type IS NOT NEW.account_type"
        " OR OLD.record_type IS NOT NEW.record_type OR OLD.status IS NOT NEW.status "
        f"BEGIN UPDATE search_entry SET flags = {FLAGS_SQL} WHERE user_id = NEW.id; END"
    )
