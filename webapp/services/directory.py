"""Check a name and password against the library's LDAP or Active Directory server."""

import contextlib
import dataclasses
import ssl

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

# After a cycle in which no server of a pool answered, ldap3 sleeps this many seconds
# before giving up (10 by default): a sign-in must fail within LDAP_TIMEOUT_SECONDS.
ldap3.set_config_parameter("POOLING_LOOP_TIMEOUT", 0)

SCHEMES = ("ldap://", "ldaps://")

# Bind results that mean "not this password" (Active Directory answers invalidCredentials
# for a locked or disabled account too); any other failure means no answer was had.
REFUSED = {"invalidCredentials", "inappropriateAuthentication", "unwillingToPerform"}


class DirectoryUnavailable(Exception):
    """The directory is down, too slow, or refuses the service account."""


def _words(value):
    """Return VALUE as a tuple of strings: a list as is, a string split at commas and blanks."""
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple((value or "").replace(",", " ").split())


def _flag(value):
    """Read a setting that may come as a bool or as text from the environment."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


@dataclasses.dataclass(frozen=True)
class DirectorySettings:
    """The LDAP_* settings, read once from the app's configuration."""

    urls: tuple = ()
    start_tls: bool = False
    ca_file: str = ""
    timeout: int = 5
    bind_dn: str = ""
    bind_password: str = dataclasses.field(default="", repr=False)
    user_base: str = ""
    user_filter: str = "(uid={identifier})"
    match_attribute: str = "uid"
    match_identifier: str = "primary_id"

    @classmethod
    def from_config(cls, config):
        """Return the settings found in CONFIG, a mapping such as the app's config."""
        settings = cls(
            urls=_words(config.get("LDAP_URL")),
            start_tls=_flag(config.get("LDAP_START_TLS", False)),
            ca_file=config.get("LDAP_CA_FILE") or "",
            # Whole seconds: ldap3 packs the receive timeout into an integer socket option.
            timeout=max(1, int(config.get("LDAP_TIMEOUT_SECONDS") or 5)),
            bind_dn=config.get("LDAP_BIND_DN") or "",
            bind_password=config.get("LDAP_BIND_PASSWORD") or "",
            user_base=config.get("LDAP_USER_BASE") or "",
            user_filter=config.get("LDAP_USER_FILTER") or "(uid={identifier})",
            match_attribute=config.get("LDAP_MATCH_ATTRIBUTE") or "uid",
            match_identifier=config.get("LDAP_MATCH_IDENTIFIER") or "primary_id",
        )
        for url in settings.urls:
            if not url.lower().startswith(SCHEMES):
                raise ValueError(f"LDAP_URL: {url!r} is neither ldap:// nor ldaps://")
        if "{identifier}" not in settings.user_filter:
            raise ValueError("LDAP_USER_FILTER must contain {identifier}")
        return settings

    @property
    def enabled(self):
        """Tell whether a directory is configured at all."""
        return bool(self.urls)


def _server_pool(settings):
    """Return the configured servers as a pool tried in order, first answering wins."""
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file or None)
    servers = [
        ldap3.Server(url, use_ssl=url.lower().startswith("ldaps://"), tls=tls,
                     connect_timeout=settings.timeout, get_info=ldap3.NONE)
        for url in settings.urls
    ]
    # active=1: check each server once, in order, then give up (True would loop forever).
    return ldap3.ServerPool(servers, ldap3.FIRST, active=1, exhaust=False)


def _bound_connection(settings, pool, user, password):
    """Open a connection, StartTLS if asked, and simple-bind; return it and whether it bound."""
    # No referral chasing: Active Directory refers to other domains' servers, which would
    # take time beyond the timeout and are not the directory configured here.
    connection = ldap3.Connection(pool, user=user, password=password,
                                  receive_timeout=settings.timeout, read_only=True,
                                  raise_exceptions=False, auto_bind=ldap3.AUTO_BIND_NONE,
                                  auto_referrals=False)
    try:
        connection.open()
        if settings.start_tls and not connection.start_tls():
            raise DirectoryUnavailable(f"StartTLS refused: {connection.result}")
        return connection, connection.bind()
    except BaseException:
        with contextlib.suppress(LDAPException):
            connection.unbind()
        raise


def _search_connection(settings, pool):
    """Return a connection bound as the service account, or anonymously without one."""
    if settings.bind_dn and not settings.bind_password:
        # A DN without a password is an LDAP "unauthenticated bind": it proves nothing.
        raise DirectoryUnavailable("LDAP_BIND_DN is set but LDAP_BIND_PASSWORD is empty")
    connection, bound = _bound_connection(settings, pool, settings.bind_dn or None,
                                          settings.bind_password or None)
    if not bound:
        connection.unbind()
        raise DirectoryUnavailable(f"the service account was refused: {connection.result}")
    return connection


def user_filter(settings, identifier):
    """Return the search filter for IDENTIFIER, its filter characters escaped."""
    return settings.user_filter.replace("{identifier}", escape_filter_chars(identifier))


def _find_entry(settings, pool, identifier):
    """Return (DN, match value) of the one entry IDENTIFIER names, or None."""
    connection = _search_connection(settings, pool)
    try:
        found = connection.search(settings.user_base, user_filter(settings, identifier),
                                  search_scope=ldap3.SUBTREE, size_limit=2,
                                  attributes=[settings.match_attribute])
        result = connection.result or {}
        if not found and result.get("description") not in {"success", "noSuchObject",
                                                              "sizeLimitExceeded"}:
            raise DirectoryUnavailable(f"the search failed: {result}")
        entries = [e for e in connection.response or [] if e.get("type") == "searchResEntry"]
    finally:
        connection.unbind()
    if len(entries) != 1:
        return None  # nobody, or a name that fits several people: neither signs in
    value = entries[0]["attributes"].get(settings.match_attribute)
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return (entries[0]["dn"], str(value)) if value else None


def check_directory_password(identifier, password, settings):
    """Return the directory's match value for IDENTIFIER if PASSWORD binds as it, else None.

    Raises DirectoryUnavailable when the directory cannot give an answer in time.
    """
    identifier = (identifier or "").strip()
    if not identifier or not password:
        # Never bind with an empty password: the server would take it as an
        # unauthenticated bind and answer "success" without checking anything.
        return None
    pool = _server_pool(settings)
    try:
        entry = _find_entry(settings, pool, identifier)
        if entry is None:
            return None
        dn, value = entry
        connection, bound = _bound_connection(settings, pool, dn, password)
        result = connection.result or {}
        connection.unbind()
    except LDAPException as error:
        raise DirectoryUnavailable(f"{type(error).__name__}: {error}") from error
    if bound:
        return value
    if result.get("description") in REFUSED:
        return None
    raise DirectoryUnavailable(f"the bind could not be checked: {result.get('description')}")
