"""Sign-in sessions: rotating refresh tokens and the lockout after repeated failures.

A refresh token is `<id>.<secret>`; only a hash of the secret is kept. Each use replaces it with a
new token of the same family; presenting a token that was already used means it was copied, so
the whole family is revoked (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from vanban.platform.errors import DomainError, ErrorCode, UnauthenticatedError, invalid_fields


class AccountLockedError(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    reason = "ACCOUNT_LOCKED"


class RefreshTokenReusedError(UnauthenticatedError):
    """The family was revoked by the call that raised this: commit before passing it on."""

    reason = "REFRESH_TOKEN_REUSED"


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """`max_failures` wrong passwords within `window` lock the account until they age out."""

    max_failures: int = 10
    window: timedelta = timedelta(minutes=15)


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


class SessionStore(Protocol):
    async def lock_account(self, username: str) -> None:
        """Serialises sign-in attempts on one account until the transaction ends."""

    async def forget_failures_before(self, username: str, *, before: datetime) -> None: ...

    async def recent_failures(self, username: str, *, since: datetime) -> list[datetime]: ...

    async def record_failure(self, username: str, *, at: datetime) -> None: ...

    async def clear_failures(self, username: str) -> None: ...

    async def add_refresh_token(self, token: RefreshToken) -> None: ...

    async def refresh_token_for_update(self, token_id: str) -> RefreshToken | None: ...

    async def mark_used(self, token_id: str, *, at: datetime) -> None: ...

    async def revoke_family(self, family_id: str, *, at: datetime) -> None: ...


def account_key(username: str) -> str:
    """How failures are counted per account: the name as the directory compares it."""
    if len(username) > 128 or any(ord(c) < 32 or ord(c) == 127 for c in username):
        raise invalid_fields(
            {"username": "is not a user name"}, reason="INVALID_CREDENTIALS_FORMAT"
        )
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


async def check_not_locked(
    *, store: SessionStore, username: str, now: datetime, policy: LockoutPolicy
) -> None:
    """Takes the account's lock (parallel guesses wait their turn, so none slips past the
    count), drops failures that aged out, and refuses a locked account."""
    await store.lock_account(username)
    await store.forget_failures_before(username, before=now - policy.window)
    failures = await store.recent_failures(username, since=now - policy.window)
    if len(failures) >= policy.max_failures:
        unlock_at = min(failures) + policy.window
        raise AccountLockedError(
            "too many wrong passwords: the account is locked for a while",
            metadata={"retry_after_seconds": str(max(1, int((unlock_at - now).total_seconds())))},
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
