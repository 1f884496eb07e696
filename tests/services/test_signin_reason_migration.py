"""Migration 0008: the sign-in log's reason column, and no password hash left on an external account."""

from peewee import SqliteDatabase
from playhouse.migrations import Runner

from webapp.db import MIGRATIONS_DIR
from webapp.models import User

MIGRATION = "0008_signin_reason"


def test_reason_column_and_external_hashes_cleared(tmp_path):
    database = SqliteDatabase(str(tmp_path / "migrated.sqlite"))
    runner = Runner(database, str(MIGRATIONS_DIR))
    before = [m.name for m in runner.status() if m.name < MIGRATION]
    runner.up(target=before[-1])
    with database.bind_ctx([User]):
        User.insert_many([
            {"primary_id": "int", "last_name": "I", "user_group": "Staff", "password_hash": "$argon2id$x"},
            {"primary_id": "ext", "last_name": "E", "user_group": "Staff", "account_type": "external",
             "password_hash": "$argon2id$y"},
        ]).execute()
    assert MIGRATION in runner.up(target=MIGRATION)
    hashes = dict(database.execute_sql('SELECT primary_id, password_hash FROM "user"').fetchall())
    assert hashes == {"int": "$argon2id$x", "ext": None}
    # Code that writes the log without a reason (older code, a hand-written INSERT) still works.
    database.execute_sql("INSERT INTO sign_in_log (at, identifier, address, event, success) "
                         "VALUES ('2026-01-01', 'a', '127.0.0.1', 'failure', 0)")
    assert database.execute_sql("SELECT reason FROM sign_in_log").fetchall() == [("",)]
    runner.down(target=MIGRATION)
    assert "reason" not in [c.name for c in database.get_columns("sign_in_log")]
