"""Bearer tokens from the agency's identity provider (OIDC), mapped to directory people.

Configured by `VANBAN_GATEWAY_OIDC_ISSUER`, `_AUDIENCE` and `_JWKS_URL`. A token is verified
against the provider's published keys (fetched and cached by PyJWT's JWKS client), then mapped to
a person: by `sub` (the person's external subject), else by a verified e-mail, else — only when
`_USERNAME_CLAIM` is set — by that claim as the local user name. Nobody unknown gets in.
"""

from __future__ import annotations

import asyncio
import time

import grpc
import jwt

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.clients import Upstreams
from vanban.platform.errors import UnauthenticatedError

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
_MAPPING_TTL = 60.0


def _refused(detail: str, reason: str = "OIDC_TOKEN_INVALID") -> UnauthenticatedError:
    return UnauthenticatedError(detail, reason=reason)


class OidcVerifier:
    def __init__(
        self, *, issuer: str, audience: str, jwks_url: str, username_claim: str | None
    ) -> None:
        self.issuer = issuer
        self._audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._username_claim = username_claim
        self._people: dict[str, tuple[float, directory_pb2.Person]] = {}

    async def person(self, token: str, upstreams: Upstreams) -> directory_pb2.Person:
        claims = await asyncio.to_thread(self._verify, token)
        cached = self._people.get(claims["sub"])
        if cached and cached[0] > time.monotonic():
            return cached[1]
        person = await self._map(claims, upstreams)
        self._people[claims["sub"]] = (time.monotonic() + _MAPPING_TTL, person)
        return person

    def _verify(self, token: str) -> dict:  # type: ignore[type-arg]
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            return jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=30,
            )
        except jwt.ExpiredSignatureError:
            raise _refused("the identity provider's token has expired", "TOKEN_EXPIRED") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise _refused(f"the identity provider's token is not valid: {exc}") from None

    async def _map(self, claims: dict, upstreams: Upstreams) -> directory_pb2.Person:  # type: ignore[type-arg]
        lookups = [directory_pb2.FindPersonRequest(external_subject=str(claims["sub"]))]
        if claims.get("email") and claims.get("email_verified") is True:
            lookups.append(directory_pb2.FindPersonRequest(email=str(claims["email"])))
        if self._username_claim and claims.get(self._username_claim):
            lookups.append(
                directory_pb2.FindPersonRequest(username=str(claims[self._username_claim]))
            )
        for lookup in lookups:
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
