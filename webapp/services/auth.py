"""Sign-in checks: password, who may sign in, throttling, the sign-in log."""

import datetime
import logging

from webapp.db import db
from webapp.models import SignInLog, User
from webapp.services.clock import now
from webapp.services.passwords import check_secret
from webapp.services.permissions import permissions_of

signin_log = logging.getLogger("webapp.signin")


class Throttled(Exception):
    """Too many failed sign-ins for this account or address; try again later."""


def recent_failures(window_minutes, identifier=None, address=None):
    """Count failed sign-ins in the last WINDOW_MINUTES for an identifier or an address."""
    since = now() - datetime.timedelta(minutes=window_minutes)
    query = SignInLog.select().where((SignInLog.at >= since) & (SignInLog.success == False))  # noqa: E712
    if identifier is not None:
        query = query.where(SignInLog.identifier == identifier.lower())
    if address is not None:
        query = query.where(SignInLog.address == address)
    return query.count()


def authenticate(identifier, password, address, *, max_account, max_address, window_minutes,
                 may_sign_in):
    """Return the user whose credentials these are and who may sign in, else None.

    Raises Throttled when the account or the address has failed too often recently;
    every attempt is written to the sign-in log.
    """
    identifier = (identifier or "").strip()
    if (
        recent_failures(window_minutes, identifier=identifier) >= max_account
        or recent_failures(window_minutes, address=address) >= max_address
    ):
        log(identifier, address, "throttled", False)
        raise Throttled()
    user = User.get_or_none(User.primary_id == identifier) if identifier else None
    # check_secret runs even without a user, so a wrong identifier takes as long as a wrong password.
    ok = check_secret(user.password_hash if user else None, password or "")
    if ok and may_sign_in(user, permissions_of(user)):
        log(identifier, address, "success", True)
        return user
    log(identifier, address, "failure", False)
    return None


def log(identifier, address, event, success):
    """Write one line of the sign-in log, and the same line to the webapp.signin logger."""
    signin_log.info("%s identifier=%s address=%s", event, (identifier or "")[:100].lower(),
                    address or "-", extra={"event": event, "success": success})
    with db.atomic():
        SignInLog.create(
            identifier=(identifier or "")[:100].lower(),
            address=(address or "")[:64],
            event=event,
            success=success,
        )


def end_sessions(user):
    """Invalidate every session of USER (sign-out everywhere, password change, role removal)."""
    with db.atomic():
        User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()
