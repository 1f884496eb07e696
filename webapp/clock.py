"""The one clock: services read it as services.clock, model timestamp defaults as webapp.clock."""

import datetime


def now():
    """Return the current UTC time without tzinfo (as stored)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def today():
    """Return today's date (local to the library's machine)."""
    return datetime.date.today()
