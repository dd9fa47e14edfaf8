"""Only the provider's access tokens are accepted, never its ID tokens, and only for the
clients the agency allows."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from vanban.gateway.adapters.oidc import OidcVerifier
from vanban.platform.errors import UnauthenticatedError

ACCESS = {"sub": "s", "azp": "van-ban-web", "typ": "Bearer"}


def verifier(**options: Any) -> OidcVerifier:
    return OidcVerifier(
        issuer="https://idp.example/realms/demo",
        audience="vanban-gateway",
        jwks_url="https://idp.example/realms/demo/certs",
        username_claim=None,
        **options,
    )


def refusal(check: OidcVerifier, header: dict[str, Any], claims: dict[str, Any]) -> str:
    with pytest.raises(UnauthenticatedError) as caught:
        check._check_token_type(header, claims)
    return caught.value.reason


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ({"typ": "JWT"}, {**ACCESS, "typ": "ID"}),
        ({"typ": "JWT"}, {**ACCESS, "typ": "Refresh"}),
        ({"typ": "JWT"}, {**ACCESS, "at_hash": "abc"}),
        ({"typ": "JWT"}, {"sub": "s", "c_hash": "abc"}),
        ({"typ": "logout+jwt"}, ACCESS),
    ],
)
def test_id_tokens_and_other_kinds_are_refused(
    header: dict[str, object], claims: dict[str, object]
) -> None:
    assert refusal(verifier(), header, claims) == "OIDC_NOT_ACCESS_TOKEN"


@pytest.mark.parametrize(
    "header", [{"typ": "at+jwt"}, {"typ": "application/at+jwt"}, {"typ": "JWT"}, {}]
)
def test_access_tokens_are_accepted(header: dict[str, object]) -> None:
    verifier()._check_token_type(header, ACCESS)


def test_rfc_9068_mode_accepts_only_at_jwt() -> None:
    strict = verifier(require_at_jwt=True)
    strict._check_token_type({"typ": "at+jwt"}, ACCESS)
    assert refusal(strict, {"typ": "JWT"}, ACCESS) == "OIDC_NOT_ACCESS_TOKEN"


def test_only_allowed_clients_are_accepted_when_configured() -> None:
    allowing = verifier(allowed_clients=frozenset({"van-ban-web", "van-ban-mobile"}))
    allowing._check_token_type({}, ACCESS)
    allowing._check_token_type({}, {"sub": "s", "client_id": "van-ban-mobile"})
    assert refusal(allowing, {}, {**ACCESS, "azp": "some-other-app"}) == "OIDC_WRONG_CLIENT"
    assert refusal(allowing, {}, {"sub": "s"}) == "OIDC_WRONG_CLIENT"


class _OneKey:
    """The provider's key set, reduced to the one key that signed the tokens below."""

    def __init__(self, key: object) -> None:
        self.key = key

    def get_signing_key_from_jwt(self, token: str) -> _OneKey:
        return self


def signed(claims: dict[str, object]) -> tuple[OidcVerifier, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    check = verifier()
    check._jwks = _OneKey(key.public_key())  # type: ignore[assignment]  # a key set of one key
    now = int(time.time())
    base = {
        "iss": "https://idp.example/realms/demo",
        "aud": "vanban-gateway",
        "sub": "s",
        "iat": now,
        "exp": now + 300,
        "azp": "van-ban-web",
        "typ": "Bearer",
    }
    return check, jwt.encode({**base, **claims}, key, algorithm="RS256")


def test_a_token_of_the_provider_passes_the_signature_issuer_and_audience_checks() -> None:
    check, token = signed({})
    assert check._verify(token)["sub"] == "s"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://evil.example/realms/demo"}, "OIDC_TOKEN_INVALID"),
        ({"iss": "https://idp.example/realms/other"}, "OIDC_TOKEN_INVALID"),
        ({"aud": "another-api"}, "OIDC_TOKEN_INVALID"),
        ({"exp": int(time.time()) - 3600}, "TOKEN_EXPIRED"),
        ({"typ": "ID"}, "OIDC_NOT_ACCESS_TOKEN"),
    ],
)
def test_a_token_of_another_issuer_or_audience_or_an_expired_one_is_refused(
    claims: dict[str, object], reason: str
) -> None:
    check, token = signed(claims)
    with pytest.raises(UnauthenticatedError) as caught:
        check._verify(token)
    assert caught.value.reason == reason
