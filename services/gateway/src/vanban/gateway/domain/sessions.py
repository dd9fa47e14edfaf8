"""Sign-in sessions: rotating refresh tokens, and the limits on wrong passwords.

A refresh token is `<id>.<secret>`; only a hash of the secret is kept. Each use replaces it with a
new token of the same family; presenting a token that was already used means it was copied, so
the whole family is revoked (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14).

Wrong passwords are counted per account *and client address*, so that a stranger who locks an
account locks only their own address out of it; the person signs in from anywhere else. Counts
over all addresses of an account, and over all accounts of an address, bound what a stranger
can guess from many addresses or spray over many accounts — but they never refuse an address
the person signed in from lately, so a stranger cannot lock a person out where they work.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from vanban.platform.credentials import check_credentials_format
from vanban.platform.errors import DomainError, ErrorCode, UnauthenticatedError


class AccountLockedError(DomainError):
    """Too many wrong passwords for this account from this address."""

    code = ErrorCode.RESOURCE_EXHAUSTED
    reason = "ACCOUNT_LOCKED"


class SignInThrottledError(DomainError):
    """Too many wrong passwords for this account from everywhere (`ACCOUNT_THROTTLED`), or
    from this address over all accounts (`ADDRESS_THROTTLED`)."""

    code = ErrorCode.RESOURCE_EXHAUSTED
    reason = "SIGN_IN_THROTTLED"


class RefreshTokenReusedError(UnauthenticatedError):
    """The family was revoked by the call that raised this: commit before passing it on."""

    reason = "REFRESH_TOKEN_REUSED"


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """Limits on wrong passwords, all counted within `window`."""

    window: timedelta = timedelta(minutes=15)
    # One account from one address: that address is locked out of the account.
    max_failures: int = 10
    # One account from all addresses, and one address over all accounts: addresses the person
    # has not signed in from within `known_for` are refused until failures age out.
    account_max_failures: int = 50
    address_max_failures: int = 30
    known_for: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Failure:
    at: datetime
    address: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """An admitted attempt: what was counted before it — the failures in the window of the
    account from this address, of the account in all, and of the address in all (None when the
    address is known for the account and its count did not matter) — and the failure recorded
    for it in advance (`reservation`), which stands until the password check says otherwise."""

    account: str
    address: str
    known_address: bool
    here: int
    account_total: int
    address_total: int | None
    reservation: int

    def limits_reached_by_failure(self, policy: SignInPolicy) -> list[str]:
        """The limits that one more failure reaches, each named once: `locked`,
        `account_throttled`, `address_throttled`."""
        reached = []
        if self.here + 1 == policy.max_failures:
            reached.append("locked")
        if self.account_total + 1 == policy.account_max_failures:
            reached.append("account_throttled")
        if self.address_total is not None and self.address_total + 1 == policy.address_max_failures:
            reached.append("address_throttled")
        return reached


@dataclass(frozen=True, slots=True)
class RefreshToken:
    id: str
    family_id: str
    person_id: str
    secret_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    # The person's session version (the directory's) when the session began.
    session_version: int = 0


class SignInFailures(Protocol):
    """The failed sign-ins (by account and address) and the addresses known for an account:
    what admitting an attempt reads and writes."""

    async def lock_account(self, account: str) -> None:
        """Serialises sign-in attempts on one account until the transaction ends."""

    async def account_failures(self, account: str, *, since: datetime) -> list[Failure]: ...

    async def address_failures(self, address: str, *, since: datetime) -> list[datetime]: ...

    async def record_failure(self, account: str, *, address: str, at: datetime) -> int:
        """Returns the failure's id."""

    async def forget_failure(self, failure_id: int) -> None: ...

    async def clear_failures(self, account: str, *, address: str) -> None: ...

    async def is_known_address(self, account: str, *, address: str, since: datetime) -> bool: ...

    async def remember_address(self, account: str, *, address: str, at: datetime) -> None: ...


class SessionStore(SignInFailures, Protocol):
    """The sign-in failures and the sessions' refresh tokens."""

    async def add_refresh_token(self, token: RefreshToken) -> None: ...

    async def refresh_token_for_update(self, token_id: str) -> RefreshToken | None: ...

    async def mark_used(self, token_id: str, *, at: datetime) -> None: ...

    async def revoke_family(self, family_id: str, *, at: datetime) -> None: ...


# What a failed sign-in writes to the audit log: the failure, and any limit it reached. Anyone
# can cause these, under any name, so they are kept for a time (settings), not for ever.
FAILED_SIGN_IN_AUDIT_ACTIONS = (
    "session.sign_in_failed",
    "session.locked",
    "session.account_throttled",
    "session.address_throttled",
)


def account_key(username: str, *, password: str | None = None) -> str:
    """How failures are counted per account: the name as the directory compares it.

    A name (or, when given, a password) the directory would refuse unchecked is refused here
    the same way, before anything is counted or stored for the attempt."""
    check_credentials_format(username, password)
    return username.strip().lower()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_refresh_token(
    *,
    person_id: str,
    now: datetime,
    ttl: timedelta,
    session_version: int,
    family_id: str | None = None,
) -> tuple[str, RefreshToken]:
    """The token to hand out once, and the record to keep."""
    token_id = str(uuid.uuid4())
    secret = secrets.token_urlsafe(32)
    record = RefreshToken(
        id=token_id,
        family_id=family_id or str(uuid.uuid4()),
        person_id=person_id,
        secret_hash=_hash(secret),
        issued_at=now,
        expires_at=now + ttl,
        session_version=session_version,
    )
    return f"{token_id}.{secret}", record


