"""What the gateway's use cases need from the outside, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from vanban.gateway.domain.api_keys import ApiKey
    from vanban.gateway.domain.sessions import SessionStore

# What proves the caller to the directory (their caller token); opaque to the use cases.
CallerCredentials = tuple[tuple[str, str], ...]


class Account(Protocol):
    """A person as the directory answers for them (người dùng): what a session needs."""

    @property
    def id(self) -> str: ...

    @property
    def session_version(self) -> int:
        """The directory's count of the changes that end a person's sessions."""

    @property
    def password_must_change(self) -> bool: ...

    @property
    def active(self) -> bool: ...


AccountT = TypeVar("AccountT", bound=Account)
# The same, as the protocols below use it: the directory answers accounts (covariant), the
# token issuer takes them (contravariant).
AccountT_co = TypeVar("AccountT_co", bound=Account, covariant=True)
AccountT_contra = TypeVar("AccountT_contra", bound=Account, contravariant=True)


class Client(Protocol):
    """Where an attempt comes from: `ip` as seen (for the audit), `key` as limits count it."""

    @property
    def ip(self) -> str: ...

    @property
    def key(self) -> str: ...


class RevocationLog(Protocol):
    """The log of ended sessions that every gateway replica follows."""

    async def end_sessions_below(self, person_id: str, version: int, *, at: datetime) -> bool:
        """Voids the person's sessions older than `version`; returns whether that was news."""

    async def end_family(self, family_id: str, *, at: datetime) -> None: ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...

    async def list(self) -> list[ApiKey]: ...

    async def revoke(self, key_id: str, *, at: datetime) -> bool:
        """Returns whether an active key was revoked."""


class Transaction(Protocol):
    """One transaction of the gateway's database: nothing is kept unless it commits."""

    @property
    def sessions(self) -> SessionStore: ...

    @property
    def revocation_log(self) -> RevocationLog: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    def audit_as(
        self, *, actor: str, action: str, resource: str, after: dict[str, object] | None = None
    ) -> None: ...

    async def commit(self) -> None: ...


# `async with transactions() as tx: ...; await tx.commit()`
Transactions = Callable[[], AbstractAsyncContextManager[Transaction]]


class Directory(Protocol[AccountT_co]):
    """The directory's password checks and its answer about a person.

    `authenticate` and `change_password` raise `WrongPasswordError` for a wrong password and
    nothing else; any other failure means the password could not be checked."""

    async def authenticate(self, *, username: str, password: str) -> AccountT_co: ...

    async def change_password(
        self, *, credentials: CallerCredentials, current_password: str, new_password: str
    ) -> AccountT_co: ...

    async def person(self, person_id: str) -> AccountT_co: ...


class AccessTokenIssuer(Protocol[AccountT_contra]):
    """Issues the short-lived access tokens of a session."""

    @property
    def ttl(self) -> int:
        """Seconds an access token lives."""

    def issue(
        self,
        person: AccountT_contra,
        *,
        session_version: int,
        family_id: str,
        must_change_password: bool,
    ) -> str: ...


Clock = Callable[[], datetime]
