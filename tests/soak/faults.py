"""The disk-full scenario: a SQLite instance on a small tmpfs that the scenario fills and frees."""

import contextlib
import errno
import os
import subprocess
import time

from tests.soak import verify
from tests.soak.load import Outcome, sign_in_clients
from tests.soak.server import AppServer

TMPFS_MB = 64


@contextlib.contextmanager
def small_file_system(folder, megabytes=TMPFS_MB):
    """Mount a tmpfs of MEGABYTES on FOLDER for the block (root only); yield False if impossible."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        yield False
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder):
    """Write a filler file into FOLDER until its file system is full; return its path."""
    path = folder / "filler"
    block = b"\0" * (1 << 16)
    with open(path, "wb") as fh:
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return path


def _saves(clients, count, seconds, until_refused=False):
    """Have CLIENTS save in turn, COUNT saves or SECONDS at most (or until one is refused)."""
    deadline = time.monotonic() + seconds
    outcome = clients[0].outcome
    for n in range(count):
        if time.monotonic() > deadline or (until_refused and outcome.refused):
            break
        clients[n % len(clients)].save()


def disk_full(size, tmp):
    """Fill the database's disk: saves answer 503 and leave nothing partial; free it: saves work."""
    folder = tmp / "full-instance"
    with small_file_system(folder) as mounted:
        if not mounted:
            return {"skipped": "needs root to mount a small tmpfs"}, []
        with AppServer(folder) as server:
            server.prepare(min(size.patrons, 200))
            server.start()
            shared = verify.patron_ids(server, size.shared)
            outcome = Outcome()
            clients = sign_in_clients(server.port, 2, shared, outcome)
            filler = fill(folder)
            _saves(clients, 5000, 60, until_refused=True)
            refused, accepted_full = outcome.refused, len(outcome.accepted)
            filler.unlink()
            before = len(outcome.accepted)
            _saves(clients, 20, 30)
            resumed = len(outcome.accepted) - before
            losses = [f"error: {e}" for e in outcome.errors[:10]]
            losses += [f"accepted save lost: {s}" for s in verify.missing_saves(server, outcome.accepted)]
            losses += [f"user {u} half-written" for u in verify.half_written(server, shared)]
            verdict = verify.integrity(server)
    if not refused:
        losses.append("no save was refused with the disk full")
    if outcome.refused != refused:
        losses.append(f"{outcome.refused - refused} saves refused after space returned")
    if not resumed:
        losses.append("no save was accepted after space returned")
    if verdict != "ok":
        losses.append(f"integrity check: {verdict}")
    figures = {"refused_503": refused, "accepted_before_full": accepted_full,
               "accepted_after_space_returned": resumed}
    return figures, losses
