"""A person below a document's secrecy learns nothing of it, on every read path there is
(issue 6): no notice, no row, no number; and the directory shows clearances, e-mail addresses,
OIDC subjects and delegation reasons only to those entitled to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.support import Gateway, eventually, metadata

PASSWORD = "mat-khau-kiem-thu-2"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_person(gateway: Gateway, admin: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": f"qa.{uuid.uuid4().hex[:10]}",
        "full_name": "Nguyễn Văn Kiểm Thử",
        "roles": ["specialist"],
        "unit_codes": ["VP"],
        "password": PASSWORD,
        "password_must_change": False,
    } | fields
    created = gateway.http.post("/v1/people", headers=auth(admin), json=body)
    assert created.status_code == 201, created.text
    return created.json() | {"token": gateway.token(body["username"], PASSWORD)}


@pytest.fixture(scope="module")
def admin(gateway: Gateway) -> str:
    return gateway.token("quantri")


@pytest.fixture(scope="module")
def uncleared_clerk(gateway: Gateway, admin: str) -> dict[str, Any]:
    return new_person(gateway, admin, roles=["clerk"], clearance="none")


def about(notes: list[dict[str, Any]], document: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in notes if n["resource"] == f"incoming-documents/{document['id']}"]


def test_a_clerk_below_the_secrecy_learns_nothing_of_the_document(
    gateway: Gateway, clerk_token: str, admin: str, uncleared_clerk: dict[str, Any]
) -> None:
    first = gateway.register(clerk_token)
    assert first.status_code == 201
    secret = gateway.register(
        clerk_token,
        meta=metadata(
            secrecy="confidential", issuer_name="Bộ Quốc phòng", subject="V/v phương án tác chiến"
        ),
    )
    assert secret.status_code == 201, secret.text
    secret_doc = secret.json()
    ordinary = gateway.register(clerk_token)
    assert ordinary.status_code == 201
    ordinary_doc = ordinary.json()
    # Secret documents number in a register of their own: no gap counts them.
    assert ordinary_doc["arrival_number"] == first.json()["arrival_number"] + 1

    # Notices are recorded in the order of registration: once the ordinary one reached the
    # uncleared clerk, the secret one has been dealt with too.
    token = uncleared_clerk["token"]
    assert eventually(lambda: about(gateway.notifications(token), ordinary_doc))
    assert eventually(lambda: about(gateway.notifications(clerk_token), secret_doc))
    notes = gateway.notifications(token)
    assert about(notes, secret_doc) == []
    assert not [n for n in notes if "(sổ mật)" in n["title"] or "Bộ Quốc phòng" in n["body"]]

    for path in (
        f"/v1/incoming-documents/{secret_doc['id']}",
        f"/v1/incoming-documents/{secret_doc['id']}/file",
    ):
        response = gateway.http.get(path, headers=auth(token))
        assert response.status_code == 404
        assert response.json()["code"] == "INCOMING_NOT_FOUND"


def test_an_uncleared_leader_sees_neither_the_document_nor_its_assignment(
    gateway: Gateway, clerk_token: str, admin: str
) -> None:
    document = gateway.register(clerk_token, meta=metadata(secrecy="confidential")).json()
    assigned = gateway.http.post(
        f"/v1/incoming-documents/{document['id']}/assignment",
        headers=auth(gateway.token("lanhdao")),
        json={"lead_unit": "VP", "opinion": "Đề nghị Văn phòng chủ trì xử lý."},
    )
    assert assigned.status_code == 201, assigned.text

    deputy = new_person(gateway, admin, roles=["deputy_agency_leader"], clearance="none")
    for path in (
        f"/v1/incoming-documents/{document['id']}",
        f"/v1/incoming-documents/{document['id']}/assignment",
    ):
        response = gateway.http.get(path, headers=auth(deputy["token"]))
        assert response.status_code == 404, path
    reassign = gateway.http.post(
        f"/v1/incoming-documents/{document['id']}/assignment",
        headers=auth(deputy["token"]),
        json={"lead_unit": "VP"},
    )
    assert reassign.status_code == 404
    assert reassign.json()["code"] == "INCOMING_NOT_FOUND"


def test_a_clerk_reading_people_sees_no_clearance_email_or_external_id(
    gateway: Gateway, clerk_token: str, admin: str
) -> None:
    holder = new_person(
        gateway,
        admin,
        clearance="top_secret",
        email=f"bm.{uuid.uuid4().hex[:6]}@demo.gov.vn",
        external_subject=f"oidc|{uuid.uuid4().hex}",
    )

    def listed(token: str) -> dict[str, Any]:
        people: list[dict[str, Any]] = []
        page = ""
        while True:
            response = gateway.http.get(
                "/v1/people",
                headers=auth(token),
                params={"page_size": 500, **({"page_token": page} if page else {})},
            )
            assert response.status_code == 200, response.text
            people += response.json()["items"]
            page = response.json().get("next_page_token") or ""
            if not page:
                return {p["id"]: p for p in people}

    as_clerk = listed(clerk_token)
    seen = as_clerk[holder["id"]]
    assert seen["full_name"] == holder["full_name"] and seen["roles"] == ["specialist"]
    assert seen["redacted"] is True
    assert (seen["clearance"], seen["email"], seen["external_subject"]) == (None, None, None)
    assert seen["password_must_change"] is None
    others = [p for p in as_clerk.values() if p["username"] != "vanthu"]
    assert all(p["clearance"] is None and p["email"] is None for p in others)
    one = gateway.http.get(f"/v1/people/{holder['id']}", headers=auth(clerk_token)).json()
    assert one["redacted"] is True and one["clearance"] is None and one["email"] is None

    # Their own entry, the person themself and an administrator: everything.
    [me] = [p for p in as_clerk.values() if p["username"] == "vanthu"]
    assert me["redacted"] is False and me["clearance"] == "confidential"
    for token in (admin, holder["token"]):
        full = gateway.http.get(f"/v1/people/{holder['id']}", headers=auth(token)).json()
        assert full["redacted"] is False
        assert full["clearance"] == "top_secret"
        assert full["email"] == holder["email"]
        assert full["external_subject"] == holder["external_subject"]
    assert listed(admin)[holder["id"]]["clearance"] == "top_secret"


def test_a_delegations_reason_is_hidden_from_a_third_person(
    gateway: Gateway, clerk_token: str, admin: str
) -> None:
    head = new_person(gateway, admin, roles=["unit_head"])
    deputy = new_person(gateway, admin, roles=["deputy_unit_head"])
    now = datetime.now(UTC)
    created = gateway.http.post(
        "/v1/delegations",
        headers=auth(admin),
        json={
            "from_person_id": head["id"],
            "to_person_id": deputy["id"],
            "scope": ["approve"],
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=2)).isoformat(),
            "reason": "Trưởng phòng nghỉ ốm",
        },
    )
    assert created.status_code == 201, created.text

    def seen_by(token: str) -> dict[str, Any]:
        response = gateway.http.get(
            "/v1/delegations", headers=auth(token), params={"person_id": head["id"]}
        )
        assert response.status_code == 200, response.text
        [delegation] = response.json()["items"]
        return delegation

    third = seen_by(clerk_token)
    assert third["redacted"] is True and third["reason"] is None
    assert (third["from_person_id"], third["to_person_id"]) == (head["id"], deputy["id"])
    for token in (head["token"], deputy["token"], admin):
        visible = seen_by(token)
        assert visible["redacted"] is False and visible["reason"] == "Trưởng phòng nghỉ ốm"
