"""Decide whom a sign-in names: an internal account by its password, the rest by the directory or SSO."""

from webapp.models import User
from webapp.services.identities import IdentityRefused, match_external_account, through_directory
from webapp.services.passwords import check_secret
from webapp.services.permissions import permissions_of
from webapp.services.sso import asserted_identity, trusted


def staff_refusal(user):
    """Return why USER may not use the staff interface, or None when it may."""
    if user.status != "active":
        return "inactive"
    if user.record_type != "staff":
        return "not_staff"
    if not permissions_of(user):
        return "no_role"
    return None


def _signed_in(user, how):
    """Return (USER, HOW) when USER may use the staff interface, else (None, why not)."""
    refusal = staff_refusal(user)
    return (None, refusal) if refusal else (user, how)


def check_credentials(identifier, password, directory=None):
    """Return (user, reason): the account the sign-in form names, or None and why not.

    An internal account checks its own password hash, and never the directory, so the
    internal General System Administrator signs in while the directory is down. Any other
    name goes to the DIRECTORY settings when one is configured; DirectoryUnavailable passes
    through to the caller.
    """
    identifier = (identifier or "").strip()
    user = User.get_or_none(User.primary_id == identifier) if identifier else None
    if user is not None and not user.is_external:
        if not check_secret(user.password_hash, password or ""):
            return None, "bad_password"
        return _signed_in(user, "password")
    if directory is None or not directory.enabled:
        check_secret(None, password or "")  # as long as a wrong password takes
        return None, "no_directory" if user is not None else "no_account"
    try:
        user = through_directory(identifier, password, directory)
    except IdentityRefused as refused:
        return None, refused.reason
    return _signed_in(user, "directory")


def check_single_sign_on(header_value, remote_addr, settings):
    """Return (user, reason) for the identity a proxy's header carries, believed only from a trusted proxy."""
    if not trusted(remote_addr, settings.proxies):
        return None, "untrusted_proxy"
    identity = asserted_identity(header_value)
    if identity is None:
        return None, "no_identity"
    try:
        user = match_external_account(identity, settings.match_identifier)
    except IdentityRefused as refused:
        return None, refused.reason
    return _signed_in(user, "single_sign_on")
