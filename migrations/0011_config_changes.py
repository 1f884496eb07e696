"""Add config_change: who changed the library's configuration, what, when, old and new values.

Libraries, settings, items and loan policies are changed in the admin pages; each change
is a row here, written in the same transaction as the change itself.
"""

from peewee import CharField, DateTimeField, Model, TextField


def up(migrator, db):
    class ConfigChange(Model):
        at = DateTimeField(index=True)
        actor = CharField(max_length=100)
        kind = CharField(max_length=20)
        key = CharField(max_length=200)
        field = CharField(max_length=100)
        old = TextField(null=True)
        new = TextField(null=True)

        class Meta:
            database = db
            table_name = "config_change"
            legacy_table_names = False  # index names as the model gives them: config_change_at
            indexes = ((("kind", "at"), False),)

    db.create_tables([ConfigChange])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("config_change"))
