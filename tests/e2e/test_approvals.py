"""The approval chain of an outgoing document through the gateway (issue 9, ADR 0010 §5): an
agency's chain as data, a return and a resubmission, the signer's signature, the clerk's issue;
nothing is numbered before its chain is passed, or in another version than the one approved."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.support import Gateway, eventually, make_pdf
from tests.e2e.test_outgoing import add_version, draft, issue

# A type no other test drafts: its chain is this test's own.
CHAIN_TYPE = "Chương trình"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(gateway: Gateway, token: str, path: str, body: Any = None) -> httpx.Response:
    return gateway.http.post(path, headers=auth(token), json=body)


def me(gateway: Gateway, token: str) -> str:
    return str(gateway.http.get("/v1/me", headers=auth(token)).json()["id"])


def test_a_draft_goes_through_its_whole_chain_with_a_return_and_is_issued(
    gateway: Gateway, clerk_token: str
) -> None:
    admin = gateway.token("quantri")
    drafter, head = gateway.token("chuyenvien"), gateway.token("truongphong")
    leader = gateway.token("lanhdao")
    leader_id = me(gateway, leader)

    # The agency adds steps as data: the whole chain of Decree 30 for this type.
    chain = gateway.http.put(
        "/v1/approval-chains",
        headers=auth(admin),
        json={"document_type": CHAIN_TYPE, "steps": ["review", "form_check", "approve", "sign"]},
    )
    assert chain.status_code == 200, chain.text
    # Only the admin sets chains, and a chain keeps the decree's order and ends with signing.
    assert (
        gateway.http.put(
            "/v1/approval-chains",
            headers=auth(drafter),
            json={"document_type": CHAIN_TYPE, "steps": ["sign"]},
        ).status_code
        == 403
    )
    bad = gateway.http.put(
        "/v1/approval-chains", headers=auth(admin), json={"steps": ["sign", "review"]}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_CHAIN"
    chains = gateway.http.get("/v1/approval-chains", headers=auth(drafter)).json()["chains"]
    assert {"document_type": "", "steps": ["sign"]} in chains

    created = draft(gateway, drafter, make_pdf("Chuong trinh v1"), document_type=CHAIN_TYPE)
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    base = f"/v1/outgoing-documents/{document_id}"

    # Nobody numbers a draft that was never submitted.
    early = issue(gateway, clerk_token, document_id)
    assert early.status_code == 400 and early.json()["code"] == "NOT_APPROVED", early.text
    # Nor submits someone else's draft, or names a signer who cannot sign.
    assert post(gateway, leader, f"{base}/submit", {"signer_id": leader_id}).status_code == 403
    wrong_signer = post(gateway, drafter, f"{base}/submit", {"signer_id": me(gateway, drafter)})
    assert wrong_signer.status_code == 400 and wrong_signer.json()["code"] == "INVALID_SIGNER"

    submitted = post(
        gateway, drafter, f"{base}/submit", {"signer_id": leader_id, "comment": "Kính trình"}
    )
    assert submitted.status_code == 200, submitted.text
    approval = submitted.json()
    assert (approval["state"], approval["step"], approval["round"]) == ("pending", "review", 1)
    assert approval["steps"] == ["review", "form_check", "approve", "sign"]
    assert approval["waiting_for"] == "unit:VP"
    again = post(gateway, drafter, f"{base}/submit", {"signer_id": leader_id})
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_SUBMITTED"
    decide = f"/v1/approvals/{approval['id']}"

    # The review is the drafting unit's head's: not the clerk's, not the leader's yet.
    assert post(gateway, clerk_token, f"{decide}/approve").json()["code"] == "NOT_YOUR_STEP"
    assert post(gateway, leader, f"{base}/sign").json()["code"] == "NOT_YOUR_STEP"
    # The head's inbox shows it.
    inbox = gateway.http.get("/v1/approvals", headers=auth(head)).json()["approvals"]
    assert approval["id"] in [a["id"] for a in inbox]

    # A return needs its reason; with it, the draft goes back to the drafter.
    assert post(gateway, head, f"{decide}/return", {"comment": ""}).status_code == 422
    returned = post(gateway, head, f"{decide}/return", {"comment": "Bổ sung căn cứ pháp lý"})
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    assert post(gateway, head, f"{decide}/approve").json()["code"] == "APPROVAL_CLOSED"

    # The drafter revises and submits again: the chain starts over.
    assert (
        add_version(gateway, drafter, document_id, make_pdf("Chuong trinh v2")).status_code == 201
    )
    resubmitted = post(gateway, drafter, f"{base}/submit", {"signer_id": leader_id})
    assert resubmitted.status_code == 200, resubmitted.text
    assert (resubmitted.json()["round"], resubmitted.json()["version"]) == (2, 2)
    assert resubmitted.json()["step"] == "review"

    reviewed = post(gateway, head, f"{decide}/approve", {"comment": "Đồng ý"})
    assert reviewed.status_code == 200 and reviewed.json()["step"] == "form_check"
    checked = post(gateway, clerk_token, f"{decide}/approve", {"comment": "Đúng thể thức"})
    assert checked.status_code == 200 and checked.json()["step"] == "approve"
    assert checked.json()["waiting_for"] == f"person:{leader_id}"
    # The signer's approval, then the signature: each by its own route.
    signed_early = post(gateway, leader, f"{base}/sign")
    assert signed_early.status_code == 400 and signed_early.json()["code"] == "WRONG_STEP"
    approved = post(gateway, leader, f"{decide}/approve")
    assert approved.status_code == 200 and approved.json()["step"] == "sign"
    assert post(gateway, leader, f"{decide}/approve").json()["code"] == "WRONG_STEP"
    assert post(gateway, drafter, f"{base}/sign").json()["code"] == "NOT_YOUR_STEP"
    signed = post(gateway, leader, f"{base}/sign", {"comment": "Ký ban hành"})
    assert signed.status_code == 200, signed.text
    assert (signed.json()["approval"]["state"], signed.json()["approval"]["waiting_for"]) == (
        "approved",
        "role:clerk",
    )

    issued = issue(gateway, clerk_token, document_id, expected_version=2)
    assert issued.status_code == 200, issued.text
    assert issued.json()["status"] == "issued" and issued.json()["code_number"]

    def closed() -> dict[str, Any] | None:
        view = gateway.http.get(f"{base}/approval", headers=auth(drafter)).json()
        return view if view["state"] == "issued" else None

    view = eventually(closed)
    assert [(h["round"], h["step"], h["decision"]) for h in view["history"]] == [
        (1, "submit", "submitted"),
        (1, "review", "returned"),
        (2, "submit", "submitted"),
        (2, "review", "approved"),
        (2, "form_check", "approved"),
        (2, "approve", "approved"),
        (2, "sign", "signed"),
        (2, "issue", "issued"),
    ]
    assert view["history"][1]["comment"] == "Bổ sung căn cứ pháp lý"
    assert view["history"][1]["actor"] == me(gateway, head)


def test_a_version_added_after_signing_is_not_numbered(gateway: Gateway, clerk_token: str) -> None:
    drafter, leader = gateway.token("chuyenvien"), gateway.token("lanhdao")
    created = draft(gateway, drafter, make_pdf("Ban ky"))
    document_id = created.json()["id"]
    base = f"/v1/outgoing-documents/{document_id}"
    assert (
        post(gateway, drafter, f"{base}/submit", {"signer_id": me(gateway, leader)}).status_code
        == 200
    )
    assert post(gateway, leader, f"{base}/sign").status_code == 200

    # A file slipped in after the signature is not the one the leader signed.
    assert add_version(gateway, drafter, document_id, make_pdf("Ban khac")).status_code == 201
    refused = issue(gateway, clerk_token, document_id)
    assert refused.status_code == 400 and refused.json()["code"] == "DRAFT_CHANGED"

    # The clerk returns it; the drafter submits the new version, the leader signs that one.
    approval = gateway.http.get(f"{base}/approval", headers=auth(drafter)).json()
    returned = post(
        gateway, clerk_token, f"/v1/approvals/{approval['id']}/return", {"comment": "Sai bản"}
    )
    assert returned.status_code == 200, returned.text
    assert (
        post(gateway, drafter, f"{base}/submit", {"signer_id": me(gateway, leader)}).status_code
        == 200
    )
    assert post(gateway, leader, f"{base}/sign").status_code == 200
    assert issue(gateway, clerk_token, document_id).status_code == 200


def outsider(gateway: Gateway, role: str = "specialist") -> str:
    """A person of the other demo unit (PTH), signed in: their token."""
    admin = auth(gateway.token("quantri"))
    username = f"ngoai{uuid.uuid4().hex[:8]}"
    created = gateway.http.post(
        "/v1/people",
        headers=admin,
        json={
            "username": username,
            "full_name": "Người ngoài",
            "position_title": "Chuyên viên",
            "roles": [role],
            "unit_codes": ["PTH"],
            "clearance": "secret",
            "password": "mat-khau-ngoai-1",
            "password_must_change": False,
        },
    )
    assert created.status_code == 201, created.text
    return gateway.token(username, "mat-khau-ngoai-1")


def test_approvals_are_seen_only_by_those_who_may_open_the_draft(gateway: Gateway) -> None:
    drafter, leader = gateway.token("chuyenvien"), gateway.token("lanhdao")
    created = draft(gateway, drafter, make_pdf("Rieng"))
    base = f"/v1/outgoing-documents/{created.json()['id']}"
    submitted = post(gateway, drafter, f"{base}/submit", {"signer_id": me(gateway, leader)})
    assert submitted.status_code == 200, submitted.text
    approval_id = submitted.json()["id"]

    # A stranger: no session, no approval; an unknown id: not found.
    assert gateway.http.get(f"/v1/approvals/{approval_id}").status_code == 401
    assert post(gateway, "x", f"{base}/sign").status_code == 401
    unknown = gateway.http.get(f"/v1/approvals/{uuid.uuid4()}", headers=auth(leader))
    assert unknown.status_code == 404 and unknown.json()["code"] == "APPROVAL_NOT_FOUND"
    # Someone of another unit, signed in, may not open the draft: its approval does not exist
    # for them, by its id or its draft's, in their inbox or for a decision.
    other = outsider(gateway)
    for path in (f"/v1/approvals/{approval_id}", f"{base}/approval"):
        hidden = gateway.http.get(path, headers=auth(other))
        assert hidden.status_code == 404 and hidden.json()["code"] in (
            "APPROVAL_NOT_FOUND",
            "OUTGOING_NOT_FOUND",
        ), path
    inbox = gateway.http.get("/v1/approvals", headers=auth(other)).json()["approvals"]
    assert approval_id not in [a["id"] for a in inbox]
    returned = post(gateway, other, f"/v1/approvals/{approval_id}/return", {"comment": "Không"})
    assert returned.status_code == 404
    # The leader who signs it sees it in their inbox, the drafter in its draft.
    inbox = gateway.http.get("/v1/approvals", headers=auth(leader)).json()["approvals"]
    assert approval_id in [a["id"] for a in inbox]
    own = gateway.http.get(f"{base}/approval", headers=auth(drafter))
    assert own.status_code == 200 and own.json()["history"][0]["decision"] == "submitted"


def test_the_signer_is_a_leader_or_the_drafting_units_head_never_the_drafter(
    gateway: Gateway,
) -> None:
    head = gateway.token("truongphong")
    # The head of VP drafts for VP: they may not name themself, nor a head of another unit.
    created = draft(gateway, head, make_pdf("Cua truong phong"))
    assert created.status_code == 201, created.text
    base = f"/v1/outgoing-documents/{created.json()['id']}"
    for signer in (me(gateway, head), me(gateway, outsider(gateway, "unit_head"))):
        refused = post(gateway, head, f"{base}/submit", {"signer_id": signer})
        assert refused.status_code == 400 and refused.json()["code"] == "INVALID_SIGNER"
    # The specialist's draft may go to the unit's own head.
    specialist = draft(gateway, gateway.token("chuyenvien"), make_pdf("Cua chuyen vien"))
    to_head = post(
        gateway,
        gateway.token("chuyenvien"),
        f"/v1/outgoing-documents/{specialist.json()['id']}/submit",
        {"signer_id": me(gateway, head)},
    )
    assert to_head.status_code == 200 and to_head.json()["waiting_for"] == (
        f"person:{me(gateway, head)}"
    )


def test_a_deputy_signs_for_the_leader_under_a_sign_delegation_and_both_are_named(
    gateway: Gateway,
) -> None:
    drafter, leader, deputy = (
        gateway.token("chuyenvien"),
        gateway.token("lanhdao"),
        gateway.token("truongphong"),
    )
    leader_id, deputy_id = me(gateway, leader), me(gateway, deputy)
    created = draft(gateway, drafter, make_pdf("Ky thay"))
    base = f"/v1/outgoing-documents/{created.json()['id']}"
    assert post(gateway, drafter, f"{base}/submit", {"signer_id": leader_id}).status_code == 200
    body = {"on_behalf_of": leader_id}
    refused = post(gateway, deputy, f"{base}/sign", body)
    assert refused.status_code == 403 and refused.json()["code"] == "DELEGATION_REQUIRED"

    now = datetime.now(UTC)

    made: list[str] = []

    def delegate(scope: str) -> None:
        delegated = post(
            gateway,
            leader,
            "/v1/delegations",
            {
                "from_person_id": leader_id,
                "to_person_id": deputy_id,
                "scope": [scope],
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(days=1)).isoformat(),
                "reason": "Đi công tác",
            },
        )
        assert delegated.status_code == 201, delegated.text
        made.append(delegated.json()["id"])

    try:
        signed_for_the_leader(gateway, delegate, base, body, drafter, leader_id, deputy_id)
    finally:
        # A leader hands a scope to one person at a time: later tests delegate it elsewhere.
        for delegation in made:
            revoked = post(gateway, leader, f"/v1/delegations/{delegation}/revoke", {})
            assert revoked.status_code == 200, revoked.text


def signed_for_the_leader(
    gateway: Gateway,
    delegate: Callable[[str], None],
    base: str,
    body: dict[str, str],
    drafter: str,
    leader_id: str,
    deputy_id: str,
) -> None:
    # To approve for the leader is not to sign for them.
    delegate("approve")
    time.sleep(3)  # the gateway's delegation cache in these tests: 2 s
    approve_only = post(gateway, gateway.token("truongphong"), f"{base}/sign", body)
    assert approve_only.status_code == 403 and approve_only.json()["code"] == (
        "DELEGATION_REQUIRED"
    )
    delegate("sign")

    def signed() -> httpx.Response | None:
        answer = post(gateway, gateway.token("truongphong"), f"{base}/sign", body)
        return answer if answer.status_code == 200 else None

    assert eventually(signed).json()["approval"]["state"] == "approved"
    history = gateway.http.get(f"{base}/approval", headers=auth(drafter)).json()["history"]
    assert (history[-1]["decision"], history[-1]["actor"], history[-1]["on_behalf_of"]) == (
        "signed",
        deputy_id,
        leader_id,
    )
