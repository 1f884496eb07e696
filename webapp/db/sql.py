"""The few hand-written SQL helpers shared across services, each with the figure it buys."""

from webapp.db.base import db

# SQL of the reads every page runs, keyed by name and database kind: peewee would
# otherwise build the same statement on every call, which costs more than running it
# (bench: "user details page", "Patron Services page").
_PREPARED = {}


def prepared(name, model, build, *params):
    """Run the query BUILD returns, its SQL built once; PARAMS in its parameters' order."""
    key = (name, type(db.obj))
    sql = _PREPARED.get(key)
    if sql is None:
        sql = _PREPARED[key] = build().sql()[0]
    return model.raw(sql, *params)


def marks(count):
    """Return COUNT parameter markers, comma-separated, in the bound database's spelling."""
    return ", ".join([db.param] * count)
