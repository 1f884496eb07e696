"""Read the soak's database in this process: was anything accepted lost, anything half-written?"""

import contextlib
import csv
import io

from peewee import fn

from bench.scenarios.sync import COLUMNS
from webapp import create_app
from webapp.db import db
from webapp.models import History, SyncRun, User
from webapp.services import checks, fields

SOURCE = "SOAK"


_bound = {}  # the server this process's database proxy is bound to, and its Database


@contextlib.contextmanager
def probe(server):
    """Bind this process to SERVER's database for the block (once, while nothing rebinds it)."""
    key = (str(server.instance), server.database_url)
    if _bound.get("key") != key or _bound.get("database") is not db.obj:
        config = {"DATABASE_URL": server.database_url} if server.database_url else {}
        create_app(config, instance_path=server.instance)
        _bound.update(key=key, database=db.obj)
    with db.connection_context():
        yield


def patron_ids(server, count):
    """Return the ids of COUNT patrons the clients share (overlapping saves)."""
    with probe(server):
        query = User.select(User.id).where(User.record_type == "public").order_by(User.id)
        return [uid for (uid,) in query.limit(count).tuples()]


def missing_saves(server, accepted):
    """Return the accepted (user id, value) saves the history does not hold."""
    label = fields.LABELS["campus"]
    with probe(server):
        found = set(History.select(History.user, History.new)
                    .where(History.field == label).tuples())
    return [save for save in accepted if save not in found]


def half_written(server, ids):
    """Return the users whose campus is not the latest campus their history records."""
    label = fields.LABELS["campus"]
    bad = []
    with probe(server):
        for user in User.select().where(User.id.in_(ids)):
            last = (History.select(History.new).where((History.user == user.id) & (History.field == label))
                    .order_by(History.id.desc()).first())
            if last is not None and (last.new or "") != (user.campus or ""):
                bad.append(user.id)
    return bad


def integrity(server):
    """Return the integrity verdict ("ok", None on PostgreSQL)."""
    with probe(server):
        return checks.integrity()


def sync_file(rows, start=0, tag="K"):
    """Return a CSV of ROWS new external users of SOURCE, ids TAG<start>... onwards."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for n in range(start, start + rows):
        writer.writerow([f"{tag}{n}", f"{tag}{n}", "Kim", "", f"Soakley{n % 97}", "Undergraduate",
                         "active", "2001-02-03", "2030-06-30", "Main", f"{tag}B{n}", f"{tag}U{n}",
                         f"{tag.lower()}{n}@soak.example", "school", f"+1 555 {n:07d}", "mobile",
                         f"{n} Soak Street", "Springfield", "IL", "62701", "USA", "home"])
    return out.getvalue().encode()


def sync_outcome(server, tag="K"):
    """Return (users of SOURCE with ids TAG..., of them with a sync history, runs by status)."""
    with probe(server):
        users = User.select(User.id).where((User.source == SOURCE) & User.external_id.startswith(tag))
        count = users.count()
        with_history = (History.select(History.user).where(History.user.in_(users)
                                                           & History.via.startswith("sync "))
                        .distinct().count())
        runs = {}
        for (status,) in SyncRun.select(SyncRun.status).where(SyncRun.source == SOURCE).tuples():
            runs[status] = runs.get(status, 0) + 1
    return count, with_history, runs


def newest_run(server):
    """Return the id of the newest run of SOURCE (0: none yet)."""
    with probe(server):
        return SyncRun.select(fn.MAX(SyncRun.id)).where(SyncRun.source == SOURCE).scalar() or 0
