"""Concurrent staff clients: search, User Details, Patron Services and saves on shared patrons."""

import dataclasses
import http.client
import random
import re
import threading
import time
import urllib.parse

from bench.harness import Session, percentile
from webapp.services.demo import LAST

VERSION = re.compile(r'name="version" value="(\d+)"')
SAVE_FIELD = "campus"  # library-managed: editable on internal and external patrons alike


@dataclasses.dataclass
class Outcome:
    """What the clients saw: timed requests, accepted saves, conflicts and errors."""

    timings: list = dataclasses.field(default_factory=list)  # (started at, ms, kind)
    accepted: list = dataclasses.field(default_factory=list)  # (user id, value saved)
    unknown: list = dataclasses.field(default_factory=list)  # saves whose answer never came
    conflicts: int = 0
    refused: int = 0  # 503: the database was full
    busy: int = 0  # 503: the save waited out the busy timeout, nothing changed
    errors: list = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def figures(self, since=None, until=None):
        """Return the request count and p50/p95/p99 in ms of the requests in [since, until)."""
        ms = [t for at, t, _ in self.timings
              if (since is None or at >= since) and (until is None or at < until)]
        return {"requests": len(ms), "p50_ms": round(percentile(ms, 0.50), 1),
                "p95_ms": round(percentile(ms, 0.95), 1), "p99_ms": round(percentile(ms, 0.99), 1)}


class StaffClient:
    """One signed-in staff member on one keep-alive connection."""

    def __init__(self, port, login, patron_ids, outcome, name, rng):
        self.session = Session(port, login)
        self.port = port
        self.patron_ids = patron_ids
        self.outcome = outcome
        self.name = name
        self.rng = rng
        self.saves = 0
        self.conn = None

    def request(self, kind, method, path, data=None, htmx=False):
        """Send one request; return (status, body), status None when the connection failed."""
        self.conn = self.conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=180)
        headers = {"HX-Request": "true"} if htmx else {}
        started = time.time()
        tick = time.perf_counter()
        try:
            status, _, body = self.session.request(method, path, data, headers, conn=self.conn)
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = None
            return None, str(exc)
        with self.outcome.lock:
            self.outcome.timings.append((started, (time.perf_counter() - tick) * 1000, kind))
        return status, body

    def check(self, kind, status, body, allowed=(200, 302)):
        """Count a status outside ALLOWED as an error."""
        if status not in allowed:
            with self.outcome.lock:
                self.outcome.errors.append(f"{kind}: {status} {body[:200]!r}")

    def save(self):
        """Open a patron's General tab for editing and save a new campus value."""
        uid = self.rng.choice(self.patron_ids)
        status, body = self.request("edit form", "GET", f"/users/{uid}/general/edit", htmx=True)
        self.check("edit form", status, body)
        found = VERSION.search(body or "") if status == 200 else None
        if not found:
            return
        self.saves += 1
        value = f"{self.name}-{self.saves}"
        data = {"version": found.group(1), SAVE_FIELD: value, "notices_opt_in": "on"}
        status, body = self.request("save", "POST", f"/users/{uid}/general", data, htmx=True)
        with self.outcome.lock:
            if status == 200:
                self.outcome.accepted.append((uid, value))
            elif status == 409:
                self.outcome.conflicts += 1
            elif status == 503 and "The database is full" in body:
                self.outcome.refused += 1
            elif status == 503:
                self.outcome.busy += 1
            elif status is None:
                self.outcome.unknown.append((uid, value))
        if status not in (200, 409, 503, None):
            self.check("save", status, body, allowed=())

    def step(self, writes=0.3):
        """Do one thing a desk does: mostly reads, a share of saves."""
        roll = self.rng.random()
        if roll < writes:
            return self.save()
        uid = self.rng.choice(self.patron_ids)
        if roll < writes + 0.25:
            query = urllib.parse.quote(self.rng.choice(LAST)[:4])
            kind, path = "search", f"/users/?q={query}"
        elif roll < writes + 0.5:
            kind, path = "user details", f"/users/{uid}"
        else:
            kind, path = "patron services", f"/desk/?patron={uid}"
        status, body = self.request(kind, "GET", path)
        self.check(kind, status, body)


# Sign-ins of one account from one address in flight at once. Each attempt is counted
# against the account-at-address limit (5) until its password is found right, so more than
# that at the same moment are throttled, as a burst of guesses would be.
SIGN_INS_AT_ONCE = 4


def sign_in_clients(port, count, patron_ids, outcome, seed=14):
    """Sign COUNT staff clients in, a few at a time (each sign-in hashes a password)."""
    clients = [None] * count
    turns = threading.Semaphore(SIGN_INS_AT_ONCE)

    def sign_in(n):
        # The demo's administrator: the one role that searches, edits and uses the desk.
        with turns:
            clients[n] = StaffClient(port, "admin", patron_ids, outcome, f"c{n}", random.Random(seed + n))

    threads = [threading.Thread(target=sign_in, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    missing = clients.count(None)
    if missing:
        raise RuntimeError(f"{missing} of {count} staff clients could not sign in")
    return clients


def run_load(clients, seconds, writes=0.3, stop=None):
    """Let CLIENTS work for SECONDS (or until STOP is set); return when all have finished."""
    deadline = time.monotonic() + seconds
    stop = stop or threading.Event()

    def work(client):
        while time.monotonic() < deadline and not stop.is_set():
            client.step(writes)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def start_load(clients, seconds, writes=0.3):
    """Start run_load in a thread; return (thread, stop event)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_load, args=(clients, seconds, writes, stop))
    thread.start()
    return thread, stop
