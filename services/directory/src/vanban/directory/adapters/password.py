"""argon2id password hashing, off the event loop (a check costs tens of milliseconds of CPU)."""

from __future__ import annotations

import asyncio
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

# For random 256-bit secrets only: guessing one is hopeless however fast each guess is, so the
# work factor that protects human passwords buys nothing and would cost ~0.15 s per person.
_RANDOM_SECRET_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Argon2PasswordHasher:
    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        # argon2-cffi's defaults are RFC 9106's low-memory argon2id profile.
        self._hasher = hasher or argon2.PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_urlsafe(32))

    @property
    def dummy_hash(self) -> str:
        return self._dummy

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def hash_random(self) -> str:
        return await asyncio.to_thread(_RANDOM_SECRET_HASHER.hash, secrets.token_urlsafe(32))

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
