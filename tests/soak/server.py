"""The production server as `make run` starts it, in a subprocess on a temporary instance folder."""

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import STAFF_PASSWORD
from tests.servers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


class AppServer:
    """One instance folder and database, its `flask` commands and its `flask serve` process."""

    def __init__(self, instance, database_url=None, workers=None, threads=8):
        self.instance = Path(instance)
        self.instance.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.process = None
        self.log_path = self.instance.parent / f"{self.instance.name}-server.log"

    @property
    def sqlite_path(self):
        """Return the SQLite file of this instance (None on PostgreSQL)."""
        return None if self.database_url else self.instance / "library.sqlite"

    def env(self):
        """Return the environment the commands run in: this instance, this database."""
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WEBAPP_DATABASE_URL")}
        env.update(WEBAPP_INSTANCE_PATH=str(self.instance), WEBAPP_LOG_LEVEL="WARNING",
                   PYTHONPATH=str(ROOT))
        if self.database_url:
            env["WEBAPP_DATABASE_URL"] = self.database_url
        return env

    def flask_command(self, *args):
        """Return the argument list of `flask --app webapp ARGS`."""
        return [sys.executable, "-m", "flask", "--app", "webapp", *args]

    def flask(self, *args, check=True, timeout=600):
        """Run a flask command to its end; return the CompletedProcess."""
        result = subprocess.run(self.flask_command(*args), env=self.env(), cwd=ROOT,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}")
        return result

    def spawn(self, *args):
        """Start a flask command in the background; return its Popen."""
        return subprocess.Popen(self.flask_command(*args), env=self.env(), cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def prepare(self, patrons):
        """Bring the schema up and load the demo data, as `make run` does."""
        self.flask("db", "upgrade")
        self.flask("demo", "--patrons", str(patrons), "--password", STAFF_PASSWORD)

    def start(self):
        """Start `flask serve` and wait until it answers."""
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--threads", str(self.threads)]
        if self.workers:
            args += ["--workers", str(self.workers)]
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(self.flask_command(*args), env=self.env(), cwd=ROOT,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_until(self.answers, timeout=60, interval=0.1, what="flask serve")
        return self

    def answers(self):
        """Tell whether the server answers /healthz."""
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"flask serve exited with {self.process.returncode}:\n"
                               + self.log_path.read_text()[-3000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def kill(self):
        """Kill the server and its workers at once (SIGKILL), as a power cut would."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.process = None

    def stop(self):
        """Stop the server gracefully."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.process = None

    def errors_logged(self):
        """Return the tracebacks the server wrote to its log."""
        text = self.log_path.read_text() if self.log_path.exists() else ""
        return [part for part in text.split("Traceback")[1:]]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def wait_for(seconds):
    """Sleep SECONDS (a named pause keeps the scenarios readable)."""
    time.sleep(seconds)
