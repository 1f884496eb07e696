"""The change history: who changed what, when, through what, with old and new values."""

from webapp.models import History
from webapp.services.clock import now


def as_text(value):
    """Return VALUE as history stores it: None stays None, everything else a string."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def record(user, actor, via, changes, at=None):
    """Write one history row per (field, old, new) in CHANGES; call inside the change's transaction."""
    at = at or now()
    rows = [
        {
            "user": user.id if hasattr(user, "id") else user,
            "at": at,
            "actor": actor,
            "via": via,
            "field": field,
            "old": as_text(old),
            "new": as_text(new),
        }
        for field, old, new in changes
    ]
    for start in range(0, len(rows), 500):
        History.insert_many(rows[start : start + 500]).execute()
    return len(rows)


def for_user(user, limit=200, offset=0):
    """Return the user's history, newest first."""
    return list(
        History.select()
        .where(History.user == user)
        .order_by(History.at.desc(), History.id.desc())
        .limit(limit)
        .offset(offset)
    )
