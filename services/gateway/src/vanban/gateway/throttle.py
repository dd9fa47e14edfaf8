"""A bound on password checks in flight, overall and per client address.

Each check costs the directory an argon2 hash (tens of milliseconds of CPU and 64 MiB) and a
database connection on both sides. Without a bound, a flood of sign-ins queues on the database
pools and everyone's requests wait behind it. With it, one address holds at most a few slots
(the rest of its attempts are refused at once), everybody else still finds one, and nobody waits
longer than the queue time: over it the answer is 429 or 503 with Retry-After, not a long queue.
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

    @contextlib.asynccontextmanager
    async def slot(self, address: str) -> AsyncIterator[None]:
        entry = self._addresses.get(address)
        if entry is None:
            entry = self._addresses[address] = _Address(asyncio.Semaphore(self._per_address))
        if entry.users >= self._most_users:
            raise _too_many()
        entry.users += 1
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._wait
            try:
                async with asyncio.timeout_at(deadline):
                    await entry.slots.acquire()
            except TimeoutError:
                raise _too_many() from None
            try:
                try:
                    async with asyncio.timeout_at(deadline):
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
            finally:
                entry.slots.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._addresses[address]


def _too_many() -> TooManyAttemptsError:
    return TooManyAttemptsError(
        "too many sign-ins from your address at once: try again in a moment",
        metadata={"retry_after_seconds": RETRY_AFTER_SECONDS},
    )
