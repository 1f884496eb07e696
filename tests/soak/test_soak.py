"""The short form of each soak scenario (make soak runs the long one), on SQLite and PostgreSQL."""

import uuid

import pytest

from tests.conftest import TEST_DB
from tests.soak import faults, scenarios
from tests.soak.server import AppServer

SIZE = scenarios.SHORT


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """Serve a prepared instance on the suite's database: SQLite, or a database of the cluster."""
    url = None
    if TEST_DB == "postgresql":
        url = request.getfixturevalue("postgres_cluster").create_database(f"soak_{uuid.uuid4().hex[:8]}")
    with AppServer(tmp_path_factory.mktemp("soak") / "instance", url) as running:
        running.prepare(SIZE.patrons)
        running.start()
        yield running
        assert not running.errors_logged(), running.errors_logged()[0]


def assert_nothing_lost(result):
    figures, losses = result
    assert not losses, (figures, losses)
    return figures


def test_desk_load(server):
    figures = assert_nothing_lost(scenarios.desk_load(server, SIZE))
    assert figures["accepted_saves"] > 0 and figures["errors"] == 0


def test_sync_under_load(server, tmp_path):
    figures = assert_nothing_lost(scenarios.sync_under_load(server, SIZE, tmp_path))
    assert figures["requests_during_sync"] > 0


def test_kill_server_in_the_middle_of_saves(server):
    figures = assert_nothing_lost(scenarios.kill_server(server, SIZE))
    assert figures["accepted_saves"] > 0


def test_kill_sync_users_in_the_middle_of_an_apply(server, tmp_path):
    figures = assert_nothing_lost(scenarios.kill_sync(server, SIZE, tmp_path))
    assert figures["killed_mid_run"] > 0
    assert figures["interrupted_runs"] == figures["killed_mid_run"]


def test_backup_under_write_load(server, tmp_path):
    assert_nothing_lost(scenarios.backup_under_load(server, SIZE, tmp_path))


@pytest.mark.skipif(TEST_DB != "sqlite", reason="a SQLite file on a small tmpfs")
def test_disk_full(tmp_path):
    figures = assert_nothing_lost(faults.disk_full(SIZE, tmp_path))
    if "skipped" in figures:
        pytest.skip(figures["skipped"])
    assert figures["refused_503"] > 0 and figures["accepted_after_space_returned"] > 0
