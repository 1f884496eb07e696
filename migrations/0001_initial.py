"""Create the initial schema: libraries, users and segments, roles, history, loans, sync runs.

The models are frozen copies, independent of webapp.models, so later model changes
never alter what this migration creates. Timestamps get their values from the app.
"""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    class Library(Model):
        code = CharField(unique=True, max_length=32)
        name = CharField(max_length=200)
        class Meta:
            database = db
            table_name = 'library'
    db.create_tables([Library])

    class User(Model):
        primary_id = CharField(unique=True, max_length=100)
        first_name = CharField(max_length=100, default='')
        middle_name = CharField(max_length=100, default='')
        last_name = CharField(max_length=100)
        pref_first_name = CharField(max_length=100, default='')
        pref_middle_name = CharField(max_length=100, default='')
        pref_last_name = CharField(max_length=100, default='')
        title = CharField(max_length=50, default='')
        birth_date = DateField(null=True)
        user_group = CharField(max_length=50)
        record_type = CharField(max_length=10, default='public')
        account_type = CharField(max_length=10, default='internal')
        source = CharField(null=True, max_length=50)
        external_id = CharField(null=True, max_length=100)
        status = CharField(max_length=10, default='active')
        expiry_date = DateField(null=True)
        purge_date = DateField(null=True)
        campus = CharField(max_length=50, default='')
        rs_library = ForeignKeyField(Library, null=True, on_delete='SET NULL')
        job_category = CharField(max_length=50, default='')
        preferred_language = CharField(max_length=20, default='')
        notices_opt_in = BooleanField(default=True)
        pin_hash = CharField(null=True, max_length=200)
        password_hash = CharField(null=True, max_length=200)
        version = IntegerField(default=1)
        session_version = IntegerField(default=1)
        last_synced_at = DateTimeField(null=True)
        created_at = DateTimeField()
        created_by = CharField(max_length=100, default='system')
        modified_at = DateTimeField()
        modified_by = CharField(max_length=100, default='system')
        class Meta:
            database = db
            table_name = 'user'
            indexes = ((('source', 'external_id'), True),)
    db.create_tables([User])

    class Address(Model):
        segment = CharField(max_length=10, default='internal')
        edited_locally = BooleanField(default=False)
        user = ForeignKeyField(User, on_delete='CASCADE')
        line1 = CharField(max_length=200, default='')
        line2 = CharField(max_length=200, default='')
        city = CharField(max_length=100, default='')
        region = CharField(max_length=100, default='')
        postal_code = CharField(max_length=20, default='')
        country = CharField(max_length=100, default='')
        address_type = CharField(max_length=20, default='home')
        preferred = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'address'
    db.create_tables([Address])

    class Block(Model):
        segment = CharField(max_length=10, default='internal')
        edited_locally = BooleanField(default=False)
        user = ForeignKeyField(User, on_delete='CASCADE')
        block_type = CharField(max_length=30)
        description = CharField(max_length=500, default='')
        expires_on = DateField(null=True)
        class Meta:
            database = db
            table_name = 'block'
    db.create_tables([Block])

    class Email(Model):
        segment = CharField(max_length=10, default='internal')
        edited_locally = BooleanField(default=False)
        user = ForeignKeyField(User, on_delete='CASCADE')
        address = CharField(index=True, max_length=254)
        email_type = CharField(max_length=20, default='personal')
        preferred = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'email'
    db.create_tables([Email])

    class FieldState(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        field = CharField(max_length=50)
        state = CharField(max_length=10)
        source_value = TextField(null=True)
        changed_at = DateTimeField()
        changed_by = CharField(max_length=100, default='system')
        class Meta:
            database = db
            table_name = 'field_state'
            indexes = ((('user', 'field'), True),)
    db.create_tables([FieldState])

    class History(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        at = DateTimeField()
        actor = CharField(max_length=100)
        via = CharField(max_length=30)
        field = CharField(max_length=100)
        old = TextField(null=True)
        new = TextField(null=True)
        class Meta:
            database = db
            table_name = 'history'
            indexes = ((('user', 'at'), False),)
    db.create_tables([History])

    class Identifier(Model):
        segment = CharField(max_length=10, default='internal')
        edited_locally = BooleanField(default=False)
        user = ForeignKeyField(User, on_delete='CASCADE')
        id_type = CharField(max_length=30)
        value = CharField(unique=True, max_length=100)
        note = CharField(max_length=200, default='')
        class Meta:
            database = db
            table_name = 'identifier'
    db.create_tables([Identifier])

    class Loan(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        title = CharField(max_length=300)
        item_barcode = CharField(max_length=50)
        loaned_at = DateTimeField()
        due_at = DateTimeField()
        returned_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'loan'
    db.create_tables([Loan])

    class Note(Model):
        segment = CharField(max_length=10, default='internal')
        edited_locally = BooleanField(default=False)
        user = ForeignKeyField(User, on_delete='CASCADE')
        note_type = CharField(max_length=20, default='general')
        text = TextField()
        show_at_desk = BooleanField(default=False)
        created_by = CharField(max_length=100, default='system')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'note'
    db.create_tables([Note])

    class Phone(Model):
        segment = CharField(max_length=10, default='internal')
        edited_locally = BooleanField(default=False)
        user = ForeignKeyField(User, on_delete='CASCADE')
        number = CharField(max_length=40)
        phone_type = CharField(max_length=20, default='mobile')
        preferred = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'phone'
    db.create_tables([Phone])

    class RoleAssignment(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        role = CharField(max_length=60)
        library = ForeignKeyField(Library, null=True, on_delete='CASCADE')
        expires_on = DateField(null=True)
        assigned_at = DateTimeField()
        assigned_by = CharField(max_length=100, default='system')
        class Meta:
            database = db
            table_name = 'role_assignment'
    db.create_tables([RoleAssignment])

    class SearchTerm(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        term = CharField(index=True, max_length=254)
        kind = CharField(max_length=10)
        class Meta:
            database = db
            table_name = 'search_term'
    db.create_tables([SearchTerm])

    class Setting(Model):
        key = CharField(primary_key=True, max_length=100)
        value = TextField()
        class Meta:
            database = db
            table_name = 'setting'
    db.create_tables([Setting])

    class SignInLog(Model):
        at = DateTimeField(index=True)
        identifier = CharField(index=True, max_length=100)
        address = CharField(index=True, max_length=64)
        event = CharField(max_length=20)
        success = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'sign_in_log'
    db.create_tables([SignInLog])

    class SyncRun(Model):
        at = DateTimeField()
        by = CharField(max_length=100)
        source = CharField(max_length=50)
        filename = CharField()
        sha256 = CharField(max_length=64)
        status = CharField(max_length=20)
        created = IntegerField(default=0)
        updated = IntegerField(default=0)
        unchanged = IntegerField(default=0)
        deactivated = IntegerField(default=0)
        rejected = IntegerField(default=0)
        report = TextField(default='')
        class Meta:
            database = db
            table_name = 'sync_run'
    db.create_tables([SyncRun])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('sync_run'))
    migrator.migrate(migrator.drop_table('sign_in_log'))
    migrator.migrate(migrator.drop_table('setting'))
    migrator.migrate(migrator.drop_table('search_term'))
    migrator.migrate(migrator.drop_table('role_assignment'))
    migrator.migrate(migrator.drop_table('phone'))
    migrator.migrate(migrator.drop_table('note'))
    migrator.migrate(migrator.drop_table('loan'))
    migrator.migrate(migrator.drop_table('identifier'))
    migrator.migrate(migrator.drop_table('history'))
    migrator.migrate(migrator.drop_table('field_state'))
    migrator.migrate(migrator.drop_table('email'))
    migrator.migrate(migrator.drop_table('block'))
    migrator.migrate(migrator.drop_table('address'))
    migrator.migrate(migrator.drop_table('user'))
    migrator.migrate(migrator.drop_table('library'))
