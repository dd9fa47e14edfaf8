"""Sessions that really end: a person's tokens stop working within seconds of a password
change or reset, a deactivation or a change of what they may do, and at sign-out; a password an
administrator set must be changed before anything else."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.support import Gateway, eventually

TEMPORARY = "mat-khau-tam-thoi-2026"
# Revocations travel directory → outbox → NATS → the gateway's consumer → every replica's poll
# (1 s): a few seconds at most. This is how long the tests wait, not a measured figure
# (bench/session_end.py measures it).
ENDS_WITHIN = 15.0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(gateway: Gateway, username: str, password: str) -> httpx.Response:
    return gateway.http.post("/v1/auth/token", data={"username": username, "password": password})


def refresh(gateway: Gateway, token: str) -> httpx.Response:
    return gateway.http.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


def me(gateway: Gateway, token: str) -> httpx.Response:
    return gateway.http.get("/v1/me", headers=bearer(token))


@pytest.fixture(scope="module")
def admin(gateway: Gateway) -> dict[str, str]:
    return bearer(gateway.token("quantri"))


def new_person(
    gateway: Gateway, admin: dict[str, str], *, must_change: bool = False, **fields: Any
) -> dict[str, Any]:
    body = {
        "username": f"nv-{uuid.uuid4().hex[:10]}",
        "full_name": "Nhân Viên Thử",
        "roles": ["specialist"],
        "unit_codes": ["VP"],
        "password": TEMPORARY,
        "password_must_change": must_change,
        **fields,
    }
    created = gateway.http.post("/v1/people", headers=admin, json=body)
    assert created.status_code == 201, created.text
    return {**created.json(), "password": TEMPORARY}


def signed_in(gateway: Gateway, person: dict[str, Any]) -> dict[str, Any]:
    response = sign_in(gateway, person["username"], person["password"])
    assert response.status_code == 200, response.text
    return response.json()


def ends(gateway: Gateway, access_token: str) -> float:
    """Seconds until the token is refused as an ended session (fails the test otherwise)."""
    started = time.monotonic()

    def refused() -> bool:
        response = me(gateway, access_token)
        return response.status_code == 401 and response.json()["code"] == "SESSION_ENDED"

    assert eventually(refused, timeout=ENDS_WITHIN, interval=0.1), "the token still works"
    return time.monotonic() - started


def test_deactivation_ends_every_session_of_the_person(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    person = new_person(gateway, admin)
    first, second = signed_in(gateway, person), signed_in(gateway, person)
    assert me(gateway, first["access_token"]).status_code == 200

    off = gateway.http.post(f"/v1/people/{person['id']}/deactivate", headers=admin)
    assert off.status_code == 200, off.text

    ends(gateway, first["access_token"])
    ends(gateway, second["access_token"])
    for tokens in (first, second):
        assert refresh(gateway, tokens["refresh_token"]).status_code == 401
    assert sign_in(gateway, person["username"], person["password"]).status_code == 401


def test_a_password_reset_by_an_administrator_ends_the_old_sessions(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    person = new_person(gateway, admin)
    old = signed_in(gateway, person)

    reset = gateway.http.post(
        f"/v1/people/{person['id']}/password",
        headers=admin,
        json={"password": "mat-khau-moi-cap-lai", "must_change": False},
    )
    assert reset.status_code == 200, reset.text

    ends(gateway, old["access_token"])
    refused = refresh(gateway, old["refresh_token"])
    assert refused.status_code == 401
    fresh = signed_in(gateway, {**person, "password": "mat-khau-moi-cap-lai"})
    assert me(gateway, fresh["access_token"]).status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"roles": ["clerk"]}, {"unit_codes": []}, {"clearance": "secret"}],
    ids=["roles", "units", "clearance"],
)
def test_a_change_of_roles_units_or_clearance_ends_the_sessions(
    gateway: Gateway, admin: dict[str, str], change: dict[str, Any]
) -> None:
    person = new_person(gateway, admin)
    old = signed_in(gateway, person)

    changed = gateway.http.patch(f"/v1/people/{person['id']}", headers=admin, json=change)
    assert changed.status_code == 200, changed.text

    ends(gateway, old["access_token"])
    assert refresh(gateway, old["refresh_token"]).status_code == 401
    # Signing in again gives a token with what the person may do now.
    now = signed_in(gateway, person)
    body = me(gateway, now["access_token"]).json()
    for key, value in change.items():
        shown = {"unit_codes": "units"}.get(key, key)
        assert body[shown] == value


def test_a_change_of_name_leaves_the_sessions_alone(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    person = new_person(gateway, admin)
    tokens = signed_in(gateway, person)
    renamed = gateway.http.patch(
        f"/v1/people/{person['id']}", headers=admin, json={"full_name": "Tên Mới"}
    )
    assert renamed.status_code == 200, renamed.text
    time.sleep(3)  # longer than a revocation takes to arrive
    assert me(gateway, tokens["access_token"]).status_code == 200
    assert refresh(gateway, tokens["refresh_token"]).status_code == 200


def test_signing_out_ends_that_sessions_access_token_only(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    person = new_person(gateway, admin)
    phone, laptop = signed_in(gateway, person), signed_in(gateway, person)

    out = gateway.http.post("/v1/auth/logout", data={"refresh_token": phone["refresh_token"]})
    assert out.status_code == 204

    ends(gateway, phone["access_token"])
    assert me(gateway, laptop["access_token"]).status_code == 200


def test_a_password_set_by_an_administrator_must_be_changed_first(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    person = new_person(gateway, admin, must_change=True)
    tokens = signed_in(gateway, person)
    assert tokens["password_must_change"] is True
    token = tokens["access_token"]

    # Such a person may see who they are, and nothing else.
    assert me(gateway, token).json()["password_must_change"] is True
    blocked = gateway.http.get("/v1/notifications", headers=bearer(token))
    assert blocked.status_code == 403
    assert blocked.json()["code"] == "PASSWORD_CHANGE_REQUIRED"
    # A refresh does not lift the requirement.
    refreshed = refresh(gateway, tokens["refresh_token"])
    assert refreshed.status_code == 200 and refreshed.json()["password_must_change"] is True
    token = refreshed.json()["access_token"]
    assert gateway.http.get("/v1/units", headers=bearer(token)).status_code == 403

    wrong = gateway.http.post(
        "/v1/me/password",
        headers=bearer(token),
        json={"current_password": "khong-phai", "new_password": "mat-khau-cua-toi-2026"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "WRONG_CURRENT_PASSWORD"

    changed = gateway.http.post(
        "/v1/me/password",
        headers=bearer(token),
        json={"current_password": TEMPORARY, "new_password": "mat-khau-cua-toi-2026"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["cache-control"] == "no-store"
    fresh = changed.json()
    assert fresh["password_must_change"] is False
    assert (
        gateway.http.get("/v1/notifications", headers=bearer(fresh["access_token"])).status_code
        == 200
    )
    # The session the temporary password opened is over, at once.
    assert me(gateway, token).status_code == 401
    assert refresh(gateway, refreshed.json()["refresh_token"]).status_code == 401
    assert sign_in(gateway, person["username"], TEMPORARY).status_code == 401
    assert sign_in(gateway, person["username"], "mat-khau-cua-toi-2026").status_code == 200


def test_a_person_changes_their_own_password_and_other_sessions_end(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    person = new_person(gateway, admin)
    elsewhere = signed_in(gateway, person)
    here = signed_in(gateway, person)

    short = gateway.http.post(
        "/v1/me/password",
        headers=bearer(here["access_token"]),
        json={"current_password": TEMPORARY, "new_password": "ngan"},
    )
    assert short.status_code == 400
    assert me(gateway, elsewhere["access_token"]).status_code == 200

    changed = gateway.http.post(
        "/v1/me/password",
        headers=bearer(here["access_token"]),
        json={"current_password": TEMPORARY, "new_password": "mat-khau-rieng-2026"},
    )
    assert changed.status_code == 200, changed.text
    assert me(gateway, elsewhere["access_token"]).status_code == 401
    assert refresh(gateway, elsewhere["refresh_token"]).status_code == 401
    assert me(gateway, changed.json()["access_token"]).status_code == 200


def test_wrong_current_passwords_are_limited_like_wrong_sign_ins(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    person = new_person(gateway, admin)
    token = signed_in(gateway, person)["access_token"]
    codes = []
    for attempt in range(12):
        response = gateway.http.post(
            "/v1/me/password",
            headers=bearer(token),
            json={"current_password": f"doan-{attempt}", "new_password": "mat-khau-moi-2026"},
        )
        codes.append(response.json()["code"])
    assert codes[:10] == ["WRONG_CURRENT_PASSWORD"] * 10
    assert set(codes[10:]) == {"ACCOUNT_LOCKED"}
    # Even the right one is refused while guesses are locked out.
    right = gateway.http.post(
        "/v1/me/password",
        headers=bearer(token),
        json={"current_password": TEMPORARY, "new_password": "mat-khau-moi-2026"},
    )
    assert right.json()["code"] == "ACCOUNT_LOCKED"
