"""The one clock every service reads, so tests can fix the time in one place."""

import datetime


def now():
    """Return the current UTC time without tzinfo (as stored)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def today():
    """Return today's date (local to the library's machine)."""
    return datetime.date.today()
