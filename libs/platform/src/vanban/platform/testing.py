"""Helpers for tests that run a service in-process against real backing servers, and for
benchmarks.

No fakes here: these start the real ServiceHost on port 0, mint real caller tokens and make real
(throwaway) keys and certificates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from vanban.platform.caller import Caller, CallerTokenIssuer, ensure_keypair
from vanban.platform.clearance import Clearance
from vanban.platform.grpc.client import open_channel
from vanban.platform.service import ServiceHost

DEMO_AGENCY = "000.00.00.H99"


class TokenMint:
    """Mints caller tokens for tests, signed with the keys the service under test trusts."""

    def __init__(self, keys_dir: Path, agency_code: str = DEMO_AGENCY) -> None:
        ensure_keypair(keys_dir)
        self.keys_dir = keys_dir
        self.agency_code = agency_code
        self._issuer = CallerTokenIssuer.from_keys_dir(keys_dir)

    def person(
        self,
        subject: str = "person-1",
        *,
        roles: Iterable[str] = ("clerk",),
        units: Iterable[str] = (),
        clearance: Clearance | str = Clearance.NONE,
    ) -> str:
        return self._issuer.issue(
            Caller(
                agency_code=self.agency_code,
                subject=subject,
                roles=frozenset(roles),
                units=tuple(units),
                clearance=Clearance(clearance),
            )
        )

    def service(self, name: str = "test") -> str:
        return self._issuer.service_token(self.agency_code, name)


def metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("x-vanban-caller", token),)


@contextlib.asynccontextmanager
async def running(host: ServiceHost) -> AsyncIterator[str]:
    """Starts a built ServiceHost, yields its address, and shuts it down as SIGTERM would."""
    stop = asyncio.Event()
    await host.start()
    task = asyncio.ensure_future(host.serve(stop))
    for _ in range(200):
        if host.grpc.port:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{host.grpc.port}"
    finally:
        stop.set()
        await task


@contextlib.asynccontextmanager
async def channel(address: str) -> AsyncIterator[grpc.aio.Channel]:
    ch = open_channel(address)
    try:
        yield ch
    finally:
        await ch.close()


def self_signed(
    subject: x509.Name, *, key_size: int = 2048, ca: bool = False
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A throwaway RSA key and a self-signed certificate for it, valid for 30 days from
    yesterday, allowed to sign documents (digitalSignature, nonRepudiation): a signer no agency
    trusts, for tests and benchmarks. `ca` adds CA basic constraints (and keyCertSign)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, ca, False, False, False),
            critical=True,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
    return key, builder.sign(key, hashes.SHA256())
