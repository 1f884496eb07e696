"""Circulation on PostgreSQL: migration 0009, the one-open-loan index, two desks at once."""

import datetime
import threading

import pytest
from peewee import IntegrityError

from webapp import create_app
from webapp.db import db, migrate
from webapp.models import Item, Library, Loan, User
from webapp.services import circulation
from webapp.services.circulation import CirculationRefused
from webapp.services.permissions import Actor

pytest_plugins = ["tests.servers.fixtures"]
DESK = Actor("desk1", frozenset({"users.view", "desk.use"}))


@pytest.fixture
def pg_desk(postgres_url, tmp_path):
    """A migrated PostgreSQL database with a library, two patrons and an item."""
    create_app({"TESTING": True, "DATABASE_URL": postgres_url, "SECRET_KEY": "test"},
               instance_path=tmp_path / "instance")
    migrate()
    with db.connection_context():
        library = Library.create(code="MAIN", name="Main Library")
        expiry = datetime.date.today() + datetime.timedelta(days=7)
        ids = [User.create(primary_id=f"P{n}", last_name="Reader", user_group="Graduate",
                           expiry_date=expiry).id for n in (1, 2)]
        Item.create(barcode="PG1", barcode_key="pg1", title="Tides", library=library)
    yield ids
    db.close()


def test_check_out_is_capped_and_the_database_refuses_a_second_open_loan(pg_desk):
    with db.connection_context():
        loan = circulation.check_out(DESK, pg_desk[0], "pg1")
        assert loan.shortened and loan.due_at.date() == datetime.date.today() + datetime.timedelta(days=7)
        with pytest.raises(IntegrityError), db.atomic():
            Loan.create(user=pg_desk[1], item=loan.item_id, title="Tides", item_barcode="PG1",
                        due_at=loan.due_at)
        with pytest.raises(CirculationRefused) as refused:
            circulation.check_out(DESK, pg_desk[1], "PG1")
        assert refused.value.code == "on_loan_elsewhere"


def test_two_desks_at_once_make_one_loan_on_postgresql(pg_desk):
    barrier = threading.Barrier(2)
    outcomes = []

    def desk(user_id):
        with db.connection_context():
            barrier.wait()
            try:
                outcomes.append(circulation.check_out(DESK, user_id, "PG1"))
            except CirculationRefused as refused:
                outcomes.append(refused)

    threads = [threading.Thread(target=desk, args=(user_id,)) for user_id in pg_desk]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["CirculationRefused", "Loan"]
    with db.connection_context():
        assert Loan.select().count() == 1
        assert Item.get(Item.barcode == "PG1").status == "on_loan"
