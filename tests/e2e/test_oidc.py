"""Bearer tokens of the agency's identity provider, verified against its JWKS, mapped to people."""

from __future__ import annotations

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.oidc_provider import JWKS_REFRESH_SECONDS, OidcProvider
from tests.e2e.support import Gateway, eventually


def me(gateway: Gateway, token: str) -> httpx.Response:
    return gateway.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_provider_token_of_a_known_person_works(gateway: Gateway, oidc: OidcProvider) -> None:
    response = me(gateway, oidc.token(preferred_username="vanthu"))
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "vanthu"
    assert response.json()["roles"] == ["clerk"]
    # And it acts as that person: the clerk may register.
    assert gateway.register(oidc.token(preferred_username="vanthu")).status_code == 201


def test_a_provider_token_of_an_unknown_person_is_refused(
    gateway: Gateway, oidc: OidcProvider
) -> None:
    response = me(gateway, oidc.token(preferred_username="nguoi-la", email="la@example.vn"))
    assert response.status_code == 401
    assert response.json()["code"] == "OIDC_UNKNOWN_PERSON"


def test_a_token_not_signed_by_the_provider_is_refused(
    gateway: Gateway, oidc: OidcProvider
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = me(gateway, oidc.token(key=other_key, preferred_username="vanthu"))
    assert response.status_code == 401
    assert response.json()["code"] == "OIDC_TOKEN_INVALID"


def test_an_expired_or_misaddressed_provider_token_is_refused(
    gateway: Gateway, oidc: OidcProvider
) -> None:
    expired = me(gateway, oidc.token(preferred_username="vanthu", ttl=-120))
    assert expired.status_code == 401
    assert expired.json()["code"] == "TOKEN_EXPIRED"
    wrong_audience = me(gateway, oidc.token(preferred_username="vanthu", aud="another-app"))
    assert wrong_audience.status_code == 401
    assert wrong_audience.json()["code"] == "OIDC_TOKEN_INVALID"


def test_an_e_mail_cannot_take_over_a_person_linked_to_another_identity(
    gateway: Gateway, oidc: OidcProvider
) -> None:
    admin = {"Authorization": f"Bearer {gateway.token('quantri')}"}
    created = gateway.http.post(
        "/v1/people",
        headers=admin,
        json={
            "username": "lienket-oidc",
            "full_name": "Người Liên Kết",
            "roles": ["clerk"],
            "unit_codes": ["VP"],
            "email": "lienket@demo.gov.vn",
            "external_subject": "subject-of-the-real-person",
            "password": "mat-khau-tam-thoi-123",
        },
    )
    assert created.status_code == 201, created.text
    real = me(gateway, oidc.token(sub="subject-of-the-real-person"))
    assert real.status_code == 200
    assert real.json()["username"] == "lienket-oidc"
    other = me(
        gateway, oidc.token(sub="someone-else", email="lienket@demo.gov.vn", email_verified=True)
    )
    assert other.status_code == 401
    assert other.json()["code"] == "OIDC_UNKNOWN_PERSON"


def test_a_key_the_provider_removed_stops_working(gateway: Gateway, oidc: OidcProvider) -> None:
    rotated = oidc.add_key()

    def status() -> int:
        return me(gateway, oidc.token(kid=rotated, preferred_username="vanthu")).status_code

    # A key published after the gateway last fetched the set is known by the next fetch.
    assert eventually(lambda: status() == 200, timeout=JWKS_REFRESH_SECONDS + 10)
    oidc.remove_key(rotated)
    # The gateway keeps the set for JWKS_REFRESH_SECONDS: then the removed key is gone.
    assert eventually(lambda: status() == 401, timeout=JWKS_REFRESH_SECONDS + 10)
    assert me(gateway, oidc.token(preferred_username="vanthu")).status_code == 200


def test_an_id_token_is_not_taken_for_an_access_token(gateway: Gateway, oidc: OidcProvider) -> None:
    for token in (
        oidc.token(preferred_username="vanthu", typ="ID"),
        oidc.token(preferred_username="vanthu", at_hash="x8JmDqkA0gYVnFyGn6-1XA"),
        oidc.token(preferred_username="vanthu", headers={"typ": "id_token+jwt"}),
    ):
        response = me(gateway, token)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "OIDC_NOT_ACCESS_TOKEN"
    # What a provider's access token looks like is accepted.
    for token in (
        oidc.token(preferred_username="vanthu", typ="Bearer"),
        oidc.token(preferred_username="vanthu", headers={"typ": "at+jwt"}),
    ):
        assert me(gateway, token).status_code == 200


def test_a_token_of_another_issuer_is_refused(gateway: Gateway, oidc: OidcProvider) -> None:
    # Signed with the provider's own key, but issued by someone else.
    response = me(gateway, oidc.token(preferred_username="vanthu", iss="https://evil.example"))
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_INVALID"


def test_a_user_name_claim_never_links_an_administrator(
    gateway: Gateway, oidc: OidcProvider
) -> None:
    # quantri is an administrator known by user name only (no subject or e-mail linked).
    response = me(gateway, oidc.token(preferred_username="quantri"))
    assert response.status_code == 401
    assert response.json()["code"] == "OIDC_UNKNOWN_PERSON"
    assert me(gateway, oidc.token(preferred_username="vanthu")).status_code == 200
