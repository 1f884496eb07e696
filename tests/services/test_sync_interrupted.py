"""A run whose process died shows as interrupted, blocks nothing, and is logged with counts."""

import logging
import os
import subprocess
import sys

from tests.soak.verify import SOURCE, sync_file
from webapp.models import SyncRun, User
from webapp.services import jobs, sync
from webapp.services.permissions import SYSTEM


def test_a_run_records_its_process(dbc):
    run = sync.synchronize(sync_file(3), filename="k.csv", source=SOURCE, actor=SYSTEM)
    assert run.status == sync.APPLIED
    assert (run.host, run.pid) == (jobs.hostname(), os.getpid()) and run.heartbeat is not None


def test_a_dead_run_shows_as_interrupted_and_the_next_run_applies(dbc):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = SyncRun.create(by="system", source=SOURCE, filename="k.csv", sha256="0" * 64,
                          status=sync.RUNNING, host=jobs.hostname(), pid=child.pid)
    assert [r.status for r in sync.recent_runs() if r.id == dead.id] == [sync.INTERRUPTED]
    assert "nothing of it was applied" in sync.report(sync.get_run(dead.id))["message"]
    run = sync.synchronize(sync_file(3), filename="k.csv", source=SOURCE, actor=SYSTEM)
    assert run.status == sync.APPLIED and run.created == 3
    assert User.select().where(User.source == SOURCE).count() == 3


def test_runs_are_logged_with_their_counts(dbc, caplog):
    caplog.set_level(logging.INFO, logger="webapp.sync")
    run = sync.synchronize(sync_file(2), filename="k.csv", source=SOURCE, actor=SYSTEM)
    [line] = [r for r in caplog.records if r.name == "webapp.sync"]
    assert line.counts["created"] == 2 and line.outcome == "applied" and line.run == run.id
    assert f"run {run.id} applied: source={SOURCE}" in line.getMessage()
    assert "Soakley" not in caplog.text and "soak.example" not in caplog.text
