"""Match an identity vouched for elsewhere (directory, single sign-on) to one account here."""

from peewee import fn

from webapp.models import Identifier, User
from webapp.services.directory import check_directory_password
from webapp.services.permissions import permissions_of

# Why an identity did not sign in, as the sign-in log records it for admins.
REASONS = {
    "no_match": "No account here has this identity",
    "several_matches": "Several accounts have this identity",
    "inactive": "The account is inactive",
    "no_role": "The account holds no active role",
    "internal_account": "The account is internal: it signs in with its own password",
}


class IdentityRefused(Exception):
    """The identity does not name exactly one active external account holding an active role."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def normalized(value):
    """Return VALUE trimmed and case-folded, as identities are compared."""
    return (value or "").strip().casefold()


def _candidates(value, match_identifier):
    """Return the users whose primary_id, or identifier of that type, equals VALUE."""
    if match_identifier == "primary_id":
        query = User.select().where(fn.LOWER(User.primary_id) == value)
        held = {user.id: (user, user.primary_id) for user in query}
    else:
        query = (Identifier.select(Identifier, User).join(User)
                 .where((Identifier.id_type == match_identifier)
                        & (fn.LOWER(Identifier.value) == value)))
        held = {row.user.id: (row.user, row.value) for row in query}
    # LOWER folds ASCII only; the exact comparison is the Python one.
    return [user for user, stored in held.values() if normalized(stored) == value]


def match_external_account(value, match_identifier="primary_id"):
    """Return the one active external account holding an active role that VALUE names.

    Raises IdentityRefused with a reason code from REASONS otherwise.
    """
    value = normalized(value)
    candidates = _candidates(value, match_identifier) if value else []
    if not candidates:
        raise IdentityRefused("no_match")
    if len(candidates) > 1:
        raise IdentityRefused("several_matches")
    user = candidates[0]
    if user.account_type != "external":
        raise IdentityRefused("internal_account")
    if user.status != "active":
        raise IdentityRefused("inactive")
    if not permissions_of(user):
        raise IdentityRefused("no_role")
    return user


def through_directory(identifier, password, settings):
    """Return the account the directory vouches for when IDENTIFIER binds with PASSWORD.

    Raises IdentityRefused ("bad_password" when the directory says no), and
    DirectoryUnavailable when it gives no answer.
    """
    value = check_directory_password(identifier, password, settings)
    if value is None:
        raise IdentityRefused("bad_password")
    return match_external_account(value, settings.match_identifier)
