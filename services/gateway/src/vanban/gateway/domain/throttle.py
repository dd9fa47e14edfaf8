"""Bounds on sign-in attempts in flight: per client address, and on password checks in all.

Each check costs the directory an argon2 hash (tens of milliseconds of CPU and 64 MiB) and a
database connection there. Without a bound, a flood of sign-ins queues on the database pools and
everyone's requests wait behind it. With it, one address has one attempt in flight and a few
waiting (the rest are refused at once), everybody else still finds a check slot, and nobody waits
longer than the queue time for either: over it the answer is 429 or 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from vanban.platform.errors import DomainError, ErrorCode

RETRY_AFTER_SECONDS = "1"


class TooManyAttemptsError(DomainError):
    """This address has as many sign-ins in flight and waiting as it may."""

    code = ErrorCode.RESOURCE_EXHAUSTED
    reason = "TOO_MANY_SIGN_IN_ATTEMPTS"


class SignInBusyError(DomainError):
    """Every password-check slot stayed taken for the whole queue time."""

    code = ErrorCode.UNAVAILABLE
    reason = "SIGN_IN_BUSY"


@dataclass
class _Address:
    slots: asyncio.Semaphore
    users: int = 0  # holding a slot or waiting for one


class PasswordCheckGate:
    def __init__(
        self, *, total: int, per_address: int, waiting_per_address: int, wait_seconds: float
    ) -> None:
        self._total = asyncio.Semaphore(total)
        self._per_address = per_address
        self._most_users = per_address + waiting_per_address
        self._wait = wait_seconds
        # Only addresses with attempts in flight or waiting: the map empties as they finish.
        self._addresses: dict[str, _Address] = {}

    def check_room(self, address: str) -> None:
        """Refuses at once an address that has all the attempts it may have in flight and
        waiting: the flood guard asks before the request goes any further, so that a flood's
        surplus costs the gateway as little as possible (`address_slot` checks again)."""
        entry = self._addresses.get(address)
        if entry is not None and entry.users >= self._most_users:
            raise _too_many()

    @contextlib.asynccontextmanager
    async def address_slot(self, address: str) -> AsyncIterator[None]:
        """The address's turn for a whole sign-in attempt; a few more may wait for it."""
        entry = self._addresses.get(address)
        if entry is None:
            entry = self._addresses[address] = _Address(asyncio.Semaphore(self._per_address))
        if entry.users >= self._most_users:
            raise _too_many()
        entry.users += 1
        try:
            try:
                async with asyncio.timeout(self._wait):
                    await entry.slots.acquire()
            except TimeoutError:
                raise _too_many() from None
            try:
                yield
            finally:
                entry.slots.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._addresses[address]

    @contextlib.asynccontextmanager
    async def check_slot(self) -> AsyncIterator[None]:
        """One of the password checks that may run at once."""
        try:
            async with asyncio.timeout(self._wait):
                await self._total.acquire()
        except TimeoutError:
            raise SignInBusyError(
                "too many sign-ins at once: try again in a moment",
                metadata={"retry_after_seconds": RETRY_AFTER_SECONDS},
            ) from None
        try:
            yield
        finally:
            self._total.release()


def _too_many() -> TooManyAttemptsError:
    return TooManyAttemptsError(
        "too many sign-ins from your address at once: try again in a moment",
        metadata={"retry_after_seconds": RETRY_AFTER_SECONDS},
    )
