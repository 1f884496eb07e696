"""The libraries this installation serves."""

from webapp.models import Library


def all_libraries():
    """Return every library, by name."""
    return list(Library.select().order_by(Library.name))
