"""Runs whose process died are told apart from running ones and marked interrupted."""

import datetime
import os
import subprocess
import sys
import time

from webapp.db import is_sqlite
from webapp.models import SyncRun
from webapp.services import jobs
from webapp.services.clock import now


def run(**fields):
    values = {"by": "system", "source": "SIS", "filename": "f.csv", "sha256": "0" * 64,
              "status": jobs.RUNNING, "at": now(), **fields}
    return SyncRun.create(**values)


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_run_of_a_dead_process_is_marked_interrupted(dbc):
    dead = run(host=jobs.hostname(), pid=dead_pid())
    alive = run(**jobs.owner_fields())
    assert jobs.mark_interrupted_runs() == [dead.id]
    dead = SyncRun.get_by_id(dead.id)
    assert dead.status == jobs.INTERRUPTED
    assert "nothing of it was applied" in dead.report
    assert SyncRun.get_by_id(alive.id).status == jobs.RUNNING
    assert jobs.interrupted_runs() == [dead]
    assert jobs.mark_interrupted_runs() == []


def test_zombie_and_reused_process_ids_count_as_dead(dbc):
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped
        assert not jobs.process_alive(zombie.pid)
    finally:
        zombie.wait()
    # This process started long after the run: the run's own process, with this id, is gone.
    reused = run(host=jobs.hostname(), pid=os.getpid(), at=datetime.datetime(2000, 1, 1))
    assert not jobs.is_alive(reused)
    assert jobs.process_alive(os.getpid(), since=now())


def test_another_hosts_run_lives_while_its_heartbeat_is_fresh(dbc):
    fresh = run(host="other-machine", pid=1, heartbeat=now())
    stale = run(host="other-machine", pid=1, heartbeat=now() - jobs.STALE_AFTER * 2)
    legacy = run(at=now() - datetime.timedelta(hours=3))  # started before pids were recorded
    assert sorted(jobs.mark_interrupted_runs()) == [stale.id, legacy.id]
    assert SyncRun.get_by_id(fresh.id).status == jobs.RUNNING


def test_finished_runs_are_left_alone(dbc):
    done = run(status="applied", host=jobs.hostname(), pid=dead_pid())
    assert jobs.mark_interrupted_runs() == []
    assert SyncRun.get_by_id(done.id).status == "applied"


def test_heartbeat_beats_on_postgresql_only(dbc):
    beating = run(**jobs.owner_fields())
    before = SyncRun.get_by_id(beating.id).heartbeat
    with jobs.Heartbeat(beating.id, interval=0.01) as heartbeat:
        beats = heartbeat.thread is not None
        time.sleep(0.2)
    assert beats is not is_sqlite()  # SQLite: the process id is enough
    after = SyncRun.get_by_id(beating.id).heartbeat
    assert (after > before) is not is_sqlite()
    jobs.beat(beating.id)
    assert SyncRun.get_by_id(beating.id).heartbeat >= after
