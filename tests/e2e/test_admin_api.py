"""The directory's administration API at the gateway: an administrator manages the agency,
its units, people, passwords, delegations and images; the directory decides who may.

Every person changed here is made here: the demo accounts are left as they are for other tests.
"""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.support import Gateway
from vanban.launcher.platform import Platform

SECRET = "mat-khau-kiem-thu-1"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_png(rgba: tuple[int, int, int, int] = (0, 0, 255, 255), side: int = 2) -> bytes:
    """A real RGBA PNG, `side` pixels square, all of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgba) * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def unique_code(prefix: str = "QA") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def unique_username() -> str:
    return f"qa.{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def admin(gateway: Gateway) -> dict[str, str]:
    return auth(gateway.token("quantri"))


@pytest.fixture(scope="module")
def clerk(gateway: Gateway) -> dict[str, str]:
    return auth(gateway.token("vanthu"))


def make_unit(gateway: Gateway, admin: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"code": unique_code(), "name": "Phòng Kiểm thử", "parent_code": "VP"} | overrides
    response = gateway.http.post("/v1/units", headers=admin, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def make_person(gateway: Gateway, admin: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {
        "username": unique_username(),
        "full_name": "Đỗ Thị Kiểm Thử",
        "position_title": "Chuyên viên",
        "roles": ["specialist"],
        "unit_codes": ["VP"],
        "password": SECRET,
        "password_must_change": False,
    } | overrides
    response = gateway.http.post("/v1/people", headers=admin, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def sign_in(gateway: Gateway, username: str, password: str) -> httpx.Response:
    return gateway.http.post("/v1/auth/token", data={"username": username, "password": password})


def everyone(gateway: Gateway, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every page of the people listing."""
    people: list[dict[str, Any]] = []
    token = ""
    while True:
        response = gateway.http.get(
            "/v1/people",
            headers=headers,
            params=params | ({"page_token": token} if token else {}),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        people.extend(body["items"])
        token = body.get("next_page_token") or ""
        if not token:
            return people


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_an_admin_creates_a_unit_and_a_person_in_it_and_changes_both(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    created = gateway.http.post(
        "/v1/units",
        headers=admin,
        json={"code": unique_code(), "name": "Phòng  Pháp chế", "parent_code": "VP"},
    )
    assert created.status_code == 201, created.text
    unit = created.json()
    assert created.headers["Location"] == f"/v1/units/{unit['code']}"
    assert unit["name"] == "Phòng Pháp chế"  # the directory normalises
    assert unit["abbreviation"] == unit["code"]
    assert unit["parent_code"] == "VP"
    assert unit["head_person_id"] is None

    tree = gateway.http.get("/v1/units", headers=admin).json()["items"]
    codes = [u["code"] for u in tree]
    assert codes.index("VP") < codes.index(unit["code"])
    depth = {u["code"]: u["depth"] for u in tree}
    assert depth[unit["code"]] == depth["VP"] + 1

    response = gateway.http.post(
        "/v1/people",
        headers=admin,
        json={
            "username": (username := unique_username()),
            "full_name": "Ngô Văn Pháp Chế",
            "roles": ["specialist"],
            "unit_codes": [unit["code"]],
            "clearance": "confidential",
            "email": f"{username}@h99.example.vn",
            "password": SECRET,
        },
    )
    assert response.status_code == 201, response.text
    assert SECRET not in response.text
    person = response.json()
    assert response.headers["Location"] == f"/v1/people/{person['id']}"
    assert person["username"] == username
    assert person["unit_codes"] == [unit["code"]]
    assert person["clearance"] == "confidential"
    assert person["active"] is True
    assert person["password_must_change"] is True  # an initial password is a temporary one
    assert "password" not in person

    changed = gateway.http.patch(
        f"/v1/people/{person['id']}",
        headers=admin,
        json={
            "position_title": "Trưởng phòng",
            "roles": ["specialist", "unit_head"],
            "clearance": "secret",
            "email": None,
        },
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["position_title"] == "Trưởng phòng"
    assert sorted(after["roles"]) == ["specialist", "unit_head"]
    assert after["clearance"] == "secret"
    assert after["email"] is None
    assert after["full_name"] == "Ngô Văn Pháp Chế"  # left out, so kept
    assert gateway.http.get(f"/v1/people/{person['id']}", headers=admin).json() == after

    renamed = gateway.http.patch(
        f"/v1/units/{unit['code']}",
        headers=admin,
        json={"name": "Phòng Pháp chế và Kiểm tra", "head_person_id": person["id"]},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Phòng Pháp chế và Kiểm tra"
    assert renamed.json()["head_person_id"] == person["id"]
    assert renamed.json()["parent_code"] == "VP"
    fetched = gateway.http.get(f"/v1/units/{unit['code']}", headers=admin)
    assert fetched.json() == renamed.json()

    taken = gateway.http.post(
        "/v1/people",
        headers=admin,
        json={"username": username, "full_name": "Trùng", "roles": ["clerk"], "password": SECRET},
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "PERSON_EXISTS"


def test_people_are_listed_a_page_at_a_time_with_a_role_filter(
    gateway: Gateway, admin: dict[str, str], clerk: dict[str, str]
) -> None:
    archivists = {make_person(gateway, admin, roles=["archivist"])["id"] for _ in range(3)}
    specialist = make_person(gateway, admin)

    first = gateway.http.get(
        "/v1/people", headers=admin, params={"role": "archivist", "page_size": 2}
    ).json()
    assert len(first["items"]) == 2
    assert first["next_page_token"]

    listed = everyone(gateway, admin, role="archivist", page_size=2)
    assert archivists <= {p["id"] for p in listed}
    assert all("archivist" in p["roles"] for p in listed)
    assert specialist["id"] not in {p["id"] for p in listed}
    usernames = [p["username"] for p in listed]
    assert usernames == sorted(usernames)
    assert len(usernames) == len(set(usernames))

    # Any signed-in person may read the directory.
    assert specialist["id"] in {p["id"] for p in everyone(gateway, clerk, role="specialist")}

    other_filter = gateway.http.get(
        "/v1/people",
        headers=admin,
        params={"role": "clerk", "page_token": first["next_page_token"]},
    )
    assert other_filter.status_code == 400
    unknown_role = gateway.http.get("/v1/people", headers=admin, params={"role": "boss"})
    assert unknown_role.status_code == 422


def test_a_password_set_by_an_admin_signs_the_person_in_and_the_old_one_no_longer(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    person = make_person(gateway, admin)
    assert sign_in(gateway, person["username"], SECRET).status_code == 200

    new_password = "mat-khau-moi-" + uuid.uuid4().hex[:6]
    response = gateway.http.post(
        f"/v1/people/{person['id']}/password",
        headers=admin,
        json={"password": new_password, "must_change": False},
    )
    assert response.status_code == 200, response.text
    assert new_password not in response.text
    assert response.json()["password_must_change"] is False

    assert sign_in(gateway, person["username"], new_password).status_code == 200
    assert sign_in(gateway, person["username"], SECRET).status_code == 401

    too_short = gateway.http.post(
        f"/v1/people/{person['id']}/password", headers=admin, json={"password": "short"}
    )
    assert too_short.status_code == 400
    assert too_short.json()["code"] == "INVALID_PASSWORD"
    assert too_short.json()["errors"][0]["field"] == "password"


def test_a_deactivated_person_cannot_sign_in(gateway: Gateway, admin: dict[str, str]) -> None:
    person = make_person(gateway, admin)
    assert sign_in(gateway, person["username"], SECRET).status_code == 200

    response = gateway.http.post(f"/v1/people/{person['id']}/deactivate", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False

    refused = sign_in(gateway, person["username"], SECRET)
    assert refused.status_code == 401
    assert refused.json()["code"] == "BAD_CREDENTIALS"
    # Their record stays, but the listing shows active people only.
    assert gateway.http.get(f"/v1/people/{person['id']}", headers=admin).json()["active"] is False
    assert person["id"] not in {p["id"] for p in everyone(gateway, admin, role="specialist")}


def test_delegations_are_created_listed_and_revoked(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    leader = make_person(gateway, admin, roles=["unit_head"], position_title="Trưởng phòng")
    deputy = make_person(gateway, admin, roles=["deputy_unit_head"], position_title="Phó phòng")
    now = datetime.now(UTC)
    body = {
        "from_person_id": leader["id"],
        "to_person_id": deputy["id"],
        "scope": ["sign", "approve"],
        "starts_at": iso(now - timedelta(minutes=1)),
        "ends_at": iso(now + timedelta(days=1)),
        "reason": "Trưởng phòng đi công tác",
    }
    created = gateway.http.post("/v1/delegations", headers=admin, json=body)
    assert created.status_code == 201, created.text
    delegation = created.json()
    assert sorted(delegation["scope"]) == ["approve", "sign"]
    assert delegation["revoked_at"] is None
    ends_at = datetime.fromisoformat(delegation["ends_at"])
    assert abs(ends_at - (now + timedelta(days=1))) < timedelta(seconds=1)

    overlapping = gateway.http.post(
        "/v1/delegations", headers=admin, json=body | {"scope": ["sign"]}
    )
    assert overlapping.status_code == 400
    assert overlapping.json()["code"] == "OVERLAPPING_DELEGATION"

    def active(person_id: str) -> list[str]:
        response = gateway.http.get(
            "/v1/delegations",
            headers=admin,
            params={"person_id": person_id, "active_at": iso(datetime.now(UTC))},
        )
        assert response.status_code == 200, response.text
        return [d["id"] for d in response.json()["items"]]

    assert active(leader["id"]) == [delegation["id"]]
    assert active(deputy["id"]) == [delegation["id"]]

    revoked = gateway.http.post(
        f"/v1/delegations/{delegation['id']}/revoke",
        headers=admin,
        json={"reason": "Đã về cơ quan"},
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert revoked.json()["revoke_reason"] == "Đã về cơ quan"
    assert active(leader["id"]) == []
    history = gateway.http.get(
        "/v1/delegations", headers=admin, params={"person_id": leader["id"]}
    ).json()["items"]
    assert [(d["id"], d["revoked_at"] is not None) for d in history] == [(delegation["id"], True)]

    again = gateway.http.post(f"/v1/delegations/{delegation['id']}/revoke", headers=admin)
    assert again.status_code == 400
    assert again.json()["code"] == "DELEGATION_REVOKED"


def test_a_delegator_manages_their_own_delegations_and_nobody_elses(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    leader = make_person(gateway, admin, roles=["unit_head"])
    deputy = make_person(gateway, admin, roles=["deputy_unit_head"])
    as_leader = auth(gateway.token(leader["username"], SECRET))
    as_deputy = auth(gateway.token(deputy["username"], SECRET))
    now = datetime.now(UTC)
    body = {
        "from_person_id": leader["id"],
        "to_person_id": deputy["id"],
        "scope": ["assign"],
        "starts_at": iso(now + timedelta(days=3)),
        "ends_at": iso(now + timedelta(days=5)),
        "reason": "Nghỉ phép",
    }
    created = gateway.http.post("/v1/delegations", headers=as_leader, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == leader["id"]

    # The deputy may neither hand out the leader's powers nor end the leader's delegation.
    refused = gateway.http.post(
        "/v1/delegations", headers=as_deputy, json=body | {"scope": ["forward"]}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "NOT_DELEGATOR"
    not_theirs = gateway.http.post(
        f"/v1/delegations/{created.json()['id']}/revoke", headers=as_deputy
    )
    assert not_theirs.status_code == 403

    ended = gateway.http.post(f"/v1/delegations/{created.json()['id']}/revoke", headers=as_leader)
    assert ended.status_code == 200, ended.text
    assert ended.json()["revoked_by"] == leader["id"]


def test_a_leaders_signature_image_is_stored_through_the_archive(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    leader = make_person(gateway, admin, roles=["unit_head"], position_title="Trưởng phòng")
    png = make_png((0, 0, 200, 255))
    response = gateway.http.put(
        f"/v1/people/{leader['id']}/signature-image",
        headers=admin,
        files={"file": ("chu-ky.png", png, "image/png")},
    )
    assert response.status_code == 200, response.text
    image = response.json()["signature_image"]
    assert image == {"sha256": hashlib.sha256(png).hexdigest(), "size": len(png)}
    assert (
        gateway.http.get(f"/v1/people/{leader['id']}", headers=admin).json()["signature_image"]
        == image
    )

    not_png = gateway.http.put(
        f"/v1/people/{leader['id']}/signature-image",
        headers=admin,
        files={"file": ("chu-ky.png", b"GIF89a not a png", "image/png")},
    )
    assert not_png.status_code == 400
    assert not_png.json()["code"] == "INVALID_IMAGE"

    too_large = gateway.http.put(
        f"/v1/people/{leader['id']}/signature-image",
        headers=admin,
        files={"file": ("chu-ky.png", png + b"\0" * (1024 * 1024), "image/png")},
    )
    assert too_large.status_code == 413

    specialist = make_person(gateway, admin)
    not_a_signer = gateway.http.put(
        f"/v1/people/{specialist['id']}/signature-image",
        headers=admin,
        files={"file": ("chu-ky.png", png, "image/png")},
    )
    assert not_a_signer.status_code == 400
    assert not_a_signer.json()["code"] == "NOT_A_SIGNER"

    missing = gateway.http.put(
        f"/v1/people/{leader['id']}/signature-image", headers=admin, files={"other": png}
    )
    assert missing.status_code == 422


def test_the_agency_profile_and_seal(
    platform: Platform, gateway: Gateway, admin: dict[str, str]
) -> None:
    agency = gateway.http.get("/v1/agency", headers=admin).json()
    assert agency["code"] == platform.agencies[0].spec.code

    changed = gateway.http.patch("/v1/agency", headers=admin, json={"phone": "+84 24 3825 0000"})
    try:
        assert changed.status_code == 200, changed.text
        assert changed.json()["phone"] == "+84 24 3825 0000"
        assert changed.json()["name"] == agency["name"]
    finally:
        restored = gateway.http.patch("/v1/agency", headers=admin, json={"phone": agency["phone"]})
        assert restored.status_code == 200, restored.text

    code = gateway.http.patch("/v1/agency", headers=admin, json={"code": "000.00.00.X00"})
    assert code.status_code == 422  # not a field one may send
    bad_website = gateway.http.patch("/v1/agency", headers=admin, json={"website": "ftp://x"})
    assert bad_website.status_code == 400
    assert bad_website.json()["errors"][0]["field"] == "website"

    seal = make_png((220, 0, 0, 255), side=3)
    stored = gateway.http.put(
        "/v1/agency/seal-image", headers=admin, files={"file": ("dau.png", seal, "image/png")}
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["seal_image"]["sha256"] == hashlib.sha256(seal).hexdigest()


def test_a_unit_cannot_move_under_its_own_child(gateway: Gateway, admin: dict[str, str]) -> None:
    response = gateway.http.patch("/v1/units/VP", headers=admin, json={"parent_code": "PTH"})
    assert response.status_code == 400
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "UNIT_CYCLE"
    assert "PTH lies inside VP" in problem["detail"]

    top = make_unit(gateway, admin)
    middle = make_unit(gateway, admin, parent_code=top["code"])
    bottom = make_unit(gateway, admin, parent_code=middle["code"])
    deep = gateway.http.patch(
        f"/v1/units/{top['code']}", headers=admin, json={"parent_code": bottom["code"]}
    )
    assert deep.status_code == 400
    assert deep.json()["code"] == "UNIT_CYCLE"
    assert gateway.http.get("/v1/units/VP", headers=admin).json()["parent_code"] is None

    # Moving to the root (null) is no cycle.
    rooted = gateway.http.patch(
        f"/v1/units/{bottom['code']}", headers=admin, json={"parent_code": None}
    )
    assert rooted.status_code == 200, rooted.text
    assert rooted.json()["parent_code"] is None


def test_only_an_empty_unit_is_deleted(gateway: Gateway, admin: dict[str, str]) -> None:
    unit = make_unit(gateway, admin)
    member = make_person(gateway, admin, unit_codes=[unit["code"]])
    refused = gateway.http.delete(f"/v1/units/{unit['code']}", headers=admin)
    assert refused.status_code == 400
    assert refused.json()["code"] == "UNIT_NOT_EMPTY"
    assert member["username"] in refused.json()["detail"]

    empty = make_unit(gateway, admin)
    deleted = gateway.http.delete(f"/v1/units/{empty['code']}", headers=admin)
    assert deleted.status_code == 204
    gone = gateway.http.get(f"/v1/units/{empty['code']}", headers=admin)
    assert gone.status_code == 404
    assert gone.json()["code"] == "UNIT_NOT_FOUND"


@pytest.fixture(scope="module")
def targets(gateway: Gateway, admin: dict[str, str]) -> dict[str, str]:
    """Records a non-administrator tries to change."""
    unit = make_unit(gateway, admin)
    person = make_person(gateway, admin, unit_codes=[unit["code"]])
    leader = make_person(gateway, admin, roles=["unit_head"])
    now = datetime.now(UTC)
    delegation = gateway.http.post(
        "/v1/delegations",
        headers=admin,
        json={
            "from_person_id": leader["id"],
            "to_person_id": person["id"],
            "scope": ["forward"],
            "starts_at": iso(now),
            "ends_at": iso(now + timedelta(days=1)),
            "reason": "Kiểm thử",
        },
    )
    assert delegation.status_code == 201, delegation.text
    return {
        "unit": unit["code"],
        "person": person["id"],
        "leader": leader["id"],
        "delegation": delegation.json()["id"],
    }


CSV_GOOD = "username,full_name,roles\nqa.csv.one,Một,clerk\n"
Mutation = tuple[str, str, Callable[[dict[str, str]], dict[str, Any]]]
MUTATIONS: list[Mutation] = [
    ("PATCH", "/v1/agency", lambda t: {"json": {"phone": "0123456789"}}),
    ("PUT", "/v1/agency/seal-image", lambda t: {"files": {"file": ("d.png", make_png())}}),
    ("POST", "/v1/units", lambda t: {"json": {"code": unique_code(), "name": "Phòng X"}}),
    ("PATCH", "/v1/units/{unit}", lambda t: {"json": {"name": "Đổi tên"}}),
    ("DELETE", "/v1/units/{unit}", lambda t: {}),
    (
        "POST",
        "/v1/people",
        lambda t: {
            "json": {
                "username": unique_username(),
                "full_name": "Người Mới",
                "roles": ["admin"],
                "password": SECRET,
            }
        },
    ),
    ("PATCH", "/v1/people/{person}", lambda t: {"json": {"roles": ["admin"]}}),
    ("POST", "/v1/people/{person}/password", lambda t: {"json": {"password": "chiem-quyen-1"}}),
    ("POST", "/v1/people/{person}/deactivate", lambda t: {}),
    (
        "PUT",
        "/v1/people/{leader}/signature-image",
        lambda t: {"files": {"file": ("c.png", make_png())}},
    ),
    (
        "POST",
        "/v1/people/import?dry_run=true",
        lambda t: {"files": {"file": ("people.csv", CSV_GOOD, "text/csv")}},
    ),
    (
        "POST",
        "/v1/delegations",
        lambda t: {
            "json": {
                "from_person_id": t["leader"],
                "to_person_id": t["person"],
                "scope": ["sign"],
                "starts_at": iso(datetime.now(UTC)),
                "ends_at": iso(datetime.now(UTC) + timedelta(days=1)),
                "reason": "Tự ủy quyền thay người khác",
            }
        },
    ),
    ("POST", "/v1/delegations/{delegation}/revoke", lambda t: {}),
]


@pytest.mark.parametrize(
    ("method", "path", "request_args"),
    MUTATIONS,
    ids=[f"{method} {path}" for method, path, _ in MUTATIONS],
)
def test_a_clerk_may_change_nothing_in_the_directory(
    gateway: Gateway,
    admin: dict[str, str],
    clerk: dict[str, str],
    targets: dict[str, str],
    method: str,
    path: str,
    request_args: Callable[[dict[str, str]], dict[str, Any]],
) -> None:
    response = gateway.http.request(
        method, path.format(**targets), headers=clerk, **request_args(targets)
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] in {"ROLE_REQUIRED", "NOT_DELEGATOR"}
    # Nothing changed.
    person = gateway.http.get(f"/v1/people/{targets['person']}", headers=admin).json()
    assert person["active"] is True
    assert person["roles"] == ["specialist"]
    assert gateway.http.get(f"/v1/units/{targets['unit']}", headers=admin).status_code == 200
    delegations = gateway.http.get(
        "/v1/delegations", headers=admin, params={"person_id": targets["leader"]}
    ).json()["items"]
    assert [d["revoked_at"] for d in delegations] == [None]


def test_api_keys_and_anonymous_callers_reach_no_administration(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    key = gateway.http.post(
        "/v1/api-keys", headers=admin, json={"name": "Cổng tỉnh", "scopes": ["incoming:read"]}
    ).json()["key"]
    with_key = gateway.http.get("/v1/people", headers=auth(key))
    assert with_key.status_code == 403
    assert with_key.json()["code"] == "SCOPE_REQUIRED"
    assert gateway.http.get("/v1/units").status_code == 401
    anonymous_upload = gateway.http.put(
        "/v1/agency/seal-image", files={"file": ("d.png", make_png(), "image/png")}
    )
    assert anonymous_upload.status_code == 401


def test_bad_requests_are_refused_with_the_field_named(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    not_uuid = gateway.http.get("/v1/people/quantri", headers=admin)
    assert not_uuid.status_code == 422
    assert not_uuid.json()["errors"][0]["field"] == "path.person_id"

    person = make_person(gateway, admin)
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("PATCH", f"/v1/people/{person['id']}", {}, ""),
        ("PATCH", f"/v1/people/{person['id']}", {"full_name": None}, "full_name"),
        ("PATCH", f"/v1/people/{person['id']}", {"password": SECRET}, "password"),
        ("PATCH", f"/v1/people/{person['id']}", {"clearance": "mat"}, "clearance"),
        ("POST", "/v1/units", {"code": "X" * 33, "name": "Quá dài"}, "code"),
        (
            "POST",
            "/v1/delegations",
            {
                "from_person_id": person["id"],
                "to_person_id": str(uuid.uuid4()),
                "scope": ["sign"],
                "starts_at": "2026-01-01T08:00:00",  # no time zone
                "ends_at": "2026-01-02T08:00:00Z",
                "reason": "x",
            },
            "starts_at",
        ),
    ]
    for method, path, body, field in cases:
        response = gateway.http.request(method, path, headers=admin, json=body)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert problem["code"] == "VALIDATION_FAILED"
        assert [e["field"] for e in problem["errors"]] == [field], problem

    unknown = gateway.http.get(f"/v1/people/{uuid.uuid4()}", headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "PERSON_NOT_FOUND"


def test_an_import_dry_run_reports_exactly_the_bad_lines_and_writes_nothing(
    gateway: Gateway, admin: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    csv = (
        "username,full_name,position_title,unit_codes,roles,clearance,email,password\n"
        f"qa.imp.{tag}.1,Nguyễn Văn Một,Chuyên viên,VP,specialist,none,,\n"
        f"qa.imp.{tag}.2,Trần Thị Hai,Chuyên viên,VP,boss,none,,\n"
        f"qa.imp.{tag}.3,Lê Văn Ba,Văn thư,VP;PTH,clerk,mật,,\n"
        f"qa.imp.{tag}.4,Phạm Thị Bốn,Chuyên viên,NOWHERE,specialist,none,,\n"
        f"qa.imp.{tag}.5,Hoàng Văn Năm,Lưu trữ,VP,archivist,none,,\n"
    )
    response = gateway.http.post(
        "/v1/people/import",
        headers=admin,
        params={"dry_run": "true"},
        files={"file": ("can-bo.csv", csv.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rows"] == 5
    assert report["imported"] == 0
    assert report["dry_run"] is True
    assert {p["line"] for p in report["problems"]} == {3, 5}
    assert {(p["line"], p["field"]) for p in report["problems"]} == {
        (3, "roles"),
        (5, "unit_codes"),
    }
    usernames = {p["username"] for p in everyone(gateway, admin, page_size=500)}
    assert not {u for u in usernames if u.startswith(f"qa.imp.{tag}.")}

    # The same people as JSON, without the bad ones, imported for real.
    people = [
        {
            "username": f"qa.json.{tag}.1",
            "full_name": "Một",
            "roles": ["clerk"],
            "password": SECRET,
        },
        {"username": f"qa.json.{tag}.2", "full_name": "Hai", "roles": "specialist;archivist"},
    ]
    imported = gateway.http.post(
        "/v1/people/import",
        headers=admin,
        params={"dry_run": "false"},
        files={"file": ("people.json", json.dumps(people).encode(), "application/octet-stream")},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"rows": 2, "imported": 2, "dry_run": False, "problems": []}
    assert sign_in(gateway, f"qa.json.{tag}.1", SECRET).status_code == 200

    unknown_format = gateway.http.post(
        "/v1/people/import",
        headers=admin,
        params={"dry_run": "true"},
        files={"file": ("people.xlsx", b"PK\x03\x04", "application/octet-stream")},
    )
    assert unknown_format.status_code == 415
    assert unknown_format.json()["code"] == "UNSUPPORTED_IMPORT_FORMAT"
    no_flag = gateway.http.post(
        "/v1/people/import",
        headers=admin,
        files={"file": ("can-bo.csv", csv.encode(), "text/csv")},
    )
    assert no_flag.status_code == 422
