"""Where webhook deliveries may go: no loopback, private, link-local or otherwise non-public
address (the platform's own services, the cloud's metadata endpoint), and https only, unless
the platform allows them for development. The check runs when an endpoint is registered and
again at every delivery, on the addresses the delivery then connects to (a name may resolve
elsewhere later)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from vanban.platform.errors import InvalidArgumentError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _refused(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, reason="WEBHOOK_URL_NOT_ALLOWED")


# IPv6 ranges that carry or reach IPv4 addresses (NAT64, 6to4, IPv4-compatible and -translated)
# or are deprecated site-local: Python counts some of them global, but through a NAT64 gateway or
# a 6to4 relay they lead into private IPv4 space. Deliveries never go there.
NOT_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2002::/16",
        "::/96",
        "::ffff:0:0:0/96",
        "fec0::/10",
        "2001::/32",
    )
)


def public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return public(address.ipv4_mapped)
        if any(address in net for net in NOT_PUBLIC_V6):
            return False
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class DnsUrlGuard:
    allow_private: bool = False
    allow_http: bool = False
    resolve_timeout: float = 5.0

    async def check(self, url: str) -> None:
        await self.addresses(url)

    async def addresses(self, url: str) -> list[Address]:
        """The addresses a delivery to `url` may connect to, all of them allowed."""
        parts = urlsplit(url)
        if parts.scheme != "https" and not (self.allow_http and parts.scheme == "http"):
            raise _refused("deliveries go to https URLs only")
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            # The name as DNS knows it (a non-ASCII name was refused when it was given).
            host.encode("idna")
        except (ValueError, UnicodeError):
            raise _refused(f"the host {host!r} is not a valid name") from None
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            found = [literal]
        else:
            try:
                infos = await asyncio.wait_for(
                    asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
                    timeout=self.resolve_timeout,
                )
            except (OSError, TimeoutError):
                raise _refused(f"the host {host} does not resolve") from None
            found = list(
                dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
            )
        if not found:
            raise _refused(f"the host {host} does not resolve")
        if not self.allow_private:
            for address in found:
                if not public(address):
                    raise _refused(
                        f"the host {host} is at {address}, not a public address: deliveries "
                        "never go to loopback, private or link-local addresses"
                    )
        return found
