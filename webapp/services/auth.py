"""Sign-in checks: password, who may sign in, sign-in limits, the sign-in log."""

import logging

from webapp.db import db
from webapp.models import SignInLog
from webapp.services import ValidationError, sessions, signin_limits
from webapp.services.credentials import check_credentials, check_single_sign_on
from webapp.services.directory import DirectoryUnavailable
from webapp.services.permissions import permissions_of
from webapp.services.signin_limits import Limits, Throttled
from webapp.services.users import set_password

__all__ = ["Limits", "Throttled", "authenticate", "authenticate_by_header", "change_own_password",
           "end_sessions", "log"]

signin_log = logging.getLogger("webapp.signin")


def authenticate(identifier, password, address, *, limits, may_sign_in, directory=None):
    """Return the user whose credentials these are and who may sign in, else None.

    Raises Throttled while the account at this address, or the address, waits after too
    many failures (the attempt counted before the password is checked), and
    DirectoryUnavailable when the DIRECTORY settings' server gives no answer; every
    attempt is written to the sign-in log with its reason.
    """
    identifier = (identifier or "").strip()
    try:
        signin_limits.reserve(identifier, address, limits)
    except Throttled:
        log(identifier, address, "throttled", False, "throttled")
        raise
    try:
        user, reason = check_credentials(identifier, password, directory)
    except DirectoryUnavailable:
        # An outage is no guess: it does not count against the person.
        signin_limits.release(identifier, address, limits, signed_in=False)
        log(identifier, address, "failure", False, "directory_unavailable")
        raise
    admitted = _admitted(user, reason, identifier, address, may_sign_in)
    if admitted is not None:
        signin_limits.release(identifier, address, limits, signed_in=True)
    return admitted


def change_own_password(actor, current_password, password, address, *, limits):
    """Set ACTOR's own password once the current one checks out; every session of the account ends.

    The current password is a guess like a sign-in's: counted first, throttled the same
    way, and a wrong one is in the sign-in log.
    """
    try:
        signin_limits.reserve(actor.name, address, limits)
    except Throttled:
        log(actor.name, address, "throttled", False, "throttled")
        raise
    try:
        user = set_password(actor.user_id, password, actor=actor, current_password=current_password)
    except ValidationError as refused:
        if "current_password" in refused.errors:
            log(actor.name, address, "failure", False, "bad_current_password")
        else:
            signin_limits.release(actor.name, address, limits, signed_in=True)
        raise
    signin_limits.release(actor.name, address, limits, signed_in=True)
    log(actor.name, address, "password", True, "password_changed")
    return user


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
    """End every session of USER (sign-out everywhere, password change, role removal)."""
    sessions.end_all(user)
