"""Flask commands of circulation: items-import and anonymize-loans."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.db import db
from webapp.services import circulation
from webapp.services.permissions import Actor
from webapp.services.text import shown

# The command line acts as the system, with the permissions these commands need.
CLI_ACTOR = Actor("system", frozenset({"system.admin"}))


@click.command("items-import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
def items_import(file):
    """Create or update items from a CSV file: barcode,title,author,call_number,library.

    All rows or none: a file with any bad line changes nothing. Exit status 1 then.
    """
    try:
        with db.connection_context():
            result = circulation.import_items(CLI_ACTOR, Path(file).read_bytes())
    except circulation.ItemImportRejected as exc:
        for line, message in exc.errors:
            click.echo(shown(f"line {line}: {message}" if line else message), err=True)
        click.echo(f"rejected: {len(exc.errors)} errors, nothing was changed", err=True)
        raise SystemExit(1) from exc
    click.echo(f"items: {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged")


@click.command("anonymize-loans")
@with_appcontext
@click.option("--older-than-days", type=click.IntRange(min=0), default=None,
              help="Override ANONYMIZE_LOANS_AFTER_DAYS for this run.")
def anonymize_loans(older_than_days):
    """Detach closed loans older than ANONYMIZE_LOANS_AFTER_DAYS from their patrons."""
    days = older_than_days
    if days is None:
        days = current_app.config.get("ANONYMIZE_LOANS_AFTER_DAYS")
    if days is None:
        click.echo("ANONYMIZE_LOANS_AFTER_DAYS is not set: loans are kept, nothing to do")
        return
    with db.connection_context():
        count = circulation.anonymize_loans(int(days))
    click.echo(f"anonymized {count} closed loans older than {days} days")


def init_app(app):
    """Register the circulation commands."""
    app.cli.add_command(items_import)
    app.cli.add_command(anonymize_loans)
