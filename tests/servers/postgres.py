"""A private PostgreSQL cluster from Debian's postgresql package, for tests."""

import contextlib
import glob
from dataclasses import dataclass
from pathlib import Path

from tests.servers import as_user, free_port, give_to, private_dir, remove, run

USER = "postgres"  # the system user that owns the cluster when we run as root
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def postgres_bin():
    """Return the bin folder of the newest installed PostgreSQL, or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    found.sort(key=lambda path: int(Path(path).parent.parent.name))
    return Path(found[-1]).parent if found else None


@dataclass
class Cluster:
    """A running cluster: where it listens and the role and database made for the tests."""

    bin: Path
    folder: Path
    port: int
    user: str
    password: str
    database: str

    def url(self, database=None):
        """Return the connection URL of database (default: the cluster's own)."""
        name = database or self.database
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"

    def sql(self, statement, database="postgres"):
        """Run one SQL statement as the superuser over the private unix socket."""
        psql = [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                str(self.folder / "socket"), "-p", str(self.port), "-d", database, "-c", statement]
        return run(as_user(USER, psql))

    def create_database(self, name, template=None):
        """Create database name as a copy of template (default: the cluster's) and return its URL."""
        source = template or self.database
        self.sql(f'CREATE DATABASE "{name}" OWNER "{self.user}" TEMPLATE "{source}"')
        return self.url(name)

    def drop_database(self, name):
        """Drop database name, closing whatever connections are still open to it."""
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _init(bin_dir, folder, port):
    """Run initdb into folder/data and write the test settings."""
    data, sockets = folder / "data", folder / "socket"
    data.mkdir()
    sockets.mkdir()
    give_to(USER, folder)
    run(as_user(USER, [str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust",
                       "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]))
    settings = {"listen_addresses": "'127.0.0.1'", "port": str(port),
                "unix_socket_directories": f"'{sockets}'", "max_connections": "100",
                "logging_collector": "off", **FAST}
    with open(data / "postgresql.conf", "a") as conf:
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    with open(data / "pg_hba.conf", "w") as hba:
        hba.write("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")


def _pg_ctl(bin_dir, folder, *args):
    """Run pg_ctl on the cluster in folder."""
    command = [str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), *args]
    return run(as_user(USER, command))


@contextlib.contextmanager
def running_postgres(tmp_dir=None, user="patrondesk", password="patrondesk", database="patrondesk"):
    """Start a private cluster in a folder under tmp_dir, yield a Cluster, stop and delete it."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    folder = private_dir(tmp_dir, "pg-")
    started = False
    try:
        port = free_port()
        _init(bin_dir, folder, port)
        _pg_ctl(bin_dir, folder, "start", "-w", "-t", "60", "-l", str(folder / "server.log"))
        started = True
        cluster = Cluster(bin_dir, folder, port, user, password, database)
        cluster.sql(f"CREATE ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{password}'")
        cluster.sql(f'CREATE DATABASE "{database}" OWNER "{user}"')
        yield cluster
    finally:
        if started:
            _pg_ctl(bin_dir, folder, "stop", "-m", "fast", "-w")
        remove(folder)
