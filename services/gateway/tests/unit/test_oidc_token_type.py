"""Only the provider's access tokens are accepted, never its ID tokens, and only for the
clients the agency allows."""

from __future__ import annotations

import pytest

from vanban.gateway.oidc import OidcVerifier
from vanban.platform.errors import UnauthenticatedError

ACCESS = {"sub": "s", "azp": "van-ban-web", "typ": "Bearer"}


def verifier(**options: object) -> OidcVerifier:
    return OidcVerifier(
        issuer="https://idp.example/realms/demo",
        audience="vanban-gateway",
        jwks_url="https://idp.example/realms/demo/certs",
        username_claim=None,
        **options,  # type: ignore[arg-type]
    )


def refusal(check: OidcVerifier, header: dict[str, object], claims: dict[str, object]) -> str:
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
