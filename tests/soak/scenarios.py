"""The load-and-fault scenarios; each returns (figures, losses) and loses nothing when all is well."""

import dataclasses
import random
import sqlite3
import time

from tests.soak import verify
from tests.soak.load import Outcome, run_load, sign_in_clients, start_load
from tests.soak.server import AppServer


@dataclasses.dataclass
class Size:
    """How big a run is: the full soak, or the short form `make test` runs."""

    clients: int = 25
    seconds: float = 60
    sync_rows: int = 100_000
    kill_trials: int = 10
    patrons: int = 1000
    shared: int = 40  # patrons the clients' saves overlap on


FULL = Size()
SHORT = Size(clients=4, seconds=5, sync_rows=2000, kill_trials=2, patrons=200, shared=10)


def _losses(server, outcome, shared):
    """Return what went wrong: errors, accepted saves missing, users half-written, a bad file."""
    losses = [f"error: {e}" for e in outcome.errors[:20]]
    if len(outcome.errors) > 20:
        losses.append(f"... {len(outcome.errors) - 20} more errors")
    if outcome.busy:
        # Nothing is lost (the save changed nothing and said so), but saves must wait, not fail.
        losses.append(f"{outcome.busy} saves failed with 503 busy after the busy timeout")
    losses += [f"accepted save lost: user {u} campus {v}"
               for u, v in verify.missing_saves(server, outcome.accepted)]
    losses += [f"user {u} half-written" for u in verify.half_written(server, shared)]
    verdict = verify.integrity(server)
    if verdict not in (None, "ok"):
        losses.append(f"integrity check: {verdict}")
    return losses


def _load_figures(outcome):
    return dict(outcome.figures(), accepted_saves=len(outcome.accepted), conflicts=outcome.conflicts,
                errors=len(outcome.errors), failed_busy=outcome.busy)


def desk_load(server, size):
    """CLIENTS staff for SECONDS: search, User Details, Patron Services, overlapping saves."""
    shared = verify.patron_ids(server, size.shared)
    outcome = Outcome()
    clients = sign_in_clients(server.port, size.clients, shared, outcome)
    run_load(clients, size.seconds)
    return _load_figures(outcome), _losses(server, outcome, shared)


def sync_under_load(server, size, tmp):
    """A first load of SYNC_ROWS new users while the clients work; the desk keeps answering."""
    shared = verify.patron_ids(server, size.shared)
    outcome = Outcome()
    clients = sign_in_clients(server.port, size.clients, shared, outcome)
    path = tmp / "first-load.csv"
    path.write_bytes(verify.sync_file(size.sync_rows, tag="L"))
    thread, stop = start_load(clients, 3600)
    time.sleep(min(2, size.seconds / 3))
    began = time.time()
    result = server.flask("sync-users", str(path), "--source", verify.SOURCE, "--show", "0",
                          check=False, timeout=1800)
    ended = time.time()
    time.sleep(min(2, size.seconds / 3))
    stop.set()
    thread.join()
    losses = _losses(server, outcome, shared)
    users, with_history, _ = verify.sync_outcome(server, tag="L")
    if result.returncode:
        losses.append(f"sync-users failed ({result.returncode}): {result.stdout[-500:]}")
    if users != size.sync_rows or with_history != size.sync_rows:
        losses.append(f"sync: {users:,} users, {with_history:,} with history, of {size.sync_rows:,}")
    during = outcome.figures(began, ended)
    figures = dict(_load_figures(outcome), sync_seconds=round(ended - began, 1),
                   desk_p95_during_sync_ms=during["p95_ms"], requests_during_sync=during["requests"])
    return figures, losses


def kill_server(server, size):
    """kill -9 the server in the middle of saves, TRIALS times; restart and verify each time."""
    shared = verify.patron_ids(server, size.shared)
    rng = random.Random(9)
    outcome, losses = Outcome(), []
    for _ in range(size.kill_trials):
        clients = sign_in_clients(server.port, min(size.clients, 4), shared, outcome)
        thread, stop = start_load(clients, 60, writes=0.9)
        time.sleep(rng.uniform(0.5, 2.0))
        server.kill()
        stop.set()
        thread.join()
        server.start()
    losses += _losses(server, outcome, shared)
    # Errors here are the killed connections, expected; only lost or half-written data counts.
    losses = [loss for loss in losses if not loss.startswith(("error:", "..."))]
    figures = {"trials": size.kill_trials, "accepted_saves": len(outcome.accepted),
               "unanswered_saves": len(outcome.unknown)}
    return figures, losses


