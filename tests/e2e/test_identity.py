"""Sign-in sessions at the gateway: refresh rotation, sign-out, lockout, expiry, who-am-I."""

from __future__ import annotations

import httpx

from tests.e2e.support import PASSWORD, Gateway, eventually
from vanban.gateway.auth import AccessTokens, load_or_create_access_key
from vanban.launcher.platform import Platform
from vanban.platform.caller import Caller


def sign_in(gateway: Gateway, username: str, password: str = PASSWORD) -> httpx.Response:
    return gateway.http.post("/v1/auth/token", data={"username": username, "password": password})


def refresh(gateway: Gateway, token: str) -> httpx.Response:
    return gateway.http.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


def me(gateway: Gateway, access_token: str) -> httpx.Response:
    return gateway.http.get("/v1/me", headers={"Authorization": f"Bearer {access_token}"})


def test_me_shows_the_signed_in_person(gateway: Gateway, clerk_token: str) -> None:
    response = me(gateway, clerk_token)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "vanthu"
    assert body["roles"] == ["clerk"]
    assert body["agency_code"] == "000.00.00.H99"


def test_a_refresh_token_rotates_and_a_reused_one_closes_the_session(gateway: Gateway) -> None:
    first = sign_in(gateway, "lanhdao").json()
    assert first["refresh_token"] and first["refresh_expires_in"] > first["expires_in"]

    second = refresh(gateway, first["refresh_token"])
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert me(gateway, rotated["access_token"]).json()["username"] == "lanhdao"

    reused = refresh(gateway, first["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["code"] == "REFRESH_TOKEN_REUSED"
    # The thief's reuse also ends the legitimate holder's session.
    after = refresh(gateway, rotated["refresh_token"])
    assert after.status_code == 401
    assert after.json()["code"] == "REFRESH_TOKEN_REVOKED"


def test_a_signed_out_refresh_token_is_refused(gateway: Gateway) -> None:
    tokens = sign_in(gateway, "chuyenvien").json()
    out = gateway.http.post("/v1/auth/logout", data={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    refused = refresh(gateway, tokens["refresh_token"])
    assert refused.status_code == 401
    assert refused.json()["code"] == "REFRESH_TOKEN_REVOKED"


def test_a_forged_refresh_token_is_refused(gateway: Gateway) -> None:
    for forged in ("nonsense", "00000000-0000-0000-0000-000000000000.secret"):
        response = refresh(gateway, forged)
        assert response.status_code == 401
        assert response.json()["code"] == "REFRESH_TOKEN_INVALID"


def test_ten_wrong_passwords_lock_the_account(gateway: Gateway) -> None:
    for _ in range(10):
        wrong = sign_in(gateway, "truongphong", "sai-mat-khau")
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "BAD_CREDENTIALS"
    locked = sign_in(gateway, "truongphong")  # the right password, too late
    assert locked.status_code == 403
    assert locked.json()["code"] == "ACCOUNT_LOCKED"
    # Another account is not affected.
    assert sign_in(gateway, "vanthu").status_code == 200
    # The lock lifts once the failures age out of the window (10 s in these tests, 15 min by
    # default), and a successful sign-in clears the count.
    assert eventually(lambda: sign_in(gateway, "truongphong").status_code == 200, timeout=30)
    assert sign_in(gateway, "truongphong", "sai-mat-khau").json()["code"] == "BAD_CREDENTIALS"


def test_an_expired_access_token_is_refused(platform: Platform, gateway: Gateway) -> None:
    agency = platform.agencies[0]
    expired = AccessTokens(
        load_or_create_access_key(agency.keys_dir), agency_code=agency.spec.code, ttl_seconds=-60
    ).issue(
        Caller(agency_code=agency.spec.code, subject="someone", roles=frozenset({"clerk"})),
        name="x",
    )
    response = me(gateway, expired)
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_EXPIRED"