def _invalid() -> UnauthenticatedError:
    return UnauthenticatedError("the refresh token is not valid", reason="REFRESH_TOKEN_INVALID")


def split_refresh_token(token: str) -> tuple[str, str]:
    token_id, _, secret = token.strip().partition(".")
    try:
        uuid.UUID(token_id)
    except ValueError:
        raise _invalid() from None
    if not secret or len(secret) > 128:
        raise _invalid()
    return token_id, secret


def _retry_after(times: Sequence[datetime], limit: int, *, window: timedelta, now: datetime) -> str:
    """Seconds until fewer than `limit` of `times` are left in the window."""
    ordered = sorted(times)
    frees_at = ordered[len(ordered) - limit] + window
    return str(max(1, math.ceil((frees_at - now).total_seconds())))


async def admit_attempt(
    *, store: SignInFailures, account: str, address: str, now: datetime, policy: SignInPolicy
) -> Attempt:
    """Takes the account's lock, refuses the attempt if a limit is reached, and otherwise records
    it as a failure in advance — the caller commits at once, before the password is checked.

    Parallel guesses thus wait their turn only for these few queries, not for one another's
    password checks, and none slips past the counts: each sees the others as failures until
    they prove otherwise (`forget_failure` when the check could not be made; the caller clears
    the address's failures when the password was right)."""
    await store.lock_account(account)
    since = now - policy.window
    failures = await store.account_failures(account, since=since)
    here = [f.at for f in failures if f.address == address]
    if len(here) >= policy.max_failures:
        raise AccountLockedError(
            "too many wrong passwords for this account from your address: try again later",
            metadata={
                "retry_after_seconds": _retry_after(
                    here, policy.max_failures, window=policy.window, now=now
                )
            },
        )
    known = await store.is_known_address(account, address=address, since=now - policy.known_for)
    if known:
        reservation = await store.record_failure(account, address=address, at=now)
        return Attempt(account, address, True, len(here), len(failures), None, reservation)
    if len(failures) >= policy.account_max_failures:
        raise SignInThrottledError(
            "too many wrong passwords for this account: try again later, or from where you "
            "signed in before",
            reason="ACCOUNT_THROTTLED",
            metadata={
                "retry_after_seconds": _retry_after(
                    [f.at for f in failures],
                    policy.account_max_failures,
                    window=policy.window,
                    now=now,
                )
            },
        )
    from_address = await store.address_failures(address, since=since)
    if len(from_address) >= policy.address_max_failures:
        raise SignInThrottledError(
            "too many wrong passwords from your address: try again later",
            reason="ADDRESS_THROTTLED",
            metadata={
                "retry_after_seconds": _retry_after(
                    from_address, policy.address_max_failures, window=policy.window, now=now
                )
            },
        )
    reservation = await store.record_failure(account, address=address, at=now)
    return Attempt(
        account, address, False, len(here), len(failures), len(from_address), reservation
    )


async def rotate(
    *, store: SessionStore, presented: str, now: datetime, ttl: timedelta
) -> tuple[str, RefreshToken]:
    """Uses a refresh token: returns its successor; a reused token revokes its whole family."""
    token_id, secret = split_refresh_token(presented)
    record = await store.refresh_token_for_update(token_id)
    if record is None or not hmac.compare_digest(record.secret_hash, _hash(secret)):
        raise _invalid()
    if record.revoked_at is not None:
        raise UnauthenticatedError("the session was signed out", reason="REFRESH_TOKEN_REVOKED")
    if record.used_at is not None:
        await store.revoke_family(record.family_id, at=now)
        raise RefreshTokenReusedError(
            "this refresh token was already used; the session is closed for safety",
            metadata={"family_id": record.family_id, "person_id": record.person_id},
        )
    if record.expires_at <= now:
        raise UnauthenticatedError("the refresh token has expired", reason="REFRESH_TOKEN_EXPIRED")
    await store.mark_used(record.id, at=now)
    token, successor = new_refresh_token(
        person_id=record.person_id,
        now=now,
        ttl=ttl,
        session_version=record.session_version,
        family_id=record.family_id,
    )
    await store.add_refresh_token(successor)
    return token, successor


def session_outdated(record: RefreshToken, *, current_version: int) -> bool:
    """The person changed since the session began (password, roles, units, clearance,
    deactivation): the session is over, whether or not the gateway has heard of it yet."""
    return record.session_version < current_version


async def revoke(*, store: SessionStore, presented: str, now: datetime) -> RefreshToken | None:
    """Signs a session out and returns the token it was signed out with; an unknown or already
    revoked token is not an error (RFC 7009)."""
    try:
        token_id, secret = split_refresh_token(presented)
    except UnauthenticatedError:
        return None
    record = await store.refresh_token_for_update(token_id)
    if record is None or not hmac.compare_digest(record.secret_hash, _hash(secret)):
        return None
    await store.revoke_family(record.family_id, at=now)
    return record
