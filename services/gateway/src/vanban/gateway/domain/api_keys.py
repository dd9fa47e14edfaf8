"""API keys for agency systems (e.g. a scanning station or the province's portal).

A key is `vbk.<id>.<secret>`, shown once at creation; only a hash of the secret is kept. A key
acts with the scopes it was given, never more: scopes map to the roles the services check, and a
key's clearance is always `none`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from vanban.platform.errors import NotFoundError, UnauthenticatedError, invalid_fields

if TYPE_CHECKING:
    from vanban.gateway.domain.ports import Transactions

PREFIX = "vbk"
NAME_MAX = 100
# Scope -> the role it lets the key act in (system_reader exists for keys only).
SCOPES: dict[str, str | None] = {
    "incoming:register": "clerk",
    "incoming:read": "system_reader",
    "outgoing:read": "system_reader",
}


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scopes: tuple[str, ...]
    secret_hash: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def subject(self) -> str:
        return f"apikey:{self.id}"

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(role for scope in self.scopes if (role := SCOPES.get(scope)))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key(
    *, name: str, scopes: list[str], created_by: str, now: datetime, expires_at: datetime | None
) -> tuple[str, ApiKey]:
    problems: dict[str, str] = {}
    clean_name = name.strip()
    if not clean_name or len(clean_name) > NAME_MAX or any(ord(c) < 32 for c in clean_name):
        problems["name"] = f"is required, at most {NAME_MAX} printable characters"
    unknown = sorted(set(scopes) - SCOPES.keys())
    if not scopes or unknown:
        problems["scopes"] = f"must be some of {', '.join(sorted(SCOPES))}"
    if expires_at is not None and expires_at <= now:
        problems["expires_at"] = "must be in the future"
    if problems:
        raise invalid_fields(problems, reason="INVALID_API_KEY")
    key_id = str(uuid.uuid4())
    secret = secrets.token_urlsafe(32)
    record = ApiKey(
        id=key_id,
        name=clean_name,
        scopes=tuple(sorted(set(scopes))),
        secret_hash=_hash(secret),
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    return f"{PREFIX}.{key_id}.{secret}", record


def looks_like_api_key(token: str) -> bool:
    return token.startswith(f"{PREFIX}.")


def parse(token: str) -> tuple[str, str]:
    _, key_id, secret = [*token.split(".", 2), "", ""][:3]
    try:
        uuid.UUID(key_id)
    except ValueError:
        raise _invalid() from None
    if not secret or len(secret) > 128:
        raise _invalid()
    return key_id, secret


def check(key: ApiKey | None, *, secret: str, now: datetime) -> ApiKey:
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        raise _invalid()
    if key.revoked_at is not None:
        raise UnauthenticatedError("the API key was revoked", reason="API_KEY_REVOKED")
    if key.expires_at is not None and key.expires_at <= now:
        raise UnauthenticatedError("the API key has expired", reason="API_KEY_EXPIRED")
    return key


def _invalid() -> UnauthenticatedError:
    return UnauthenticatedError("the API key is not valid here", reason="API_KEY_INVALID")


async def create(
    *,
    transactions: Transactions,
    name: str,
    scopes: list[str],
    created_by: str,
    now: datetime,
    expires_at: datetime | None,
) -> tuple[str, ApiKey]:
    """Creates a key and audits it; the key itself is returned this once."""
    secret, key = new_api_key(
        name=name, scopes=scopes, created_by=created_by, now=now, expires_at=expires_at
    )
    async with transactions() as tx:
        await tx.api_keys.add(key)
        tx.audit_as(
            actor=created_by,
            action="api_key.create",
            resource=f"api-keys/{key.id}",
            after={"name": key.name, "scopes": list(key.scopes)},
        )
        await tx.commit()
    return secret, key


async def list_all(*, transactions: Transactions) -> list[ApiKey]:
    async with transactions() as tx:
        return await tx.api_keys.list()


async def revoke(
    *, transactions: Transactions, key_id: str, revoked_by: str, now: datetime
) -> None:
    """Revokes an active key and audits it (`API_KEY_NOT_FOUND` for any other id)."""
    async with transactions() as tx:
        if not await tx.api_keys.revoke(key_id, at=now):
            raise NotFoundError("no active API key with this id", reason="API_KEY_NOT_FOUND")
        tx.audit_as(actor=revoked_by, action="api_key.revoke", resource=f"api-keys/{key_id}")
        await tx.commit()
