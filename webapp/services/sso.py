"""Single sign-on by a reverse proxy: which addresses may vouch for a user in a header."""

import dataclasses
import ipaddress

# Longer than any identifier stored here; a longer header value is not an identity.
MAX_IDENTITY_LENGTH = 254


def networks(entries):
    """Return ENTRIES (addresses or networks, as text or a list) as ip_network objects."""
    if isinstance(entries, str):
        entries = entries.replace(",", " ").split()
    return tuple(ipaddress.ip_network(str(entry).strip(), strict=False) for entry in entries or ())


@dataclasses.dataclass(frozen=True)
class SsoSettings:
    """The SSO_* settings, read once from the app's configuration."""

    header: str = ""
    proxies: tuple = ()
    match_identifier: str = "primary_id"

    @classmethod
    def from_config(cls, config):
        """Return the settings found in CONFIG, a mapping such as the app's config."""
        return cls(
            header=(config.get("SSO_HEADER") or "").strip(),
            proxies=networks(config.get("SSO_TRUSTED_PROXIES")),
            match_identifier=config.get("SSO_MATCH_IDENTIFIER") or "primary_id",
        )

    @property
    def enabled(self):
        """Tell whether single sign-on is configured: a header and someone trusted to send it."""
        return bool(self.header and self.proxies)


def trusted(remote_addr, proxies):
    """Tell whether REMOTE_ADDR is one of PROXIES (ip_network objects or text)."""
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped  # ::ffff:10.0.0.5 from a dual-stack listener
    if isinstance(proxies, str) or any(isinstance(p, str) for p in proxies or ()):
        proxies = networks(proxies)
    return any(address.version == net.version and address in net for net in proxies or ())


def asserted_identity(header_value):
    """Return the identity a proxy's header carries, or None when it carries none usable."""
    value = (header_value or "").strip()
    if not value or len(value) > MAX_IDENTITY_LENGTH or not value.isprintable():
        return None
    return value
