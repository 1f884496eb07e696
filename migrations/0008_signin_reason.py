"""Add sign_in_log.reason: why a sign-in was refused (no_match, inactive, …), for admins.

The person signing in always sees one generic message; the reason is only in the log.
External accounts sign in through the directory or single sign-on and never have a usable
local password, so a hash left on one (from an older account-type change) is cleared.
"""

from peewee import SQL, CharField


def up(migrator, db):
    migrator.migrate(
        # A default in the schema too: code that writes the log without a reason still works.
        migrator.add_column("sign_in_log", "reason",
                            CharField(max_length=30, default="", constraints=[SQL("DEFAULT ''")])),
        migrator.add_index("sign_in_log", ("reason",), False, name="signinlog_reason"),
    )
    db.execute_sql("UPDATE \"user\" SET password_hash = NULL WHERE account_type = 'external'")


def down(migrator, db):
    # The cleared hashes stay cleared: they were never meant to sign anyone in.
    migrator.migrate(
        migrator.drop_index("sign_in_log", "signinlog_reason"),
        migrator.drop_column("sign_in_log", "reason"),
    )
