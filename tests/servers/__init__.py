"""Private throw-away servers for tests: PostgreSQL, slapd and the Nu HTML Checker."""

import os
import pwd
import random
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now.

    A random port below the kernel's ephemeral range: the kernel hands a port just freed
    (a server killed to be restarted on it) to the next bind to port 0, which may be
    another test worker's, and the restarted server would find its port taken.
    """
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port in 20000-31999")


def wait_until(check, timeout=20.0, interval=0.05, what="server"):
    """Call check() until it returns true, or raise TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(interval)


def as_user(user, command):
    """Prefix command to run as the system user when we are root, else leave it as is."""
    if os.geteuid() != 0:
        return list(command)
    return ["runuser", "-u", user, "--", *command]


def give_to(user, path):
    """Hand path (recursively) to the system user when we are root."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid)


def _others_can_enter(folder):
    """Tell whether every folder from / down to folder lets other users pass through."""
    folder = Path(folder).resolve()
    return all(os.stat(part).st_mode & stat.S_IXOTH for part in [folder, *folder.parents])


def private_dir(tmp_dir, prefix):
    """Make a fresh folder under tmp_dir, or the system temp folder if other users cannot reach it."""
    # pytest's base temp folder is private to root, so the postgres user could not enter it.
    if tmp_dir is None or (os.geteuid() == 0 and not _others_can_enter(tmp_dir)):
        tmp_dir = tempfile.gettempdir()
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=tmp_dir))
    os.chmod(folder, 0o755)
    return folder


def run(command, **kwargs):
    """Run command, raising with its output when it fails."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")
    return result.stdout


def remove(path):
    """Delete a folder tree, ignoring what is already gone."""
    shutil.rmtree(path, ignore_errors=True)
