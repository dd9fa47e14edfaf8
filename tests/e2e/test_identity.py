"""Sign-in sessions at the gateway: refresh rotation, sign-out, lockout, expiry, who-am-I."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.support import PASSWORD, Gateway, eventually
from vanban.gateway.api.auth import AccessTokens, load_or_create_access_key
from vanban.launcher.platform import Platform
from vanban.platform.caller import Caller

SECRET = "mat-khau-du-dai-123"


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


def test_a_real_refresh_token_id_with_a_wrong_secret_is_refused_and_harms_no_session(
    gateway: Gateway,
) -> None:
    tokens = sign_in(gateway, "lanhdao").json()
    token_id, _, secret = tokens["refresh_token"].partition(".")
    forged = f"{token_id}.{'A' * len(secret)}"

    refused = refresh(gateway, forged)
    assert refused.status_code == 401
    assert refused.json()["code"] == "REFRESH_TOKEN_INVALID"
    # Signing out with it is answered as usual (RFC 7009) but ends nothing.
    assert gateway.http.post("/v1/auth/logout", data={"refresh_token": forged}).status_code == 204
    # The real holder's token neither counts as used nor was revoked: it still rotates.
    rotated = refresh(gateway, tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert me(gateway, rotated.json()["access_token"]).json()["username"] == "lanhdao"


def test_ten_wrong_passwords_lock_the_account_for_that_address_only(gateway: Gateway) -> None:
    for _ in range(10):
        wrong = sign_in(gateway, "truongphong", "sai-mat-khau")
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "BAD_CREDENTIALS"
    locked = sign_in(gateway, "truongphong")  # the right password, too late
    assert locked.status_code == 429
    assert locked.json()["code"] == "ACCOUNT_LOCKED"
    assert 1 <= int(locked.headers["retry-after"]) <= 30
    # Another account is not affected.
    assert sign_in(gateway, "vanthu").status_code == 200
    # Nor is the person elsewhere: whoever guessed from here cannot lock them out.
    elsewhere = Gateway(gateway.base_url, local_address="127.0.0.2")
    assert sign_in(elsewhere, "truongphong").status_code == 200
    # The lock lifts once the failures age out of the window (30 s in these tests, 15 min by
    # default), and a successful sign-in clears the count.
    assert eventually(lambda: sign_in(gateway, "truongphong").status_code == 200, timeout=60)
    assert sign_in(gateway, "truongphong", "sai-mat-khau").json()["code"] == "BAD_CREDENTIALS"


def create_person(gateway: Gateway, username: str) -> None:
    admin = {"Authorization": f"Bearer {gateway.token('quantri')}"}
    created = gateway.http.post(
        "/v1/people",
        headers=admin,
        json={
            "username": username,
            "full_name": "Nguyễn Thị Thử",
            "position_title": "Chuyên viên",
            "unit_codes": ["VP"],
            "roles": ["specialist"],
            "password": SECRET,
            "password_must_change": False,
        },
    )
    assert created.status_code == 201, created.text


def test_a_burst_of_guesses_from_one_address_ends_at_the_lock(gateway: Gateway) -> None:
    """One address may have one password check in flight, so the burst is turned away or
    served one at a time: it never gets more than the limit of answers about the password.
    The account's lock under truly parallel attempts is the next test's (and the sign-in
    store's integration test's)."""
    username = f"doan-{uuid.uuid4().hex[:6]}"
    create_person(gateway, username)
    guesser = Gateway(gateway.base_url, local_address="127.0.0.6")
    with ThreadPoolExecutor(30) as pool:
        answers = list(
            pool.map(lambda _: sign_in(guesser, username, "doan-bua").json()["code"], range(30))
        )

    # Some were turned away before the directory (too many at once from one address); of
    # those that reached it, no more than the limit were answered about the password.
    assert answers.count("BAD_CREDENTIALS") <= 10, answers
    assert set(answers) <= {"BAD_CREDENTIALS", "ACCOUNT_LOCKED", "TOO_MANY_SIGN_IN_ATTEMPTS"}
    while answers.count("BAD_CREDENTIALS") < 10:  # reach the limit, one at a time
        answers.append(sign_in(guesser, username, "doan-bua").json()["code"])
    assert sign_in(guesser, username, SECRET).json()["code"] == "ACCOUNT_LOCKED"


def test_parallel_guesses_from_many_addresses_cannot_pass_the_account_limit(
    gateway: Gateway,
) -> None:
    """20 guesses at once, each from its own address; the account-wide limit is 15 in these
    tests. Only the account's lock keeps parallel attempts from all counting the same 14."""
    username = f"doan-{uuid.uuid4().hex[:6]}"
    create_person(gateway, username)
    # Where the person works: they signed in from here before.
    office = Gateway(gateway.base_url, local_address="127.0.0.7")
    assert sign_in(office, username, SECRET).status_code == 200

    def guess(n: int) -> str:
        guesser = Gateway(gateway.base_url, local_address=f"127.0.1.{n + 1}")
        while True:
            answer = sign_in(guesser, username, "doan-bua")
            if answer.json()["code"] != "SIGN_IN_BUSY":
                return answer.json()["code"]
            time.sleep(float(answer.headers["retry-after"]))  # not checked: come back

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(guess, range(20)))

    assert answers.count("BAD_CREDENTIALS") <= 15, answers
    assert set(answers) <= {"BAD_CREDENTIALS", "ACCOUNT_THROTTLED"}, answers
    # From a new address even the right password waits until the failures age out ...
    newcomer = Gateway(gateway.base_url, local_address="127.0.2.1")
    throttled = sign_in(newcomer, username, SECRET)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "ACCOUNT_THROTTLED"
    # ... but where the person signed in before, they still get in.
    assert sign_in(office, username, SECRET).status_code == 200
    assert eventually(lambda: sign_in(newcomer, username, SECRET).status_code == 200, timeout=30)


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
