"""Sign-in checks: password, who may sign in, throttling, the sign-in log."""

import datetime
import logging

from webapp.db import db
from webapp.models import SignInLog, User
from webapp.services.clock import now
from webapp.services.credentials import check_credentials, check_single_sign_on
from webapp.services.directory import DirectoryUnavailable
from webapp.services.permissions import permissions_of

# The sign-in log's events that are attempts at a password.
GUESSES = ("failure", "throttled")

signin_log = logging.getLogger("webapp.signin")


class Throttled(Exception):
    """Too many failed sign-ins for this account or address; try again later."""


def recent_failures(window_minutes, identifier=None, address=None):
    """Count failed sign-ins in the last WINDOW_MINUTES for an identifier or an address."""
    since = now() - datetime.timedelta(minutes=window_minutes)
    # Only guesses count: not an outage, not a single sign-on (the proxy checked the person,
    # and behind it every attempt has the proxy's address).
    query = SignInLog.select().where((SignInLog.at >= since) & (SignInLog.success == False)  # noqa: E712
                                     & SignInLog.event.in_(GUESSES)
                                     & (SignInLog.reason != "directory_unavailable"))
    if identifier is not None:
        query = query.where(SignInLog.identifier == identifier.lower())
    if address is not None:
        query = query.where(SignInLog.address == address)
    return query.count()


def authenticate(identifier, password, address, *, max_account, max_address, window_minutes,
                 may_sign_in, directory=None):
    """Return the user whose credentials these are and who may sign in, else None.

    Raises Throttled when the account or the address has failed too often recently, and
    DirectoryUnavailable when the DIRECTORY settings' server gives no answer; every attempt
    is written to the sign-in log with its reason.
    """
    identifier = (identifier or "").strip()
    if (
        recent_failures(window_minutes, identifier=identifier) >= max_account
        or recent_failures(window_minutes, address=address) >= max_address
    ):
        log(identifier, address, "throttled", False, "throttled")
        raise Throttled()
    try:
        user, reason = check_credentials(identifier, password, directory)
    except DirectoryUnavailable:
        log(identifier, address, "failure", False, "directory_unavailable")
        raise
    return _admitted(user, reason, identifier, address, may_sign_in)


def authenticate_by_header(header_value, address, settings, *, may_sign_in):
    """Return the user a single sign-on header names, believed only from a trusted proxy, else None."""
    user, reason = check_single_sign_on(header_value, address, settings)
    claimed = (header_value or "").strip()
    return _admitted(user, reason, claimed if claimed.isprintable() else "?", address, may_sign_in,
                     events=("sso", "sso"))


def _admitted(user, reason, identifier, address, may_sign_in, events=("success", "failure")):
    """Log the outcome of a sign-in and return USER if it may sign in, else None."""
    if user is not None and may_sign_in(user, permissions_of(user)):
        log(identifier, address, events[0], True, reason)
        return user
    log(identifier, address, events[1], False, reason if user is None else "not_staff")
    return None


def log(identifier, address, event, success, reason=""):
    """Write one line of the sign-in log, and the same line to the webapp.signin logger (never a password)."""
    signin_log.info("%s identifier=%s address=%s reason=%s", event, (identifier or "")[:100].lower(),
                    address or "-", reason or "-", extra={"event": event, "success": success})
    with db.atomic():
        SignInLog.create(
            identifier=(identifier or "")[:100].lower(),
            address=(address or "")[:64],
            event=event,
            success=success,
            reason=reason[:30],
        )


def end_sessions(user):
    """Invalidate every session of USER (sign-out everywhere, password change, role removal)."""
    with db.atomic():
        User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()
