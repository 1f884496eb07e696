"""make soak: the load-and-fault suite on SQLite and PostgreSQL; exits non-zero on any loss.

    python -m tests.soak [--db sqlite|postgresql|both] [--short] [--only NAME]
"""

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.servers.postgres import postgres_bin, running_postgres
from tests.soak import faults, scenarios
from tests.soak.server import AppServer

NAMES = ("desk load", "sync under load", "kill server", "kill sync", "backup", "disk full")


def log(message):
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def database(kind, tmp):
    """Yield the DATABASE_URL of a fresh database of KIND (None: SQLite in the instance)."""
    if kind == "sqlite":
        yield None
        return
    with running_postgres(tmp) as cluster:
        yield cluster.create_database("soak")


def run_scenario(name, server, size, tmp):
    """Run one scenario by NAME; return (figures, losses)."""
    if name == "desk load":
        return scenarios.desk_load(server, size)
    if name == "sync under load":
        return scenarios.sync_under_load(server, size, tmp)
    if name == "kill server":
        return scenarios.kill_server(server, size)
    if name == "kill sync":
        return scenarios.kill_sync(server, size, tmp)
    if name == "backup":
        return scenarios.backup_under_load(server, size, tmp)
    if server.sqlite_path is None:
        return {"skipped": "SQLite's file only"}, []
    return faults.disk_full(size, tmp)


def soak(kind, size, only=None, workers=None):
    """Run every scenario on a database of KIND; return {scenario: (figures, losses)}."""
    tmp = Path(tempfile.mkdtemp(prefix=f"patron-desk-soak-{kind}-"))
    results = {}
    try:
        with database(kind, tmp) as url, AppServer(tmp / "instance", url, workers=workers) as server:
            log(f"soak on {kind}: preparing {size.patrons:,} patrons in {tmp}")
            server.prepare(size.patrons)
            server.start()
            for name in NAMES:
                if only and only not in name:
                    continue
                started = time.perf_counter()
                figures, losses = run_scenario(name, server, size, tmp)
                figures["seconds"] = round(time.perf_counter() - started, 1)
                results[name] = (figures, losses)
                log(f"  {kind} {name}: {json.dumps(figures)}"
                    + ("" if not losses else f"\n    LOST: {losses[:5]}"))
            if server.errors_logged():
                results["server log"] = ({"tracebacks": len(server.errors_logged())},
                                         [server.errors_logged()[0][-1500:]])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description="Patron Desk load-and-fault suite")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--short", action="store_true", help="the few-second form make test runs")
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    parser.add_argument("--workers", type=int, help="server processes (default: serve's)")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if args.db == "both" and postgres_bin() is None:
        log("PostgreSQL is not installed: soaking SQLite only")
        kinds = ["sqlite"]
    size = scenarios.SHORT if args.short else scenarios.FULL
    everything = {kind: soak(kind, size, args.only, args.workers) for kind in kinds}
    lost = False
    print(f"{'database':<12}{'scenario':<18}figures")
    for kind, results in everything.items():
        for name, (figures, losses) in results.items():
            print(f"{kind:<12}{name:<18}" + ", ".join(f"{k}={v}" for k, v in figures.items()))
            for loss in losses:
                lost = True
                print(f"{'':<30}LOST: {loss}")
    print(json.dumps({kind: {name: figures for name, (figures, _) in results.items()}
                      for kind, results in everything.items()}))
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
