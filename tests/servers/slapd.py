"""A private OpenLDAP server from Debian's slapd package, with a throw-away configuration."""

import base64
import contextlib
import hashlib
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port, private_dir, remove, run, wait_until

SLAPD, SLAPADD = "/usr/sbin/slapd", "/usr/sbin/slapadd"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
BASE_DN = "dc=library,dc=test"
PEOPLE_DN = f"ou=people,{BASE_DN}"
ADMIN_DN = f"cn=admin,{BASE_DN}"
# The people of the slapd_server fixture: uid -> (cn, password).
LDAP_PEOPLE = {
    "ada": ("Ada Lovelace", "analytical engine"),
    "grace": ("Grace Hopper", "compiler first"),
    "katherine": ("Katherine Johnson", "orbital mechanics"),
}

CONFIG = """\
{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {folder}/slapd.pid
{tls}
database mdb
maxsize 104857600
suffix "{base}"
rootdn "{admin}"
rootpw {password}
directory {folder}/db
access to attrs=userPassword by self read by anonymous auth by * none
access to * by * read
"""

BASE_ENTRIES = f"""\
dn: {BASE_DN}
objectClass: dcObject
objectClass: organization
dc: library
o: Library

dn: {PEOPLE_DN}
objectClass: organizationalUnit
ou: people
"""


def ssha(password, salt=None):
    """Return password hashed as LDAP's {SSHA} userPassword value."""
    salt = os.urandom(8) if salt is None else salt
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def person_ldif(uid, password, cn=None, sn=None, mail=None):
    """Return the LDIF entry of one inetOrgPerson under ou=people with an {SSHA} password."""
    cn = cn or uid.title()
    lines = [f"dn: uid={uid},{PEOPLE_DN}", "objectClass: inetOrgPerson", f"uid: {uid}",
             f"cn: {cn}", f"sn: {sn or cn.split()[-1]}", f"mail: {mail or uid + '@library.test'}",
             f"userPassword: {ssha(password)}"]
    return "\n".join(lines) + "\n"


def self_signed_tls(folder):
    """Write a throw-away CA-less self-signed certificate for 127.0.0.1 and return slapd's TLS lines."""
    cert, key = folder / "server.pem", folder / "server.key"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)])
    return (f"TLSCACertificateFile {cert}\nTLSCertificateFile {cert}\n"
            f"TLSCertificateKeyFile {key}\n")


@dataclass
class Slapd:
    """A slapd with its throw-away configuration: where it answers, its base and admin."""

    url: str
    folder: Path
    command: list = field(repr=False)
    admin_password: str
    base_dn: str = BASE_DN
    people_dn: str = PEOPLE_DN
    admin_dn: str = ADMIN_DN
    ca_file: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self):
        """Start slapd (again, after kill() or stop(): same port, same data) and wait until it answers."""
        # slapd writes its pid file once it holds its port: until the file names this
        # process, whatever answers at the URL is another server (one killed left it behind).
        pidfile = self.folder / "slapd.pid"
        pidfile.unlink(missing_ok=True)
        with open(self.folder / "slapd.log", "a") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: not self.alive() or (_pid_in(pidfile) == self.process.pid
                                                and _answers(self.url)), what="slapd")
        if not self.alive():
            raise RuntimeError(f"slapd exited:\n{(self.folder / 'slapd.log').read_text()}")

    def alive(self):
        """Tell whether the slapd process is running."""
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """Kill slapd at once (SIGKILL), as a directory outage would."""
        if self.alive():
            self.process.kill()
            self.process.wait(10)

    def pause(self):
        """Stop slapd with SIGSTOP: it still accepts connections and answers nothing.

        The stop takes effect when the kernel next schedules slapd: wait until it has.
        """
        os.kill(self.process.pid, signal.SIGSTOP)
        wait_until(lambda: _state(self.process.pid) == "T", what="slapd stopped")

    def resume(self):
        """Let a paused slapd run again (SIGCONT)."""
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self):
        """Stop slapd cleanly (SIGTERM), killing it if it does not exit within 10 s."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _state(pid):
    """Return the state letter of process PID ("T" once a SIGSTOP has stopped it)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def _pid_in(path):
    """Return the process id written in PATH, or None while there is none."""
    try:
        return int(path.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def _answers(url):
    """Tell whether an LDAP server answers an anonymous bind at url."""
    import ldap3

    try:
        with ldap3.Connection(ldap3.Server(url, connect_timeout=1), receive_timeout=1) as conn:
            return conn.bound
    except ldap3.core.exceptions.LDAPException:
        return False


def _configure(folder, password, ldif_people, tls):
    """Write slapd.conf and load the base entries and ldif_people into a fresh database."""
    (folder / "db").mkdir()
    includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
    conf = folder / "slapd.conf"
    conf.write_text(CONFIG.format(includes=includes, folder=folder, base=BASE_DN, admin=ADMIN_DN,
                                  password=password, tls=self_signed_tls(folder) if tls else ""))
    data = folder / "people.ldif"
    data.write_text(BASE_ENTRIES + "\n" + ldif_people.strip() + "\n")
    run([SLAPADD, "-q", "-f", str(conf), "-l", str(data)])
    return conf


@contextlib.contextmanager
def running_slapd(tmp_dir=None, ldif_people="", tls=True, password="admin-secret"):
    """Start a private slapd loaded with ldif_people under tmp_dir, yield a Slapd, stop and delete it."""
    if not os.path.exists(SLAPD):
        raise RuntimeError("slapd is not installed: apt-get install -y slapd ldap-utils")
    folder = private_dir(tmp_dir, "slapd-")
    server = None
    try:
        conf = _configure(folder, password, ldif_people, tls)
        url = f"ldap://127.0.0.1:{free_port()}"
        server = Slapd(url, folder, [SLAPD, "-d", "0", "-h", url + "/", "-f", str(conf)], password,
                       ca_file=folder / "server.pem" if tls else None)
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
        remove(folder)
