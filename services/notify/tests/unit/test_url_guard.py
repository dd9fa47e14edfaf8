"""Addresses deliveries never go to, whatever form names them."""

from __future__ import annotations

import ipaddress

import pytest

from vanban.notify.adapters.webhooks.guard import DnsUrlGuard, public
from vanban.platform.errors import InvalidArgumentError


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "::1",
        "::ffff:10.0.0.1",
        # IPv6 that leads into IPv4 space: NAT64 (well-known and local), 6to4, IPv4-compatible,
        # IPv4-translated; and deprecated site-local.
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::a00:1",
        "2002:7f00:1::",
        "::7f00:1",
        "::ffff:0:7f00:1",
        "fec0::1",
        "ff02::1",
    ],
)
def test_addresses_that_are_not_public(address: str) -> None:
    assert not public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "203.162.4.1"])
def test_public_addresses(address: str) -> None:
    assert public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url", ["https://a..b/hook", "https://" + "a" * 64 + ".vn/hook", "https://x:99999/h"]
)
async def test_a_name_dns_cannot_hold_is_refused_cleanly(url: str) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        await DnsUrlGuard().check(url)
    assert refused.value.reason == "WEBHOOK_URL_NOT_ALLOWED"