def _spawn_recorded(server, path):
    """Start `sync-users PATH` and return its Popen once its run is recorded (or it ended)."""
    before = verify.newest_run(server)
    process = server.spawn("sync-users", str(path), "--source", verify.SOURCE, "--show", "0")
    deadline = time.monotonic() + 120
    while (process.poll() is None and verify.newest_run(server) == before
           and time.monotonic() < deadline):
        time.sleep(0.02)
    return process


def _apply_seconds(server, size, tmp):
    """Apply a file like the killed one (other users) and return how long its apply took."""
    path = tmp / "calibration.csv"
    path.write_bytes(verify.sync_file(size.sync_rows, tag="C"))
    process = _spawn_recorded(server, path)
    started = time.monotonic()
    process.communicate()
    return time.monotonic() - started


def kill_sync(server, size, tmp):
    """kill -9 `sync-users` at random moments of an apply; nothing half-applied, runs interrupted."""
    rng = random.Random(11)
    # The kills fall within the time an apply of as many rows takes on this machine today.
    window = 0.9 * _apply_seconds(server, size, tmp)
    path = tmp / "killed.csv"
    path.write_bytes(verify.sync_file(size.sync_rows, tag="M"))
    losses, killed = [], 0
    for trial in range(size.kill_trials):
        # The kill falls in the apply, not in the start-up; the first comes at once.
        process = _spawn_recorded(server, path)
        time.sleep(rng.uniform(0.0, window) if trial else 0.0)
        was_running = process.poll() is None
        if was_running:
            process.kill()
        process.communicate()
        users, _, _ = verify.sync_outcome(server, tag="M")
        # A kill that lands after the commit, while the process exits, interrupts nothing.
        killed += was_running and not users
        if users not in (0, size.sync_rows):
            losses.append(f"trial {trial}: half-applied sync, {users:,} of {size.sync_rows:,} users")
        if users:
            break  # it finished before the kill: later trials would compare nothing
    check = server.flask("check", check=False)
    again = server.flask("check", check=False)
    _, _, runs = verify.sync_outcome(server, tag="M")
    if runs.get("running"):
        losses.append(f"{runs['running']} killed run(s) still shown as running: {check.stdout}")
    if again.returncode:
        losses.append(f"flask check after marking: {again.stdout}{again.stderr}")
    final = server.flask("sync-users", str(path), "--source", verify.SOURCE, "--show", "0", check=False)
    users, with_history, runs = verify.sync_outcome(server, tag="M")
    if final.returncode or users != size.sync_rows or with_history != size.sync_rows:
        losses.append(f"the run after the kills did not apply: {final.stdout[-500:]}")
    figures = {"trials": size.kill_trials, "killed_mid_run": killed,
               "interrupted_runs": runs.get("interrupted", 0), "apply_s": round(window / 0.9, 1)}
    return figures, losses


def backup_under_load(server, size, tmp):
    """flask backup while clients save: the copy passes integrity_check and a restored copy serves."""
    if server.sqlite_path is None:
        return {"skipped": "PostgreSQL: pg_dump"}, []
    shared = verify.patron_ids(server, size.shared)
    outcome = Outcome()
    clients = sign_in_clients(server.port, min(size.clients, 8), shared, outcome)
    thread, stop = start_load(clients, 60, writes=0.8)
    time.sleep(1)
    copy = tmp / "backup.sqlite"
    result = server.flask("backup", str(copy), check=False)
    stop.set()
    thread.join()
    losses = _losses(server, outcome, shared)
    if result.returncode:
        losses.append(f"flask backup failed: {result.stdout}{result.stderr}")
        return {}, losses
    verdict = sqlite3.connect(copy).execute("PRAGMA integrity_check").fetchone()[0]
    restored = AppServer(tmp / "restored")
    copy.rename(restored.sqlite_path)
    with restored.start():
        probe = sign_in_clients(restored.port, 1, shared, Outcome())[0]
        status, _ = probe.request("search", "GET", "/users/?q=smi")
    if verdict != "ok" or status != 200:
        losses.append(f"restored copy: integrity {verdict}, search answered {status}")
    return {"saves_during_backup": len(outcome.accepted), "copy_integrity": verdict}, losses
