"""The change history: who changed what, when, through what, with old and new values."""

from webapp.models import History


def for_user(user, limit=200, offset=0):
    """Return the user's history, newest first."""
    return list(
        History.select()
        .where(History.user == user)
        .order_by(History.at.desc(), History.id.desc())
        .limit(limit)
        .offset(offset)
    )
