"""The sign-in log as admins read it: recent attempts, their outcome and reason."""

import dataclasses

from webapp.models import SignInLog
from webapp.services.identities import REASONS as IDENTITY_REASONS

# Every reason the log records, successes (how) and refusals (why not), with its label.
REASONS = {
    "password": "Signed in with the account's own password",
    "directory": "Signed in through the directory",
    "single_sign_on": "Signed in through single sign-on",
    "bad_password": "Wrong identifier or password",
    "no_account": "No account has this identifier, and no directory is configured",
    "no_directory": "External account, but no directory is configured",
    "not_staff": "The account is not a staff record",
    **IDENTITY_REASONS,
    "throttled": "Too many failed sign-ins: refused without checking",
    "bad_current_password": "Own password change refused: the current password was wrong",
    "password_changed": "Changed the account's own password",
    "everywhere": "Signed out of every session of the account",
    "directory_unavailable": "The directory did not answer",
    "untrusted_proxy": "Single sign-on header from an address that is not a trusted proxy",
    "no_identity": "Single sign-on without a usable identity in the header",
}

OUTCOMES = {"success": "Succeeded", "failure": "Refused"}

PAGE_SIZE = 200


@dataclasses.dataclass(frozen=True)
class SignInFilter:
    """What the Admin › Sign-ins page shows: an outcome, a reason, an identifier or address prefix."""

    outcome: str = ""
    reason: str = ""
    identifier: str = ""
    address: str = ""


def recent_sign_ins(wanted=SignInFilter(), limit=PAGE_SIZE):
    """Return the most recent sign-in log lines that WANTED selects, newest first."""
    query = SignInLog.select().order_by(SignInLog.at.desc(), SignInLog.id.desc())
    if wanted.outcome in OUTCOMES:
        query = query.where(SignInLog.success == (wanted.outcome == "success"))
    if wanted.reason:
        query = query.where(SignInLog.reason == wanted.reason)
    if wanted.identifier.strip():
        query = query.where(SignInLog.identifier.startswith(wanted.identifier.strip().lower()))
    if wanted.address.strip():
        query = query.where(SignInLog.address.startswith(wanted.address.strip()))
    return list(query.limit(limit))
