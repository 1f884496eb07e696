"""Generate patrons, serve the app under waitress, time routes with concurrent clients."""

import argparse
import dataclasses
import http.client
import importlib
import json
import os
import pkgutil
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.database import opened

ROOT = Path(__file__).resolve().parent.parent
STAFF_PASSWORD = "bench password 2026"


@dataclasses.dataclass
class HttpScenario:
    """One route to time: NAME, METHOD, a path for request i, optional form data, budget."""

    name: str
    path: object  # callable(i) -> str
    method: str = "GET"
    data: object = None  # callable(i, ctx) -> dict, for POST
    budget_ms: float | None = None
    headers: dict = dataclasses.field(default_factory=dict)
    login: str = "admin"


@dataclasses.dataclass
class Context:
    """What scenarios may use: the database, sample patrons, the server's address."""

    instance: str
    db: object  # bench.database.Database
    patrons: int
    patron_ids: list
    rng: random.Random
    internal_ids: list = dataclasses.field(default_factory=list)
    external_ids: list = dataclasses.field(default_factory=list)
    base_port: int = 0
    sessions: dict = dataclasses.field(default_factory=dict)


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message):
    print(message, file=sys.stderr, flush=True)


def build_database(ctx, staff):
    """Migrate a fresh database and fill it with staff and ctx.patrons patrons."""
    from webapp import create_app
    from webapp.db import db, migrate
    from webapp.models import Library, User
    from webapp.services.demo import bulk_load_patrons
    from webapp.services.staff import create_staff

    create_app({"DATABASE_URL": ctx.db.url}, instance_path=ctx.instance)
    migrate()
    with db.connection_context():
        Library.create(code="MAIN", name="Main Library")
        for identifier, role in staff:
            create_staff(identifier, STAFF_PASSWORD, role)
        started = time.perf_counter()
        step = max(ctx.patrons // 10, 1)

        def progress(done):
            if done % step == 0 or done == ctx.patrons:
                log(f"  generated {done:,} / {ctx.patrons:,} patrons")

        bulk_load_patrons(ctx.patrons, seed=7, chunk=5000, progress=progress)
        log(f"  generated in {time.perf_counter() - started:.1f} s")
        public = User.select(User.id, User.account_type).where(User.record_type == "public")
        for user_id, account_type in public.tuples():
            ctx.patron_ids.append(user_id)
            (ctx.internal_ids if account_type == "internal" else ctx.external_ids).append(user_id)
    # A pool keeps its connections open; PostgreSQL copies a database nobody is connected to.
    getattr(db.obj, "close_all", db.close)()
    ctx.db.tune()


class Session:
    """A signed-in HTTP session against the server with its cookie and CSRF token."""

    def __init__(self, port, login):
        self.port = port
        self.cookie = ""
        self.csrf = ""
        page = self.request("GET", "/sign-in")[2]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, headers, _ = self.request(
            "POST", "/sign-in", {"identifier": login, "password": STAFF_PASSWORD,
                                 "csrf_token": token}
        )
        if status != 302:
            raise SystemExit(f"bench: sign-in as {login} failed with {status}")
        status, headers, page = self.request("GET", "/")
        if status == 302:
            page = self.request("GET", urllib.parse.urlsplit(headers["Location"]).path)[2]
        found = re.search(r'"X-CSRFToken": "([^"]+)"', page)
        self.csrf = found.group(1) if found else token

    def request(self, method, path, data=None, headers=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        body = urllib.parse.urlencode(data, doseq=True) if data is not None else None
        hdrs = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            hdrs["X-CSRFToken"] = self.csrf
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        if own:
            conn.close()
        return response.status, response.headers, text


def time_scenario(ctx, scenario, clients, requests_per_client, offset=0, warm_up=True):
    """Run SCENARIO from CLIENTS threads; return latencies in ms and the failures.

    Request numbers start at OFFSET, so two passes never share a record.
    """
    session = ctx.sessions[scenario.login]
    latencies, failures = [], []
    lock = threading.Lock()

    def worker(client):
        conn = http.client.HTTPConnection("127.0.0.1", ctx.base_port, timeout=30)
        local = []
        for n in range(requests_per_client):
            i = offset + client * requests_per_client + n
            path = scenario.path(i)
            data = scenario.data(i, ctx) if scenario.data else None
            started = time.perf_counter()
            try:
                status, _, _ = session.request(scenario.method, path, data, scenario.headers,
                                               conn=conn)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", ctx.base_port, timeout=30)
                status = f"error {exc}"
            local.append((time.perf_counter() - started) * 1000)
            if not (isinstance(status, int) and status < 400):
                with lock:
                    failures.append(f"{scenario.method} {path}: {status}")
        conn.close()
        with lock:
            latencies.extend(local)

    # Warm up caches (templates, SQLite pages) before timing.
    # Negative request numbers: warm-up never touches a record the timed requests use.
    for i in range(-1, -6, -1) if warm_up else ():
        session.request(scenario.method, scenario.path(i),
                        scenario.data(i, ctx) if scenario.data else None, scenario.headers)
    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures


def peak_memory_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def load_scenario_modules():
    import bench.scenarios as package

    return [importlib.import_module(f"bench.scenarios.{m.name}")
            for m in pkgutil.iter_modules(package.__path__)]


def main():
    parser = argparse.ArgumentParser(description="Patron Desk benchmark (SPEC section 6)")
    parser.add_argument("--patrons", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--requests", type=int, default=100, help="per client and route")
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: a private cluster started for the run")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="patron-desk-bench-")
    os.chmod(workdir, 0o755)  # the cluster's system user works in it too
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("WEBAPP_DATABASE_URL", None)
    with opened(args.db, workdir) as database:
        run(args, Context(os.path.join(workdir, "instance"), database, args.patrons, [],
                          random.Random(42)))


def run(args, ctx):
    """Build the database, time the routes against a server, then the offline scenarios."""
    modules = load_scenario_modules()
    staff = [("admin", "General System Administrator")]
    for module in modules:
        staff.extend(getattr(module, "STAFF", []))
    log(f"bench: {args.patrons:,} patrons on {ctx.db.kind} ({ctx.db.path or ctx.db.name})")
    build_database(ctx, dict(staff).items())

    results = {}
    ctx.base_port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.server", "--instance", ctx.instance, "--port",
         str(ctx.base_port), "--database-url", ctx.db.url],
        cwd=str(ROOT),
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", ctx.base_port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("bench: the server did not start") from None
                time.sleep(0.2)
        for login, _role in dict(staff).items():
            ctx.sessions[login] = Session(ctx.base_port, login)
        scenarios = []
        for module in modules:
            scenarios.extend(getattr(module, "http_scenarios", lambda c: [])(ctx))
        for scenario in scenarios:
            if args.only and args.only not in scenario.name and scenario.name != "trivial route":
                continue
            # One client: the answer time a librarian sees. Then several at once.
            alone, failures = time_scenario(ctx, scenario, 1, args.requests)
            latencies, more = time_scenario(ctx, scenario, args.clients, args.requests,
                                            offset=10 * args.requests, warm_up=False)
            failures += more
            results[scenario.name] = {
                "p50_ms": round(percentile(alone, 0.50), 2),
                "p95_ms": round(percentile(alone, 0.95), 2),
                f"p50_ms_{args.clients}_clients": round(percentile(latencies, 0.50), 2),
                f"p95_ms_{args.clients}_clients": round(percentile(latencies, 0.95), 2),
                "requests": len(alone) + len(latencies),
                "failures": len(failures),
                "budget_p95_ms": scenario.budget_ms,
            }
            if failures:
                log(f"  {scenario.name}: {len(failures)} failed, e.g. {failures[0]}")
        memory = peak_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    results["server peak memory"] = {"mb": round(memory, 1) if memory else None,
                                     "budget_mb": 200}

    for module in modules:
        offline = getattr(module, "offline", None)
        if offline and (not args.only or args.only in module.__name__):
            try:
                results.update(offline(ctx))
            except Exception as exc:  # report it beside the figures already measured
                log(f"  {module.__name__} failed: {exc!r}")
                results[module.__name__] = {"error": repr(exc)}

    print_table(results)
    print(json.dumps({"patrons": args.patrons, "clients": args.clients, "database": args.db,
                      "results": results},
                     ensure_ascii=False))


def print_table(results):
    trivial = results.get("trivial route", {}).get("p95_ms")
    many = next((k for row in results.values() for k in row if k.startswith("p95_ms_")), "")
    label = many.removeprefix("p95_ms_").replace("_", " ")
    print(f"{'measure (1 client, then ' + label + ')':<42} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'budget':>8} {'x trivial':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in results.items():
        if "p95_ms" in row:
            ratio = f"{row['p95_ms'] / trivial:.1f}" if trivial else ""
            budget = row["budget_p95_ms"] if row["budget_p95_ms"] is not None else "-"
            print(f"{name:<42} {row['p50_ms']:>8} {row['p95_ms']:>8} {budget:>8} {ratio:>9} "
                  f"{row.get(many.replace('p95', 'p50'), ''):>8} {row.get(many, ''):>8}")
        elif "mb" in row:
            print(f"{name:<42} {row['mb']:>8} MB{'':>7} {row['budget_mb']:>8}")
        else:
            print(f"{name:<42} " + ", ".join(f"{k}={v}" for k, v in row.items()))
