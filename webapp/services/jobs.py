"""Long jobs (synchronization runs): who runs them, and which ones died on the way.

A run records the host and process id that run it and, on PostgreSQL, a heartbeat from
a background thread. A run still marked "running" is interrupted when its process is
gone (same host) or its heartbeat is stale (another host). Its work was one transaction,
so nothing of it was applied; marking it interrupted keeps the admin page honest.
"""

import datetime
import json
import os
import socket
import threading

from peewee import OperationalError

from webapp.db import db, is_sqlite
from webapp.models import SyncRun
from webapp.services.clock import now

RUNNING = "running"
INTERRUPTED = "interrupted"

# A heartbeat every HEARTBEAT_SECONDS; a run on another host is presumed dead once its
# last heartbeat is STALE_AFTER old (several missed beats, so a slow moment is not death).
HEARTBEAT_SECONDS = 15
STALE_AFTER = datetime.timedelta(minutes=2)
# A process that started later than the run (plus this slack) is not the run's process.
START_SLACK = datetime.timedelta(seconds=2)

INTERRUPTED_MESSAGE = ("Interrupted: the process running it stopped before it finished; "
                       "nothing of it was applied.")


def hostname():
    """Return this machine's name as runs record it."""
    return socket.gethostname()[:255]


def owner_fields():
    """Return the columns that tie a new run to this process."""
    return {"host": hostname(), "pid": os.getpid(), "heartbeat": now()}


def _process_state(pid):
    """Return the state letter of process PID from /proc, "" where /proc is unavailable, None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]


def _process_started(pid):
    """Return when process PID started (UTC, naive) or None when it cannot be told."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    seconds = boot + ticks / os.sysconf("SC_CLK_TCK")
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


def process_alive(pid, since=None):
    """Tell whether process PID runs on this host (and, given SINCE, started before it)."""
    if not pid or pid <= 0:
        return False
    state = _process_state(pid)
    if state is None or state in ("Z", "X"):
        return False
    if not state:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    started = _process_started(pid)
    return not (since and started and started > since + START_SLACK)


def is_alive(run, at=None):
    """Tell whether RUN is still being worked on by a living process."""
    if run.status != RUNNING:
        return False
    if run.pid and run.host == hostname():
        return process_alive(run.pid, since=run.at)
    last = run.heartbeat or run.at
    return last is not None and (at or now()) - last < STALE_AFTER


def mark_interrupted_runs():
    """Mark every running run whose process died as interrupted; return their ids."""
    interrupted = []
    report = json.dumps({"message": INTERRUPTED_MESSAGE})
    for run in SyncRun.select().where(SyncRun.status == RUNNING):
        if is_alive(run):
            continue
        with db.atomic():
            changed = (SyncRun.update(status=INTERRUPTED, report=report)
                       .where((SyncRun.id == run.id) & (SyncRun.status == RUNNING)).execute())
        if changed:
            interrupted.append(run.id)
    return interrupted


def interrupted_runs(limit=20):
    """Return the latest interrupted runs, newest first."""
    query = SyncRun.select().where(SyncRun.status == INTERRUPTED)
    return list(query.order_by(SyncRun.id.desc()).limit(limit))


def beat(run_id):
    """Record that RUN_ID's process is alive now."""
    with db.connection_context(), db.atomic():
        SyncRun.update(heartbeat=now()).where(SyncRun.id == run_id).execute()


class Heartbeat:
    """A background thread that beats for a run while the block runs.

    On SQLite it does nothing: the run's own transaction holds the only write lock, and
    every process sharing the file is on this host, where the process id tells enough.
    """

    def __init__(self, run_id, interval=HEARTBEAT_SECONDS):
        """Beat for RUN_ID every INTERVAL seconds once entered."""
        self.run_id = run_id
        self.interval = interval
        self._stop = threading.Event()
        self.thread = None

    def _loop(self):
        """Beat until stopped."""
        while not self._stop.wait(self.interval):
            try:
                beat(self.run_id)
            except OperationalError:
                continue  # a missed beat; the next one may pass

    def __enter__(self):
        """Start beating (PostgreSQL)."""
        if not is_sqlite():
            self.thread = threading.Thread(target=self._loop, name=f"heartbeat-{self.run_id}",
                                            daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        """Stop beating."""
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout=self.interval + 5)
        return False
