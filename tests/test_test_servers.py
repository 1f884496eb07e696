"""The private test servers start, answer and stop: PostgreSQL, slapd and the Nu HTML Checker."""

import ssl

import ldap3
import peewee
import psycopg2
import pytest
from playhouse.db_url import connect

from tests.servers.postgres import running_postgres
from tests.servers.slapd import LDAP_PEOPLE
from tests.servers.vnu import validate

pytest_plugins = ["tests.servers.fixtures"]
# ldap3 checks the StartTLS host name with a helper Python deprecated; nothing for us to change.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning")

VALID_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Desk</title></head>
<body><button hx-get="/patrons" hx-target="#list" hx-swap="outerHTML" hx-on:click="x()">Load</button>
<ul id="list"></ul></body></html>"""


def test_postgres_cluster_accepts_psycopg2_and_peewee(postgres_url):
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('fsync')")
        assert cursor.fetchone() == ("patrondesk", "off")
    database = connect(postgres_url)
    assert isinstance(database, peewee.PostgresqlDatabase)

    class Note(peewee.Model):
        text = peewee.TextField()

        class Meta:
            table_name = "note"

    with database.bind_ctx([Note]), database.connection_context():
        database.create_tables([Note])
        Note.create(text="hello")
        assert [note.text for note in Note.select()] == ["hello"]


def test_postgres_url_is_a_fresh_database_each_test(postgres_url):
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass('note')")
        assert cursor.fetchone() == (None,)


def test_running_postgres_stops_and_removes_its_folder(tmp_path):
    with running_postgres(tmp_path) as cluster:
        psycopg2.connect(cluster.url()).close()
    assert not cluster.folder.exists()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(cluster.url(), connect_timeout=2)


def ldap_bind(server, uid, password, tls=None):
    return ldap3.Connection(ldap3.Server(server.url, tls=tls, connect_timeout=2),
                            f"uid={uid},{server.people_dn}", password, receive_timeout=2)


def test_slapd_binds_a_person_with_the_right_password_only(slapd):
    cn, password = LDAP_PEOPLE["ada"]
    assert ldap_bind(slapd, "ada", password).bind()
    assert not ldap_bind(slapd, "ada", "wrong password").bind()
    admin = ldap3.Connection(slapd.url, slapd.admin_dn, slapd.admin_password, auto_bind=True)
    admin.search(slapd.people_dn, "(uid=ada)", attributes=["cn", "mail"])
    assert admin.entries[0].cn.value == cn


def test_slapd_offers_starttls_with_its_own_ca(slapd):
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(slapd.ca_file))
    connection = ldap_bind(slapd, "grace", LDAP_PEOPLE["grace"][1], tls=tls)
    connection.open()
    assert connection.start_tls()
    assert connection.bind()


def test_slapd_kill_makes_the_directory_unreachable(slapd):
    slapd.kill()
    with pytest.raises(ldap3.core.exceptions.LDAPSocketOpenError):
        ldap_bind(slapd, "ada", LDAP_PEOPLE["ada"][1]).bind()
    slapd.start()
    assert ldap_bind(slapd, "ada", LDAP_PEOPLE["ada"][1]).bind()


def test_vnu_reports_invalid_markup_and_allows_htmx_attributes():
    errors = validate({"nested": "<span><form></form></span>", "valid": VALID_PAGE,
                       "row": '<tr><td hx-get="/a">1</td></tr>',
                       "typo": VALID_PAGE.replace("<ul", "<ul hxget='x'")})
    assert [(e["name"], e["message"].split(" in this context")[0]) for e in errors] == [
        ("nested", "Element “form” not allowed as child of element “span”"),
        ("typo", "Attribute “hxget” not allowed on element “ul” at this point.")]


def test_html_pages_validates_what_a_test_collected(html_pages):
    html_pages.add("desk", VALID_PAGE)
    html_pages.add("fragment", b"<li>one</li>")
    html_pages.add("bad", "<span><form></form></span>")
    with pytest.raises(AssertionError, match="bad:1:.*form"):
        html_pages.assert_valid()
