"""The template database each test copies: a SQLite file, or a PostgreSQL template database."""

import shutil
import uuid

import psycopg2
import psycopg2.errors


class SqliteTemplate:
    """A migrated SQLite file; each test gets a copy of it in its tmp_path."""

    def __init__(self, path):
        self.path = path

    def copy(self, tmp_path):
        """Copy the template into TMP_PATH; return the copy's URL."""
        target = tmp_path / "test.sqlite"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"

    def drop(self, url):
        """Leave the copy to tmp_path's clean-up."""


class PostgresTemplate:
    """A database of the session's cluster that each test's database is created from.

    One autocommit connection creates and drops them: CREATE DATABASE ... TEMPLATE copies
    the files, so a test starts from the migrated schema in a fraction of a migration's time.
    """

    def __init__(self, cluster):
        self.cluster = cluster
        self.name = f"template_{uuid.uuid4().hex[:8]}"
        self.url = cluster.url(self.name)
        self.admin = None

    def _execute(self, statement):
        with self.admin.cursor() as cursor:
            cursor.execute(statement)

    def __enter__(self):
        self.admin = psycopg2.connect(self.cluster.url("postgres"))
        self.admin.autocommit = True
        self._execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc):
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.close()
        return False

    def copy(self, tmp_path):
        """Create a fresh database from the template; return its URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return self.cluster.url(name)

    def drop(self, url):
        """Drop the test's database, closing what is still connected to it."""
        name = url.rsplit("/", 1)[1]
        try:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg2.errors.InsufficientPrivilege:
            # An autovacuum worker (the superuser's) is in it: only the superuser ends it.
            self.cluster.drop_database(name)
