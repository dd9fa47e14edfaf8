"""Bearer tokens from the agency's identity provider (OIDC), mapped to directory people.

Configured by `VANBAN_GATEWAY_OIDC_ISSUER`, `_AUDIENCE` and `_JWKS_URL`. A token is verified
against the provider's published keys (PyJWT's JWKS client keeps the key set for
`_JWKS_REFRESH_SECONDS`, so a key the provider removed stops working by then; an unknown key id
fetches the set again at most every 30 s), must be an access token (not an ID token: see
`_check_token_type`) issued to an allowed client when `_ALLOWED_CLIENTS` is set, then is mapped to
a person: by `sub` (the person's external subject), else by a verified e-mail, else — only when
`_USERNAME_CLAIM` is set, and never for an administrator — by that claim as the local user name.
Nobody unknown gets in.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import jwt

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.gateway.domain.revocations import Revocations
from vanban.platform.cache import TtlCache
from vanban.platform.errors import UnauthenticatedError

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
_MAPPING_TTL = 60.0
# Identities mapped to people at most: a flood of distinct subjects cannot grow the gateway.
_MAPPING_MAXSIZE = 10_000
# RFC 9068 access tokens say so in their header; other providers' access tokens say JWT.
_ACCESS_TOKEN_HEADER_TYPES = {"at+jwt", "application/at+jwt"}
_GENERIC_HEADER_TYPES = {"jwt", "application/jwt"}


def _refused(detail: str, reason: str = "OIDC_TOKEN_INVALID") -> UnauthenticatedError:
    return UnauthenticatedError(detail, reason=reason)


class OidcVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str,
        username_claim: str | None,
        jwks_refresh_seconds: float = 300.0,
        allowed_clients: frozenset[str] = frozenset(),
        require_at_jwt: bool = False,
    ) -> None:
        self.issuer = issuer
        self._audience = audience
        # No per-key cache: PyJWT's key cache never expires, so a removed key would live on.
        self._jwks = jwt.PyJWKClient(
            jwks_url,
            cache_keys=False,
            cache_jwk_set=True,
            lifespan=jwks_refresh_seconds,
            cooldown_duration=30,
            timeout=5,
        )
        self._username_claim = username_claim
        self._allowed_clients = allowed_clients
        self._require_at_jwt = require_at_jwt
        self._people: TtlCache[str, directory_pb2.Person] = TtlCache(
            maxsize=_MAPPING_MAXSIZE, ttl=_MAPPING_TTL
        )

    async def person(
        self, token: str, upstreams: Upstreams, *, revocations: Revocations | None = None
    ) -> directory_pb2.Person:
        claims = await asyncio.to_thread(self._verify, token)
        cached = self._people.get(claims["sub"])
        if cached is not None and not (
            # The person changed since: map again, so new roles or a deactivation count now.
            revocations and revocations.min_version(cached.id) > cached.session_version
        ):
            return cached
        person = await self._map(claims, upstreams)
        self._people.put(claims["sub"], person)
        return person

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=30,
            )
            self._check_token_type(jwt.get_unverified_header(token), claims)
        except jwt.ExpiredSignatureError:
            raise _refused("the identity provider's token has expired", "TOKEN_EXPIRED") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise _refused(f"the identity provider's token is not valid: {exc}") from None
        return claims

    def _check_token_type(self, header: dict[str, Any], claims: dict[str, Any]) -> None:
        """Only access tokens are accepted. An ID token is signed by the same keys and may name
        the same audience, but it proves a sign-in to a client, not a grant to call this API.

        RFC 9068 access tokens carry `typ: at+jwt` in their header (required with
        `_REQUIRE_AT_JWT`); otherwise a token is refused when its header names another type,
        its `typ` claim is not Bearer (Keycloak marks ID tokens `ID`), or it carries the
        ID-token-only `at_hash`/`c_hash`. With `_ALLOWED_CLIENTS`, the client the token was
        issued to (`azp`, or RFC 9068's `client_id`) must be one of them.
        """
        header_type = str(header.get("typ", "")).lower()
        if self._require_at_jwt and header_type not in _ACCESS_TOKEN_HEADER_TYPES:
            raise _refused("an access token (typ at+jwt) is required", "OIDC_NOT_ACCESS_TOKEN")
        if header_type and header_type not in _ACCESS_TOKEN_HEADER_TYPES | _GENERIC_HEADER_TYPES:
            raise _refused("the token is not an access token", "OIDC_NOT_ACCESS_TOKEN")
        claim_type = claims.get("typ")
        if claim_type is not None and str(claim_type).lower() not in {"bearer", "at+jwt"}:
            raise _refused("the token is not an access token", "OIDC_NOT_ACCESS_TOKEN")
        if "at_hash" in claims or "c_hash" in claims:
            raise _refused("an ID token is not an access token", "OIDC_NOT_ACCESS_TOKEN")
        if self._allowed_clients:
            client = claims.get("azp") or claims.get("client_id")
            if client not in self._allowed_clients:
                raise _refused("the token was issued to another client", "OIDC_WRONG_CLIENT")

    async def _map(self, claims: dict[str, Any], upstreams: Upstreams) -> directory_pb2.Person:
        lookups = [directory_pb2.FindPersonRequest(external_subject=str(claims["sub"]))]
        if claims.get("email") and claims.get("email_verified") is True:
            lookups.append(directory_pb2.FindPersonRequest(email=str(claims["email"])))
        if self._username_claim and claims.get(self._username_claim):
            lookups.append(
                directory_pb2.FindPersonRequest(username=str(claims[self._username_claim]))
            )
        for lookup in lookups:
            by_username = lookup.WhichOneof("key") == "username"
            try:
                answer = await upstreams.directory.FindPerson(
                    lookup, metadata=upstreams.service_metadata(), timeout=upstreams.timeout
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    continue
                raise
            person = answer.person
            if person.external_subject and person.external_subject != str(claims["sub"]):
                # Linked to another identity: an e-mail or a user name must not take it over.
                continue
            if by_username and directory_pb2.ROLE_ADMIN in person.roles:
                # A user name is the weakest link (anyone the provider lets pick one could name
                # an administrator): administrators are linked by subject or e-mail only.
                continue
            if not person.active:
                raise _refused("the account is deactivated", "ACCOUNT_INACTIVE")
            return person
        raise _refused("no person of this agency matches the identity", "OIDC_UNKNOWN_PERSON")


def unverified_issuer(token: str) -> str | None:
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError:
        return None
    return issuer if isinstance(issuer, str) else None
