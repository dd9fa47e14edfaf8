"""Exchange between agencies (issue 11, ADR 0012), as the README's path: H99 drafts, signs and
issues a document for H98; it leaves once over the local axis, H98's clerk finds it in the
exchange inbox and registers it, and H99 sees the statuses 01 then 03 come back. The bytes that
arrive are the bytes that left, and both signatures are trusted at the receiver."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from tests.e2e.conftest import A, B
from tests.e2e.support import Gateway, eventually
from tests.e2e.test_outgoing import approve_for_issue, draft, issue
from tests.e2e.test_signing import auth, letter
from vanban.launcher.platform import Platform

EDXML = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
DS = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture(scope="module")
def sender(two: Platform) -> Gateway:
    return Gateway(two.agencies[0].gateway_url)


@pytest.fixture(scope="module")
def receiver(two: Platform) -> Gateway:
    return Gateway(two.agencies[1].gateway_url)


def send_document(sender: Gateway, subject: str) -> dict[str, Any]:
    """The README's path on H99's side: drafted for H98, signed by the leader, issued."""
    specialist, clerk = sender.token("chuyenvien"), sender.token("vanthu")
    created = draft(
        sender,
        specialist,
        letter(subject),
        subject=subject,
        recipients=[{"organ_id": B, "organ_name": "Ủy ban nhân dân tỉnh Thử nghiệm"}],
    )
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    approve_for_issue(sender, specialist, document_id)
    issued = issue(sender, clerk, document_id)
    assert issued.status_code == 200, issued.text
    document: dict[str, Any] = issued.json()
    return document


def inbox_items(receiver: Gateway, token: str, identifier: str) -> list[dict[str, Any]]:
    listed = receiver.http.get("/v1/exchange/inbox", headers=auth(token))
    assert listed.status_code == 200, listed.text
    return [item for item in listed.json()["items"] if item["document_id"] == identifier]


def inbox_item(receiver: Gateway, token: str, identifier: str) -> dict[str, Any] | None:
    found = inbox_items(receiver, token, identifier)
    assert len(found) <= 1, found
    return found[0] if found else None


def deliveries(sender: Gateway, token: str, document_id: str) -> dict[str, Any]:
    answer = sender.http.get(
        f"/v1/outgoing-documents/{document_id}/deliveries", headers=auth(token)
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_an_issued_document_reaches_the_other_agency_once_with_its_statuses(
    sender: Gateway, receiver: Gateway
) -> None:
    document = send_document(sender, "Ve viec trao doi van ban dien tu")
    sender_clerk, receiver_clerk = sender.token("vanthu"), receiver.token("vanthu")

    # It leaves only once the agency signature is on it; within seconds H98 has it.
    item = eventually(
        lambda: inbox_item(receiver, receiver_clerk, document["identifier"]), timeout=60
    )
    assert item["state"] == "received"
    assert item["sender"]["organ_id"] == A
    assert (item["code_number"], item["code_notation"]) == (
        document["code_number"],
        document["code_notation"],
    )
    assert item["subject"] == "Ve viec trao doi van ban dien tu"
    assert f"organizationIdentifier={A}" in item["signer_certificate"]

    def arrived() -> dict[str, Any] | None:
        found = deliveries(sender, sender_clerk, document["id"])["deliveries"]
        assert len(found) <= 1, found
        if found and [s["code"] for s in found[0]["statuses"]] == ["01"]:
            return found[0]
        return None

    delivery = eventually(arrived, timeout=60)
    assert delivery["recipient"]["organ_id"] == B
    assert delivery["transport_state"] == "acknowledged"
    assert delivery["transport_reference"]

    registered = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/register", headers=auth(receiver_clerk), json={}
    )
    assert registered.status_code == 200, registered.text
    incoming = registered.json()["document"]
    assert incoming["arrival_number"] >= 1
    assert incoming["identifier"] == document["identifier"]
    assert registered.json()["item"]["state"] == "registered"
    # Registering again answers the same incoming document, never a second one.
    again = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/register", headers=auth(receiver_clerk), json={}
    )
    assert again.status_code == 200, again.text
    assert again.json()["document"]["id"] == incoming["id"]

    # The bytes that arrived are the bytes that left.
    left = sender.http.get(
        f"/v1/outgoing-documents/{document['id']}/signed-file", headers=auth(sender_clerk)
    )
    arrived_file = receiver.http.get(
        f"/v1/incoming-documents/{incoming['id']}/file", headers=auth(receiver_clerk)
    )
    assert left.status_code == 200 and arrived_file.status_code == 200
    assert arrived_file.content == left.content

    # Both signatures (the leader's and the agency's) are valid and trusted at H98.
    checked = receiver.http.post(
        "/v1/signatures/validate",
        headers=auth(receiver_clerk),
        files={"file": ("van-ban.pdf", arrived_file.content, "application/pdf")},
    )
    assert checked.status_code == 200, checked.text
    signatures = checked.json()["signatures"]
    assert len(signatures) == 2
    assert all(s["intact"] and s["valid"] and s["trusted"] for s in signatures), signatures

    # H99 sees 01 then 03 for H98.
    def registered_status() -> list[str] | None:
        found = deliveries(sender, sender_clerk, document["id"])["deliveries"][0]
        codes = [s["code"] for s in found["statuses"]]
        return codes if codes == ["01", "03"] else None

    assert eventually(registered_status, timeout=60) == ["01", "03"]
    # Once: one delivery, one inbox item, one incoming document of that số/ký hiệu from H99.
    assert len(deliveries(sender, sender_clerk, document["id"])["deliveries"]) == 1
    assert len(inbox_items(receiver, receiver_clerk, document["identifier"])) == 1
    listed = receiver.http.get(
        "/v1/incoming-documents", params={"page_size": 100}, headers=auth(receiver_clerk)
    )
    assert listed.status_code == 200, listed.text
    same = [
        d["id"]
        for d in listed.json()["items"]
        if (d["issuer_code"], d["code_number"], d["code_notation"])
        == (A, document["code_number"], document["code_notation"])
    ]
    assert same == [incoming["id"]]

    # The signed package is kept and readable: an edXML envelope with an XMLDSig signature.
    package = receiver.http.get(
        f"/v1/exchange/packages/{item['package_id']}/edxml", headers=auth(receiver_clerk)
    )
    assert package.status_code == 200, package.text
    assert package.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(package.content)
    assert root.tag == f"{{{EDXML}}}edXML"
    assert root.find(f"{{{DS}}}Signature") is not None
    assert root.find(f".//{{{EDXML}}}DocumentId") is not None


def test_a_rejected_package_sends_02_with_the_reason(sender: Gateway, receiver: Gateway) -> None:
    document = send_document(sender, "Van ban gui nham noi nhan")
    sender_clerk, receiver_clerk = sender.token("vanthu"), receiver.token("vanthu")
    item = eventually(
        lambda: inbox_item(receiver, receiver_clerk, document["identifier"]), timeout=60
    )
    # Only the clerk works the inbox.
    specialist = receiver.token("chuyenvien")
    refused = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/reject",
        headers=auth(specialist),
        json={"reason": "Không thuộc thẩm quyền"},
    )
    assert refused.status_code == 403, refused.text
    rejected = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/reject",
        headers=auth(receiver_clerk),
        json={"reason": "Văn bản gửi nhầm nơi nhận"},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["item"]["state"] == "rejected"
    # A rejected package is not registered afterwards.
    late = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/register", headers=auth(receiver_clerk), json={}
    )
    assert late.status_code == 400 and late.json()["code"] == "INBOX_ITEM_NOT_RECEIVED"

    def rejected_status() -> dict[str, Any] | None:
        found = deliveries(sender, sender_clerk, document["id"])["deliveries"][0]["statuses"]
        last = found[-1] if found else None
        return last if last and last["code"] == "02" else None

    status = eventually(rejected_status, timeout=60)
    assert status["description"] == "Văn bản gửi nhầm nơi nhận"
