"""Record ids from addresses, forms and query strings, range-checked before any query.

A number past the id columns' range is the request's mistake, not the database's: SQLite
raises OverflowError from 2^63 and PostgreSQL's 4-byte id columns end at 2^31 - 1.
"""

from flask import abort
from werkzeug.routing import IntegerConverter

from webapp.services.fields import MAX_ID, as_id


def parse_id(value, field):
    """Return VALUE as a record id, None when it is empty; anything else answers 422 naming FIELD."""
    if value is None or not str(value).strip():
        return None
    number = as_id(value)
    if number is None:
        abort(422, f"{field}: “{str(value)[:20]}” is not a record number.")
    return number


def parse_ids(values, field):
    """Return the record ids in VALUES (a form's list); any other value answers 422 naming FIELD."""
    return [number for number in (parse_id(v, field) for v in values) if number is not None]


class IdConverter(IntegerConverter):
    """The app's <int:…> converter: ASCII digits in 1..MAX_ID, so any other number is a 404."""

    regex = rf"[0-9]{{1,{len(str(MAX_ID))}}}"

    def __init__(self, url_map, **options):
        options.setdefault("min", 1)
        options.setdefault("max", MAX_ID)
        super().__init__(url_map, **options)


def init_app(app):
    """Make every <int:…> argument of the app's routes a bounded id (before any route is added)."""
    app.url_map.converters["int"] = IdConverter


__all__ = ["IdConverter", "as_id", "init_app", "parse_id", "parse_ids"]
