"""Roles with a start date and a scope of several libraries; a main library.

A role assignment's scope moves from one nullable library column to role_scope rows
(assignment, library): no row means all libraries, one or more rows mean only those.
The existing single-library scopes are copied over before the column is dropped. The
library with the lowest id becomes the main library. Semester end dates are settings
with defaults in the application, so no row is needed here.
"""

from peewee import BooleanField, DateField, ForeignKeyField, IntegerField, Model
from playhouse.migrate import SqliteMigrator


def up(migrator, db):
    class Library(Model):
        class Meta:
            database = db
            table_name = "library"

    class RoleAssignment(Model):
        class Meta:
            database = db
            table_name = "role_assignment"

    class RoleScope(Model):
        assignment = ForeignKeyField(RoleAssignment, on_delete="CASCADE")
        library = ForeignKeyField(Library)

        class Meta:
            database = db
            table_name = "role_scope"
            indexes = ((("assignment", "library"), True),)

    migrator.migrate(
        migrator.add_column("role_assignment", "starts_on", DateField(null=True)),
        migrator.add_column("library", "is_main", BooleanField(default=False)),
    )
    db.create_tables([RoleScope])
    db.execute_sql(
        "INSERT INTO role_scope (assignment_id, library_id)"
        " SELECT id, library_id FROM role_assignment WHERE library_id IS NOT NULL"
    )
    _drop_library_column(migrator)
    db.execute_sql(
        "UPDATE library SET is_main = (id = (SELECT MIN(id) FROM library))"
    )


def _drop_library_column(migrator):
    # SQLite's own DROP COLUMN refuses a column with a foreign key: rebuild the table.
    if isinstance(migrator, SqliteMigrator):
        migrator.migrate(migrator.drop_column("role_assignment", "library_id", legacy=True))
    else:
        migrator.migrate(migrator.drop_column("role_assignment", "library_id"))


def down(migrator, db):
    migrator.migrate(
        migrator.add_column("role_assignment", "library_id", IntegerField(null=True)),
    )
    db.execute_sql(
        "UPDATE role_assignment SET library_id ="
        " (SELECT MIN(library_id) FROM role_scope WHERE assignment_id = role_assignment.id)"
    )
    migrator.migrate(
        migrator.drop_table("role_scope"),
        migrator.drop_column("role_assignment", "starts_on"),
        migrator.drop_column("library", "is_main"),
    )
