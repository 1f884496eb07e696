"""Add staff_session (one row per sign-in) and sign_in_limit (attempt counters); drop user.session_version.

A sign-in is a server-side session row that the signed cookie names by a random token, so
signing out ends that one session and "Sign out everywhere" ends them all; the per-account
session version that did both at once goes. Sign-in attempts are counted per account at
an address and per address in sign_in_limit, one row each, before the password is checked.
Sessions signed in before this migration end: their cookies name no row.
"""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class StaffSession(Model):
        key = CharField(max_length=64, primary_key=True)
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        created_at = DateTimeField()
        last_seen_at = DateTimeField()
        address = CharField(max_length=64, default="")
        user_agent = CharField(max_length=200, default="")

        class Meta:
            database = db
            table_name = "staff_session"

    class SignInLimit(Model):
        key = CharField(max_length=200, primary_key=True)
        failures = IntegerField(default=0)
        last_failure_at = DateTimeField()
        blocked_until = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "sign_in_limit"

    db.create_tables([StaffSession, SignInLimit])
    migrator.migrate(migrator.drop_column("user", "session_version"))


def down(migrator, db):
    migrator.migrate(
        migrator.add_column("user", "session_version", IntegerField(default=1)),
        migrator.drop_table("sign_in_limit"),
        migrator.drop_table("staff_session"),
    )
