"""Move a staff member's session rows back in time, as if they had been idle or long signed in."""

import datetime

from webapp.db import db
from webapp.models import StaffSession, User


def age_sessions(identifier, *, idle_seconds=0, signed_in_seconds=0):
    """Set the sessions of IDENTIFIER last seen IDLE_SECONDS ago, begun SIGNED_IN_SECONDS earlier."""
    with db.connection_context():
        for row in StaffSession.select().join(User).where(User.primary_id == identifier):
            row.last_seen_at -= datetime.timedelta(seconds=idle_seconds)
            row.created_at -= datetime.timedelta(seconds=idle_seconds + signed_in_seconds)
            row.save()


def open_session_count(identifier):
    """Return how many sessions IDENTIFIER has open."""
    with db.connection_context():
        return StaffSession.select().join(User).where(User.primary_id == identifier).count()
