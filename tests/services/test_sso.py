"""Single sign-on settings: which proxy addresses are believed, and what a header may carry."""

import ipaddress

import pytest

from webapp.services.sso import SsoSettings, asserted_identity, networks, trusted


def test_settings_read_addresses_and_networks():
    settings = SsoSettings.from_config({"SSO_HEADER": " X-Remote-User ",
                                        "SSO_TRUSTED_PROXIES": "127.0.0.1, 10.1.0.0/16 ::1"})
    assert settings.header == "X-Remote-User" and settings.enabled
    assert settings.proxies == (ipaddress.ip_network("127.0.0.1/32"),
                                ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("::1/128"))
    assert settings.match_identifier == "primary_id"


def test_off_without_a_header_or_without_a_trusted_proxy():
    assert not SsoSettings.from_config({}).enabled
    assert not SsoSettings.from_config({"SSO_HEADER": "X-Remote-User"}).enabled
    assert not SsoSettings.from_config({"SSO_TRUSTED_PROXIES": "127.0.0.1"}).enabled


@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1", True),
    ("10.1.200.3", True),
    ("::ffff:10.1.0.9", True),
    ("::1", True),
    ("10.2.0.1", False),
    ("192.168.1.1", False),
    ("", False),
    (None, False),
    ("not an address", False),
    ("10.1.0.1, 127.0.0.1", False),
])
def test_trusted(address, expected):
    proxies = networks(["127.0.0.1", "10.1.0.0/16", "::1"])
    assert trusted(address, proxies) is expected
    assert trusted(address, "127.0.0.1 10.1.0.0/16 ::1") is expected


def test_nobody_is_trusted_without_proxies():
    assert not trusted("127.0.0.1", ())


def test_a_bad_network_is_a_configuration_error():
    with pytest.raises(ValueError):
        networks("10.0.0.300")


@pytest.mark.parametrize("value, expected", [
    (" alice ", "alice"),
    ("alice@campus.edu", "alice@campus.edu"),
    ("", None),
    (None, None),
    ("   ", None),
    ("al\nice", None),
    ("a" * 255, None),
])
def test_asserted_identity(value, expected):
    assert asserted_identity(value) == expected
