"""Access tokens issued to people at sign-in, and the caller token passed on to services."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.datastructures import Headers
from starlette.types import Scope

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.adapters.db.api_keys import SqlApiKeys
from vanban.gateway.adapters.grpc.delegations import HeldDelegations
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.gateway.adapters.oidc import OidcVerifier
from vanban.gateway.adapters.oidc import unverified_issuer as oidc_issuer_of
from vanban.gateway.api.convert.people import ROLE_NAME  # values not known grant nothing
from vanban.gateway.domain import api_keys
from vanban.gateway.domain.revocations import Revocations
from vanban.platform.caller import (
    CALLER_METADATA_KEY,
    Caller,
    CallerTokenIssuer,
    load_or_create_private_key,
)
from vanban.platform.clearance import Clearance
from vanban.platform.convert import clearance_from_pb
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import PermissionDeniedError, UnauthenticatedError

ACCESS_KEY_FILE = "gateway-access.key"
_AUDIENCE = "vanban-gateway"


def load_or_create_access_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The gateway's own token key, made at first start and never committed anywhere."""
    return load_or_create_private_key(keys_dir / ACCESS_KEY_FILE)


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """What a sign-in session granted, beyond the caller: the directory's session version of
    the person, the session (refresh-token family) and whether the password must change."""

    session_version: int = 0
    family_id: str | None = None
    must_change_password: bool = False


NO_SESSION = SessionGrant()


@dataclass(frozen=True, slots=True)
class AccessGrant:
    caller: Caller
    session: SessionGrant


class AccessTokens:
    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        agency_code: str,
        ttl_seconds: int,
        revocations: Revocations | None = None,
    ) -> None:
        self._key = key
        self._public = key.public_key()
        self._agency = agency_code
        self._issuer = f"vanban-gateway/{agency_code}"
        self.ttl = ttl_seconds
        self._revocations = revocations

    def issue(self, caller: Caller, *, name: str, session: SessionGrant = NO_SESSION) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self._issuer,
            "aud": _AUDIENCE,
            "sub": caller.subject,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + self.ttl,
            "agency": caller.agency_code,
            "name": name,
            "roles": sorted(caller.roles),
            "units": list(caller.units),
            "clearance": caller.clearance,
            "sv": session.session_version,
        }
        if session.family_id:
            claims["sid"] = session.family_id
        if session.must_change_password:
            claims["pwd_change"] = True
        return jwt.encode(claims, self._key, algorithm="EdDSA")

    def verify(self, token: str) -> Caller:
        return self.verify_grant(token).caller

    def verify_grant(self, token: str) -> AccessGrant:
        """The token's caller and session, once signature, expiry, audience and issuer hold
        and the session has not ended (signed out, or the person changed since)."""
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["EdDSA"],
                audience=_AUDIENCE,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError(
                "the access token has expired", reason="TOKEN_EXPIRED"
            ) from None
        except jwt.InvalidTokenError:
            raise UnauthenticatedError(
                "the access token is not valid here", reason="TOKEN_INVALID"
            ) from None
        session = SessionGrant(
            session_version=int(claims.get("sv", 0)),
            family_id=claims.get("sid"),
            must_change_password=bool(claims.get("pwd_change", False)),
        )
        if self._revocations is not None:
            self._revocations.check(
                person_id=claims["sub"],
                version=session.session_version,
                family_id=session.family_id,
            )
        caller = Caller(
            agency_code=claims["agency"],
            subject=claims["sub"],
            roles=frozenset(claims.get("roles", ())),
            units=tuple(claims.get("units", ())),
            clearance=Clearance.held(claims.get("clearance")),
        )
        return AccessGrant(caller=caller, session=session)


def caller_from_person(person: directory_pb2.Person, *, agency_code: str) -> Caller:
    return Caller(
        agency_code=agency_code,
        subject=person.id,
        roles=frozenset(ROLE_NAME[r] for r in person.roles if r in ROLE_NAME),
        units=tuple(person.unit_codes),
        # An unknown (newer) clearance grants nothing more than none.
        clearance=clearance_from_pb(person.clearance) or Clearance.NONE,
    )


