"""On PostgreSQL every search query shape reads an index, never a whole table, at 20,000 users."""

import re

import pytest

from tests.conftest import TEST_DB
from webapp.db import db
from webapp.models import Email, Identifier, User
from webapp.services import search
from webapp.services.demo import FIRST, LAST, bulk_load_patrons

pytestmark = pytest.mark.skipif(TEST_DB != "postgresql", reason="plans of PostgreSQL (TEST_DB=postgresql)")

USERS = 20_000
WHOLE_TABLE = re.compile(r'Seq Scan on "?(user|search_entry|identifier|email)"?\b')


class Recorder:
    """Wrap the database's execute_sql to keep every statement and its parameters."""

    def __init__(self, database):
        self.database = database
        self.original = database.execute_sql
        self.statements = []

    def __call__(self, sql, params=None, *args, **kwargs):
        self.statements.append((sql, tuple(params or ())))
        return self.original(sql, params, *args, **kwargs)


def shapes():
    """Return (name, call) for each query shape the bench times (bench/scenarios/search.py)."""
    barcode = Identifier.select(Identifier.value).where(Identifier.id_type == "barcode").first().value
    email = Email.select(Email.address).order_by(Email.id.desc()).first().address
    user = User.select().where(User.record_type == "public").order_by(User.id.desc()).first()
    return [
        ("exact identifier (scan)", lambda: search.find_by_identifier(barcode)),
        ("identifier typed", lambda: search.search_users(barcode[:-1])),
        ("surname prefix", lambda: search.search_users(LAST[3][:4])),
        ("two letters", lambda: search.search_users(LAST[3][:2], page=3)),
        ("two-word name", lambda: search.search_users(f"{user.first_name} {user.last_name}")),
        ("email", lambda: search.search_users(email)),
        ("email lookup", lambda: search.find_by_email(email)),
        ("thousands (smith)", lambda: search.search_users("smith")),
        ("thousands, page 40, filtered", lambda: search.search_users("smith", {"status": "active"}, 40)),
        ("first name + initial", lambda: search.search_users(f"{FIRST[2]} {LAST[5][0]}")),
        ("desk find", lambda: search.simple_search("garc")),
    ]


def plan(sql, params):
    """Return PostgreSQL's plan of SQL with PARAMS as text."""
    return "\n".join(row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall())


def test_every_search_shape_uses_an_index(dbc, monkeypatch):
    bulk_load_patrons(USERS, chunk=5000)
    db.execute_sql("ANALYZE")
    recorder = Recorder(db.obj)
    monkeypatch.setattr(db.obj, "execute_sql", recorder)
    found = {}
    for name, call in shapes():
        recorder.statements.clear()
        call()
        found[name] = list(recorder.statements)
    monkeypatch.undo()
    scans = []
    for name, statements in found.items():
        assert statements, f"{name}: no statement ran"
        for sql, params in statements:
            text = plan(sql, params)
            if WHOLE_TABLE.search(text):
                scans.append(f"{name}: {sql}\n{text}")
    assert not scans, "\n\n".join(scans)
