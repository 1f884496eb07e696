"""Staff sessions: one row per sign-in, found by the token the signed cookie carries."""

import datetime
import hashlib
import secrets

from peewee import chunked

from webapp.db import db, prepared, write_if_free
from webapp.models import StaffSession, User
from webapp.services.clock import now

# Last seen is written at most this often, not on every request.
TOUCH_SECONDS = 30


def key_of(token):
    """Return the row key of the session whose cookie carries TOKEN."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def start(user, address, user_agent, *, idle_minutes):
    """Open a session for USER, clearing away sessions idle past IDLE_MINUTES; return its token."""
    token = secrets.token_urlsafe(32)
    with db.atomic():
        idle_since = now() - datetime.timedelta(minutes=idle_minutes)
        StaffSession.delete().where(StaffSession.last_seen_at < idle_since).execute()
        StaffSession.create(key=key_of(token), user=user.id, address=(address or "")[:64],
                            user_agent=(user_agent or "")[:200])
    return token


def resume(token, *, idle_minutes, external_hours):
    """Return the open session TOKEN names, its user joined, or None once it ended or expired.

    A session idle for IDLE_MINUTES ends, and so does an external account's after
    EXTERNAL_HOURS however active: its directory or single sign-on is asked again.
    """
    found = _found(key_of(token))
    if found is None:
        return None
    at = now()
    idle = at - found.last_seen_at
    if idle > datetime.timedelta(minutes=idle_minutes) or (
        found.user.is_external and at - found.created_at > datetime.timedelta(hours=external_hours)
    ):
        end(token)
        return None
    if idle >= datetime.timedelta(seconds=TOUCH_SECONDS):
        # Skipped while a long synchronization holds SQLite's write lock: the next request
        # writes it, and a page is never refused for the sake of its session's last seen.
        write_if_free(StaffSession.update(last_seen_at=at).where(StaffSession.key == found.key).execute)
    return found


def _found(key):
    """Return the session row of KEY with its user, or None."""
    # Both statements built once: peewee would build them on every request otherwise
    # (a joined select costs about a millisecond to build, more than it takes to run).
    found = next(iter(prepared("staff session", StaffSession,
                               lambda: StaffSession.select().where(StaffSession.key == ""), key)), None)
    if found is None:
        return None
    user = next(iter(prepared("session user", User, lambda: User.select().where(User.id == 0),
                              found.user_id)), None)
    if user is None:
        return None
    found.user = user
    return found


def end(token):
    """End the one session TOKEN names."""
    with db.atomic():
        StaffSession.delete().where(StaffSession.key == key_of(token)).execute()


def end_all(user):
    """End every session of USER (sign out everywhere, password change, role removal, deactivation)."""
    end_all_of([user.id])


def end_all_of(user_ids):
    """End every session of the users USER_IDS (a synchronization deactivating them)."""
    if not user_ids:
        return  # a synchronization asks once per chunk of rows, mostly for nobody
    with db.atomic():
        for part in chunked(user_ids, 500):
            StaffSession.delete().where(StaffSession.user.in_(part)).execute()


def open_sessions(user, *, idle_minutes):
    """Return USER's sessions not idle past IDLE_MINUTES, the most recently seen first."""
    idle_since = now() - datetime.timedelta(minutes=idle_minutes)
    return list(StaffSession.select()
                .where((StaffSession.user == user.id) & (StaffSession.last_seen_at >= idle_since))
                .order_by(StaffSession.last_seen_at.desc(), StaffSession.created_at.desc()))