@dataclass(frozen=True)
class Principal:
    """The caller of one HTTP request — a signed-in person or an agency system's API key —
    with the metadata to pass to services."""

    caller: Caller
    metadata: tuple[tuple[str, str], ...]
    # None for a person (whose roles decide); the granted scopes for an API key.
    scopes: frozenset[str] | None = None
    # The sign-in session of a person signed in here; None for API keys and OIDC tokens.
    session: SessionGrant | None = None

    def require_scope(self, scope: str) -> None:
        if self.scopes is not None and scope not in self.scopes:
            raise PermissionDeniedError(
                f"this API key lacks the scope {scope}",
                reason="SCOPE_REQUIRED",
                metadata={"scope": scope},
            )


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)

# Where the admission middleware leaves the established caller in the request's scope.
PRINCIPAL_KEY = "vanban.principal"


def presented_token(headers: Headers) -> str | None:
    """`Authorization: Bearer <token>`, else `X-API-Key: <key>`."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key", "").strip() or None


class Authenticator:
    """Establishes the caller of a request from its headers alone, fully: a gateway token by its
    signature, an API key against the database, an identity provider's token against the
    provider's keys and the directory. The admission middleware runs it before any route, so
    nothing of a stranger's body is read."""

    def __init__(
        self,
        *,
        agency_code: str,
        access_tokens: AccessTokens,
        caller_tokens: CallerTokenIssuer,
        uow: Callable[[], UnitOfWork],
        oidc: OidcVerifier | None,
        upstreams: Upstreams,
        delegations: HeldDelegations,
        revocations: Revocations,
    ) -> None:
        self._revocations = revocations
        self._agency = agency_code
        self._tokens = access_tokens
        self._callers = caller_tokens
        self._uow = uow
        self._oidc = oidc
        self._upstreams = upstreams
        self._delegations = delegations

    async def __call__(self, scope: Scope) -> Principal:
        token = presented_token(Headers(scope=scope))
        if not token:
            raise UnauthenticatedError(
                "sign in first: send Authorization: Bearer <token>", reason="TOKEN_MISSING"
            )
        if api_keys.looks_like_api_key(token):
            key_id, secret = api_keys.parse(token)
            async with self._uow() as uow:
                key = api_keys.check(
                    await SqlApiKeys(uow.session).get(key_id), secret=secret, now=datetime.now(UTC)
                )
            caller = Caller(agency_code=self._agency, subject=key.subject, roles=key.roles)
            metadata = ((CALLER_METADATA_KEY, self._callers.issue(caller)),)
            return Principal(caller=caller, metadata=metadata, scopes=frozenset(key.scopes))
        session: SessionGrant | None = None
        if self._oidc is not None and oidc_issuer_of(token) == self._oidc.issuer:
            person = await self._oidc.person(token, self._upstreams, revocations=self._revocations)
            caller = caller_from_person(person, agency_code=self._agency)
        else:
            grant = self._tokens.verify_grant(token)
            caller, session = grant.caller, grant.session
        held = await self._delegations.held_by(caller.subject)
        caller = dataclasses.replace(caller, delegations=held)
        return Principal(
            caller=caller,
            metadata=((CALLER_METADATA_KEY, self._callers.issue(caller)),),
            session=session,
        )


async def any_principal(
    request: Request, _token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The caller the admission middleware established (the token parameter documents the
    scheme in OpenAPI), even one whose password must change first: only for the routes such a
    person may use (their own password, who they are)."""
    established = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(established, Principal):
        # Only public routes run without one, and they never ask: fail closed if one does.
        raise UnauthenticatedError(
            "sign in first: send Authorization: Bearer <token>", reason="TOKEN_MISSING"
        )
    return established


async def principal(found: Annotated[Principal, Depends(any_principal)]) -> Principal:
    if found.session is not None and found.session.must_change_password:
        raise PermissionDeniedError(
            "your password was set by an administrator: change it first (POST /v1/me/password)",
            reason="PASSWORD_CHANGE_REQUIRED",
        )
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]
# Also a person who must change their password first.
PrincipalChangingPassword = Annotated[Principal, Depends(any_principal)]
