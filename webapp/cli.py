"""Flask commands: db upgrade, create-admin, demo, backup, serve, check, sync-users."""

import sqlite3
import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from webapp import db as database
from webapp.db import db
from webapp.services.text import shown

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending schema migrations."""
    applied = database.migrate()
    if applied:
        for name in applied:
            click.echo(f"applied {name}")
    else:
        click.echo("database schema is up to date")


@click.command("create-admin")
@click.argument("identifier")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--first-name", default="System")
@click.option("--last-name", default="Administrator")
def create_admin(identifier, password_stdin, first_name, last_name):
    """Create a General System Administrator account."""
    from webapp.services import ValidationError
    from webapp.services.staff import create_staff

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with db.connection_context():
            create_staff(identifier, password, "General System Administrator",
                         first_name=first_name, last_name=last_name)
    except ValidationError as exc:
        for field, message in exc.errors.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from exc
    click.echo(f"created {identifier} with the role General System Administrator")


@click.command("demo")
@click.option("--patrons", default=60, show_default=True, help="How many patrons to create.")
@click.option("--password", default="desk-demo-2026", show_default=True,
              help="Password of the demo staff accounts.")
@click.option("--seed", default=2026, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
def demo(patrons, password, seed, if_empty):
    """Load demo libraries, staff, patrons and loans."""
    from webapp.models import User
    from webapp.services.demo import DEMO_STAFF, load_demo

    demo_names = [staff[0] for staff in DEMO_STAFF]

    with db.connection_context():
        if if_empty and User.select().exists():
            click.echo("the database has users already: no demo data loaded")
            names = [n for n in demo_names if User.get_or_none(User.primary_id == n)]
            if names:
                click.echo(f"demo sign-in names: {', '.join(names)} "
                           f"(password {password} unless it was changed)")
            return
        staff = load_demo(patrons=patrons, password=password, seed=seed)
    click.echo(f"demo data: {patrons} patrons, staff sign-in names and roles:")
    for name, role in staff:
        click.echo(f"  {name:<12} {role}")
    click.echo(f"password for all of them: {password}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup(path):
    """Write a consistent copy of the SQLite database to PATH while the app runs."""
    if not database.is_sqlite():
        raise click.UsageError("backup copies a SQLite database; use pg_dump for PostgreSQL")
    target = Path(path)
    if target.exists():
        raise click.UsageError(f"{path} exists; choose a new file name")
    source_path = db.obj.database
    src = sqlite3.connect(source_path)
    dst = sqlite3.connect(str(target))
    try:
        # sqlite3's online backup copies a consistent snapshot even while others write.
        src.backup(dst)
        result = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if result != "ok":
        target.unlink(missing_ok=True)
        raise click.ClickException(f"the copy failed its integrity check: {result}")
    click.echo(f"backed up {source_path} to {path} (integrity check: ok)")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=int, default=None,
              help="Processes [default: 1 on SQLite, one per core on PostgreSQL].")
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per process.")
def serve(host, port, workers, threads):
    """Serve the app: waitress for one process, gunicorn (threaded workers) for several."""
    from flask import current_app

    from webapp.serving import default_workers, serve_gunicorn, serve_waitress

    pending = database.pending_migrations()
    if pending:
        raise click.ClickException("run 'flask --app webapp db upgrade' first: "
                                   + ", ".join(pending) + " pending")
    sqlite = database.is_sqlite()
    workers = workers or default_workers(sqlite)
    app = current_app._get_current_object()
    click.echo(f"Patron Desk is serving on http://{host}:{port}/ with {workers} process(es) "
               f"of {threads} threads (Ctrl+C stops it)")
    if workers == 1 and sqlite:
        serve_waitress(app, host, port, threads)
    else:
        serve_gunicorn(app, host, port, workers, threads)


@click.command("check")
def check():
    """Report schema version, pending migrations, integrity, interrupted runs, orphaned
    search entries and table sizes.

    Exit status: 0 when all is well, 1 when something needs attention.
    """
    from webapp.services.checks import check as examine

    with db.connection_context():
        health = examine()
    click.echo(f"schema: {health.schema or 'empty'}"
               + (f" ({len(health.pending)} pending: {', '.join(health.pending)})" if health.pending
                  else " (up to date)"))
    click.echo(f"integrity: {health.integrity or 'not applicable (PostgreSQL)'}")
    click.echo(f"interrupted runs: {len(health.interrupted)}"
               + "".join("\n" + shown(f"  run {run.id} ({run.source}, {run.filename}, "
                                       f"{run.at:%Y-%m-%d %H:%M} UTC)") for run in health.interrupted))
    click.echo(f"search entries of no user: {health.orphaned_entries:,}")
    click.echo("tables (rows):")
    for table, rows in health.tables.items():
        click.echo(f"  {table:<24}{rows:>12,}")
    for problem in health.problems:
        click.echo(f"problem: {problem}", err=True)
    if health.problems:
        raise SystemExit(1)
    click.echo("all is well")


@click.command("sync-users")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--source", required=True, help="Name of the source system, e.g. SIS.")
@click.option("--dry-run", is_flag=True, help="Show what would change and change nothing.")
@click.option("--deactivate-missing", is_flag=True,
              help="Set the users of this source that the file no longer lists to inactive.")
@click.option("--skip-invalid", is_flag=True,
              help="Apply the valid rows and report the rejected ones (default: reject the run).")
@click.option("--show", default=20, show_default=True,
              help="How many per-user changes to list (all rejected rows are listed).")
def sync_users(file, source, dry_run, deactivate_missing, skip_invalid, show):
    """Synchronize external accounts from a source system's CSV or JSON export.

    Exit status: 0 applied (or a dry run that would apply), 1 rejected, 2 usage error.
    """
    from flask import current_app
    from peewee import OperationalError

    from webapp.services import ValidationError, sync
    from webapp.services.permissions import SYSTEM

    if not source.strip():
        raise click.BadParameter("give the name of the source system", param_hint="--source")
    data = Path(file).read_bytes()
    label = "Comparing" if dry_run else "Synchronizing"
    with click.progressbar(length=1, label=label, show_pos=True) as bar:

        def progress(done, total):
            bar.length = total
            bar.update(done - bar.pos)

        try:
            with db.connection_context():
                run = sync.synchronize(
                    data, filename=Path(file).name, source=source, actor=SYSTEM, dry_run=dry_run,
                    deactivate_missing=deactivate_missing, skip_invalid=skip_invalid,
                    max_bytes=current_app.config["SYNC_MAX_BYTES"], progress=progress)
                report = sync.report(run)
        except ValidationError as exc:
            field, message = next(iter(exc.errors.items()))
            raise click.BadParameter(message, param_hint="FILE" if field == "file" else "--source") from exc
        except OperationalError as exc:
            raise click.ClickException(f"the database refused the run ({exc}); nothing was changed") from exc
        except Exception as exc:
            raise click.ClickException(shown(f"the run failed ({type(exc).__name__}: {exc}); nothing "
                                             "was changed")) from exc
    _print_sync_report(run, report, show)
    if run.status not in (sync.APPLIED, sync.DRY_RUN):
        raise SystemExit(1)


def _say(line, err=False):
    """Print LINE, which quotes file values, with anything non-printable escaped."""
    click.echo(shown(line), err=err)


def _print_sync_report(run, report, show):
    """Print the summary table of a synchronization run, its errors and its changes."""
    _say(f"Run {run.id}: {run.status} — {report.get('message', '')}")
    _say(f"  file {run.filename} (SHA-256 {run.sha256}), source {run.source}, "
         f"{report.get('rows', 0):,} rows")
    _say("")
    _say(f"  {'created':<12}{run.created:>10,}")
    _say(f"  {'updated':<12}{run.updated:>10,}")
    _say(f"  {'unchanged':<12}{run.unchanged:>10,}")
    _say(f"  {'deactivated':<12}{run.deactivated:>10,}")
    _say(f"  {'rejected':<12}{run.rejected:>10,}")
    for message in report["file_errors"]:
        _say(f"file error: {message}", err=True)
    for error in report["errors"]:
        where = f"line {error['line']}" if error["line"] else "user"
        _say(f"{where} ({error['external_id'] or 'no external ID'}): {error['message']}", err=True)
    if report["errors_total"] > len(report["errors"]):
        _say(f"… and {report['errors_total'] - len(report['errors']):,} more errors", err=True)
    if report["overwritten"]:
        _say("")
        _say(f"Local edits {'overwritten' if run.status == 'applied' else 'the run would overwrite'}:")
        for item in report["overwritten"]:
            local, incoming = ("—" if v in (None, "") else v for v in (item["local"], item["file"]))
            _say(f"  {item['name']} ({item['external_id']}): {item['what']}: {local} -> {incoming}")
        if report["overwritten_total"] > len(report["overwritten"]):
            _say(f"  … and {report['overwritten_total'] - len(report['overwritten']):,} more")
    if report["diffs"] and show > 0:
        _say("")
        _say("Changes:" if run.status == "applied" else "Changes it would make:")
        for diff in report["diffs"][:show]:
            _say(f"  {diff['name']} ({diff['external_id']}): {diff['action']}")
            for field, old, new in diff["changes"]:
                old, new = ("—" if v in (None, "") else v for v in (old, new))
                _say(f"    {field}: {old} -> {new}")
        if report["diffs_total"] > show:
            _say(f"  … and {report['diffs_total'] - min(show, len(report['diffs'])):,} more users")


def init_app(app):
    """Register the commands."""
    app.cli.add_command(db_cli)
    for command in (create_admin, demo, backup, serve, check, sync_users):
        app.cli.add_command(command)
    from webapp import circulation_cli

    circulation_cli.init_app(app)
