"""Signing in worker processes (ADR 0011, 7): PAdES is Python work that holds the GIL, so one
process signs on one core however many requests wait; processes sign on all of them.

Each worker opens its own session to the token once (a PKCS#11 module is initialised in the
process that uses it, never inherited across fork: the workers are spawned), keeps its signers
and the prepared font, and signs request after request. The service's own process keeps the
network, the database and the checks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from cryptography import x509

from vanban.platform.errors import DomainError, ErrorCode, UnavailableError
from vanban.signing.adapters import pades, tsa
from vanban.signing.adapters.token import Token, TokenConfig
from vanban.signing.domain.certificates import der


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """What a worker needs to sign: picklable (certificates as DER)."""

    token: TokenConfig
    font: Path
    softhsm_conf: str | None
    tsa_url: str = ""
    tsa_certificate: bytes = b""
    tsa_chain: tuple[bytes, ...] = ()


_worker: dict[str, Any] = {}


def _initialise(setup: WorkerSetup) -> None:
    if setup.softhsm_conf:
        os.environ["SOFTHSM2_CONF"] = setup.softhsm_conf
    token = Token.open(setup.token)
    timestamper: Any = None
    if setup.tsa_url:
        timestamper = tsa.remote_tsa(setup.tsa_url)
    elif setup.tsa_certificate:
        timestamper = tsa.TokenTimeStamper(
            token=token,
            certificate=x509.load_der_x509_certificate(setup.tsa_certificate),
            chain=tuple(x509.load_der_x509_certificate(c) for c in setup.tsa_chain),
        )
    _worker["signer"] = pades.PadesSigner(token=token, font=setup.font, timestamper=timestamper)
    _worker["loop"] = asyncio.new_event_loop()


def _sign(
    data: bytes,
    label: str,
    certificate: bytes,
    chain: tuple[bytes, ...],
    placement: pades.Placement,
    appearance: pades.Appearance,
    field_name: str,
    reason: str,
    location: str,
) -> tuple[str, Any]:
    signer: pades.PadesSigner = _worker["signer"]
    key = pades.KeyHolder(
        label=label,
        certificate=x509.load_der_x509_certificate(certificate),
        chain=tuple(x509.load_der_x509_certificate(c) for c in chain),
    )
    try:
        signed = _worker["loop"].run_until_complete(
            signer.sign(
                data,
                key=key,
                placement=placement,
                appearance=appearance,
                field_name=field_name,
                reason=reason,
                location=location,
            )
        )
    except DomainError as exc:
        # Domain errors travel as their parts (their constructor does not unpickle).
        return "error", (int(exc.code), exc.reason, exc.message)
    except pkcs11.exceptions.PKCS11Error as exc:
        # The token dropped the session (a restarted HSM, a lost login): log in again, forget
        # the signers made on the old one, and let the caller try again.
        signer.token.reopen()
        signer.forget_all()
        return "error", (
            int(ErrorCode.UNAVAILABLE),
            "SIGNING_UNAVAILABLE",
            f"the token failed ({type(exc).__name__}); try again",
        )
    return "signed", signed


class SigningPool:
    """The PadesSigner's face (`sign`, `level`), signing in `workers` processes."""

    def __init__(self, *, workers: int, setup: WorkerSetup, level: pades.Level) -> None:
        self._workers = workers
        self._setup = setup
        self._level = level
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        # Restarts one at a time; a failure of a pool already replaced restarts nothing.
        self._restarting = threading.Lock()

    @property
    def level(self) -> pades.Level:
        return self._level

    def start(self) -> None:
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_initialise,
            initargs=(self._setup,),
        )
        # Every worker starts now (imports, token login), not on the first requests.
        list(self._pool.map(_ready, range(self._workers * 2)))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def sign(
        self,
        data: bytes,
        *,
        key: pades.KeyHolder,
        placement: pades.Placement,
        appearance: pades.Appearance,
        field_name: str,
        reason: str,
        location: str,
    ) -> bytes:
        pool = self._pool
        if pool is None:
            raise UnavailableError(
                "the signing workers are not running", reason="SIGNING_UNAVAILABLE"
            )
        try:
            outcome, value = await asyncio.wrap_future(
                pool.submit(
                    _sign,
                    data,
                    key.label,
                    der(key.certificate),
                    tuple(der(c) for c in key.chain),
                    placement,
                    appearance,
                    field_name,
                    reason,
                    location,
                )
            )
        except concurrent.futures.BrokenExecutor:
            # A worker died (its token session with it): start them again for the next.
            await asyncio.to_thread(self._restart, pool)
            raise UnavailableError(
                "a signing worker stopped; try again", reason="SIGNING_UNAVAILABLE"
            ) from None
        if outcome == "error":
            code, reason_code, message = value
            error = DomainError(message, reason=reason_code)
            error.code = ErrorCode(code)
            raise error
        signed: bytes = value
        return signed

    def _restart(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._restarting:
            if self._pool is not broken:
                return
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self.start()


def _ready(_: int) -> bool:
    return "signer" in _worker
