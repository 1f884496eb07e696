"""Flask commands: db upgrade, create-admin, demo, backup."""

import sqlite3
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from webapp import db as database
from webapp.db import db

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
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host, port, threads):
    """Serve the app with waitress, a production WSGI server."""
    import waitress
    from flask import current_app

    pending = database.pending_migrations()
    if pending:
        raise click.ClickException("run 'flask --app webapp db upgrade' first: "
                                   + ", ".join(pending) + " pending")
    click.echo(f"Patron Desk is serving on http://{host}:{port}/ (Ctrl+C stops it)")
    waitress.serve(current_app._get_current_object(), host=host, port=port, threads=threads,
                   ident="Patron Desk")


def init_app(app):
    """Register the commands."""
    app.cli.add_command(db_cli)
    for command in (create_admin, demo, backup, serve):
        app.cli.add_command(command)
