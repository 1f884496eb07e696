"""Add sync_state: the fingerprint of each account's last synchronized row and its version then.

A synchronization skips a row whose fingerprint and user version are unchanged, so an
unchanged file costs a comparison of fingerprints instead of a comparison of records.
"""

from peewee import CharField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class SyncState(Model):
        user = ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
        fingerprint = CharField(max_length=64)
        version = IntegerField()

        class Meta:
            database = db
            table_name = "sync_state"

    db.create_tables([SyncState])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("sync_state"))
