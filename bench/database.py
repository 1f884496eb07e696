"""The database a bench run works on: an SQLite file, or a private PostgreSQL cluster.

Scenarios reach it with plain DB-API connections (`Database.connect`) and write their
SQL once, with `?` parameters: on PostgreSQL they become psycopg2's `%s`.
"""

import contextlib
import os
import sqlite3


class Connection:
    """A DB-API connection whose statements use `?` parameters on either database."""

    def __init__(self, raw, postgres):
        self.raw = raw
        self.postgres = postgres

    def _sql(self, sql):
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql, params=()):
        """Run SQL and return the cursor (its rows with fetchone/fetchall or iteration)."""
        cursor = self.raw.cursor()
        cursor.execute(self._sql(sql), tuple(params))
        return cursor

    def executemany(self, sql, rows):
        """Run SQL once per row of ROWS (on PostgreSQL in pages of rows a round trip)."""
        cursor = self.raw.cursor()
        if self.postgres:
            from psycopg2.extras import execute_batch

            execute_batch(cursor, self._sql(sql), rows, page_size=1000)
        else:
            cursor.executemany(sql, rows)
        return cursor

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        """Commit (or roll back on an error) and close, as `with sqlite3.connect()` then close."""
        if kind is None:
            self.raw.commit()
        else:
            self.raw.rollback()
        self.raw.close()


class Database:
    """Where the bench's data lives: KIND "sqlite" (PATH) or "postgresql" (a Cluster)."""

    def __init__(self, kind, path=None, cluster=None, name=None):
        self.kind = kind
        self.path = path
        self.cluster = cluster
        self.name = name

    @property
    def postgres(self):
        return self.kind == "postgresql"

    @property
    def url(self):
        """Return the DATABASE_URL the app is configured with."""
        return self.cluster.url(self.name) if self.postgres else f"sqlite:///{self.path}"

    def connect(self):
        """Return a new Connection (closed by its `with` block)."""
        if self.postgres:
            import psycopg2

            return Connection(psycopg2.connect(self.url), True)
        return Connection(sqlite3.connect(self.path, timeout=30), False)

    def copy(self, name):
        """Return a copy of this database named NAME (nothing may be connected to it)."""
        if self.postgres:
            self.cluster.create_database(name, template=self.name)
            return Database(self.kind, cluster=self.cluster, name=name)
        path = os.path.join(os.path.dirname(self.path), f"{name}.sqlite")
        source, target = sqlite3.connect(self.path), sqlite3.connect(path)
        source.backup(target)
        target.close()
        source.close()
        return Database(self.kind, path=path)

    def drop(self):
        """Remove this database."""
        if self.postgres:
            self.cluster.drop_database(self.name)
            return
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def tune(self):
        """Bring the planner's statistics up to date after the bulk load."""
        with self.connect() as conn:
            if self.postgres:
                conn.raw.autocommit = True
                conn.execute("VACUUM ANALYZE")
            else:
                conn.execute("PRAGMA optimize")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextlib.contextmanager
def opened(kind, workdir):
    """Yield the Database of a run of KIND in WORKDIR; a PostgreSQL cluster is stopped after."""
    if kind == "sqlite":
        yield Database(kind, path=os.path.join(workdir, "instance", "library.sqlite"))
        return
    from tests.servers.postgres import running_postgres

    with running_postgres(workdir) as cluster:
        yield Database(kind, cluster=cluster, name=cluster.database)
