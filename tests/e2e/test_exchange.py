"""Exchange between agencies (issue 11, ADR 0012), as the README's path: H99 drafts, signs and
issues a document for H98; it leaves once over the local axis, H98's clerk finds it in the
exchange inbox and registers it, and H99 sees the statuses 01 then 03 come back. The bytes that
arrive are the bytes that left, and both signatures are trusted at the receiver."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import signxml
from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from tests.e2e.conftest import A, B
from tests.e2e.otlp import OtlpReceiver, ReceivedSpan
from tests.e2e.support import Gateway, eventually, query
from tests.e2e.test_outgoing import approve_for_issue, draft, issue
from tests.e2e.test_signing import auth, letter
from vanban.contracts.signing.v1 import signing_pb2, signing_pb2_grpc
from vanban.exchange.adapters.axis import NatsAxis
from vanban.exchange.domain import edxml
from vanban.launcher.platform import AgencyProcesses, Platform
from vanban.platform.caller import CALLER_METADATA_KEY, Caller, CallerTokenIssuer
from vanban.platform.testing import self_signed

EDXML = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
# OpenTelemetry span kinds as OTLP numbers them.
SERVER, PRODUCER, CONSUMER = 2, 4, 5
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


# Packages another agency could put on the axis: each is refused or recorded as what it is.

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol3;</edXML>"""


def publish(two: Platform, data: bytes) -> None:
    """`data` put in H98's inbox by H99's own account on the axis, as a new message."""

    async def send() -> None:
        transport = NatsAxis(two.axis.agency_url(A), A)
        await transport.start()
        try:
            await transport.send(B, data, message_id=str(uuid.uuid4()))
        finally:
            await transport.close()

    asyncio.run(send())


def sign_as(agency: AgencyProcesses, xml: bytes) -> bytes:
    """`xml` signed with `agency`'s organisation key, as its exchange service has it signed."""
    issuer = CallerTokenIssuer.from_keys_dir(agency.keys_dir)
    token = issuer.issue(
        Caller(agency_code=agency.spec.code, subject="service:exchange", is_service=True)
    )
    with grpc.insecure_channel(agency.address("signing")) as channel:
        answer = signing_pb2_grpc.SigningServiceStub(channel).SignXml(
            signing_pb2.SignXmlRequest(xml=xml),
            metadata=((CALLER_METADATA_KEY, token),),
            timeout=30,
        )
    return bytes(answer.signed_xml)


def unsigned(signed: bytes) -> etree._Element:
    root = etree.fromstring(signed)
    root.remove(root.find(f"{{{DS}}}Signature"))
    return root


def signed_by_a_stranger(xml: bytes) -> bytes:
    """Signed with a key and certificate no agency's trust roots know (an unknown CA)."""
    key, certificate = self_signed(
        x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, A),
                x509.NameAttribute(NameOID.COMMON_NAME, "Cơ quan giả mạo"),
            ]
        ),
        ca=True,
    )
    signer = signxml.XMLSigner(
        c14n_algorithm=signxml.CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
    )
    signed = signer.sign(etree.fromstring(xml), key=key, cert=[certificate])
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def test_hostile_or_repeated_packages_are_refused_or_recorded_as_such(
    two: Platform, sender: Gateway, receiver: Gateway
) -> None:
    document = send_document(sender, "Van ban goc de thu goi gia mao")
    sender_clerk, receiver_clerk = sender.token("vanthu"), receiver.token("vanthu")
    original = eventually(
        lambda: inbox_item(receiver, receiver_clerk, document["identifier"]), timeout=60
    )
    genuine = receiver.http.get(
        f"/v1/exchange/packages/{original['package_id']}/edxml", headers=auth(receiver_clerk)
    ).content

    def statuses_at_sender() -> list[str]:
        found = deliveries(sender, sender_clerk, document["id"])["deliveries"][0]["statuses"]
        return [s["code"] for s in found]

    assert eventually(lambda: statuses_at_sender() == ["01"] or None, timeout=60)

    def newest(state: str) -> list[dict[str, Any]]:
        listed = receiver.http.get(
            "/v1/exchange/inbox", params={"state": state}, headers=auth(receiver_clerk)
        )
        assert listed.status_code == 200, listed.text
        items: list[dict[str, Any]] = listed.json()["items"]
        return items

    def arrives(state: str, seen: set[str]) -> dict[str, Any]:
        def new() -> dict[str, Any] | None:
            fresh = [i for i in newest(state) if i["id"] not in seen]
            return fresh[0] if fresh else None

        found: dict[str, Any] = eventually(new, timeout=60)
        seen.add(found["id"])
        return found

    refused_seen = {i["id"] for i in newest("refused")}
    # A broken signature: one letter of the trích yếu changed after signing.
    broken = genuine.replace(b"Van ban goc", b"Van ban gia", 1)
    assert broken != genuine
    publish(two, broken)
    item = arrives("refused", refused_seen)
    assert "INVALID_SIGNATURE" in item["reason"], item
    # A signature by a CA nobody trusts, claiming to be H99.
    publish(two, signed_by_a_stranger(etree.tostring(unsigned(genuine))))
    item = arrives("refused", refused_seen)
    assert "UNTRUSTED_CERTIFICATE" in item["reason"], item
    # An XML bomb: refused before any entity is expanded.
    publish(two, BOMB)
    item = arrives("refused", refused_seen)
    assert "DOCTYPE" in item["reason"], item
    # None of them names a sender it could prove, and none is kept; their claimed sender is not
    # answered about a DocumentId already taken from it (the genuine package was).
    for refused in (i for i in newest("refused") if i["id"] in refused_seen):
        assert refused["sender"]["organ_id"] in ("", None), refused
        package = receiver.http.get(
            f"/v1/exchange/packages/{refused['package_id']}/edxml", headers=auth(receiver_clerk)
        )
        assert package.status_code == 404, package.text

    # A broken signature on a DocumentId not taken yet: its claimed sender hears 02 with the
    # reason (QCVN 102), once.
    fresh = document["identifier"] + "B"
    forged = genuine.replace(document["identifier"].encode(), fresh.encode())
    publish(two, forged)
    item = arrives("refused", refused_seen)
    assert "INVALID_SIGNATURE" in item["reason"], item
    publish(two, forged.replace(b"Van ban goc", b"Van ban gia", 1))
    arrives("refused", refused_seen)

    def told_at_sender() -> list[Any] | None:
        rows = query(
            two,
            "exchange",
            "SELECT s.description FROM statuses s JOIN packages p ON p.id = s.package_id"
            " WHERE s.direction = 'received' AND s.code = '02' AND p.document_id = :id",
            id=fresh,
        )
        return rows or None

    told = eventually(told_at_sender, timeout=60)
    assert len(told) == 1 and "INVALID_SIGNATURE" in told[0].description, told
    # The second refusal of that claim was recorded without an answer (H98 sent one 02 only).
    replies = query(
        two,
        "exchange",
        "SELECT id FROM packages WHERE direction = 'sent' AND kind = 'status'"
        " AND document_id = :id",
        agency_index=1,
        id=fresh,
    )
    assert len(replies) == 1, replies

    duplicates_seen = {i["id"] for i in newest("duplicate")}
    # The same signed bytes again (a replay, by anyone on the axis): a duplicate, answered to
    # nobody.
    publish(two, genuine)
    replay = arrives("duplicate", duplicates_seen)
    assert replay["duplicate_of"] == original["id"]
    # The sender signs the same DocumentId again as another package: a duplicate, and 02.
    again = unsigned(genuine)
    trace = again.find(f".//{{{EDXML}}}TraceHeader/{{{EDXML}}}Timestamp")
    trace.text = "2026/01/02 03:04:05"
    publish(two, sign_as(two.agencies[0], etree.tostring(again)))
    second = arrives("duplicate", duplicates_seen)
    assert second["duplicate_of"] == original["id"]
    assert eventually(lambda: statuses_at_sender() == ["01", "02"] or None, timeout=60)
    # Never a second incoming document, and the original still waits for the clerk.
    assert [
        i["id"]
        for i in inbox_items(receiver, receiver_clerk, document["identifier"])
        if i["state"] == "received"
    ] == [original["id"]]


def test_the_handling_at_the_receiver_goes_back_as_04_05_06(
    sender: Gateway, receiver: Gateway
) -> None:
    document = send_document(sender, "Van ban can xu ly va bao cao")
    sender_clerk, receiver_clerk = sender.token("vanthu"), receiver.token("vanthu")
    item = eventually(
        lambda: inbox_item(receiver, receiver_clerk, document["identifier"]), timeout=60
    )
    registered = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/register", headers=auth(receiver_clerk), json={}
    )
    assert registered.status_code == 200, registered.text
    incoming_id = registered.json()["document"]["id"]

    def codes() -> list[str]:
        found = deliveries(sender, sender_clerk, document["id"])["deliveries"][0]["statuses"]
        return [s["code"] for s in found]

    def reaches(expected: list[str]) -> None:
        assert eventually(lambda: codes() == expected or None, timeout=60), codes()

    reaches(["01", "03"])
    # H98's leader assigns it to the office: 04.
    leader, head = receiver.token("lanhdao"), receiver.token("truongphong")
    specialist = receiver.token("chuyenvien")
    assigned = receiver.http.post(
        f"/v1/incoming-documents/{incoming_id}/assignment",
        headers=auth(leader),
        json={"lead_unit": "VP", "opinion": "Văn phòng chủ trì.", "deadline_working_days": 5},
    )
    assert assigned.status_code in (200, 201), assigned.text
    reaches(["01", "03", "04"])
    # The office's head forwards it to a specialist: handling is under way, 05.
    tasks = receiver.http.get(
        "/v1/tasks", params={"mine": "true", "state": "assigned"}, headers=auth(head)
    ).json()["tasks"]
    lead = next(t for t in tasks if t["document_id"] == incoming_id)
    specialist_id = receiver.http.get("/v1/me", headers=auth(specialist)).json()["id"]
    forwarded = receiver.http.post(
        f"/v1/tasks/{lead['id']}/forward",
        headers=auth(head),
        json={"to": [{"person_id": specialist_id}], "note": "Đồng chí xử lý."},
    )
    assert forwarded.status_code in (200, 201), forwarded.text
    reaches(["01", "03", "04", "05"])
    # The specialist's task is done, then the office's lead task: completed, 06 (once), when
    # the lead task is, not when the specialist's is.
    mine = forwarded.json()["tasks"][0]["id"]
    done = receiver.http.post(
        f"/v1/tasks/{mine}/complete", headers=auth(specialist), json={"result": "Đã xử lý."}
    )
    assert done.status_code == 200, done.text
    time.sleep(1.1)  # statuses carry their time to the second
    between = datetime.now(UTC).replace(microsecond=0)
    done = receiver.http.post(
        f"/v1/tasks/{lead['id']}/complete", headers=auth(head), json={"result": "Đã xử lý."}
    )
    assert done.status_code == 200, done.text
    reaches(["01", "03", "04", "05", "06"])
    completed = deliveries(sender, sender_clerk, document["id"])["deliveries"][0]["statuses"][-1]
    assert datetime.fromisoformat(completed["at"]) >= between, completed


def test_a_recall_the_receiver_agrees_to_withdraws_the_incoming_document(
    two: Platform, sender: Gateway, receiver: Gateway
) -> None:
    document = send_document(sender, "Van ban se thu hoi")
    sender_clerk, receiver_clerk = sender.token("vanthu"), receiver.token("vanthu")
    item = eventually(
        lambda: inbox_item(receiver, receiver_clerk, document["identifier"]), timeout=60
    )
    # Nothing to answer before the sender asks.
    early = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/recall",
        headers=auth(receiver_clerk),
        json={"agree": True},
    )
    assert early.status_code == 400 and early.json()["code"] == "RECALL_NOT_ASKED", early.text
    registered = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/register", headers=auth(receiver_clerk), json={}
    )
    assert registered.status_code == 200, registered.text
    incoming_id = registered.json()["document"]["id"]

    # A 13 about H99's document that H99 did not send (signed by H98 itself) recalls nothing.
    genuine = receiver.http.get(
        f"/v1/exchange/packages/{item['package_id']}/edxml", headers=auth(receiver_clerk)
    ).content
    issued = edxml.parse(genuine, limits=edxml.Limits())
    assert isinstance(issued, edxml.DocumentPackage)
    forged = edxml.build_status(
        edxml.StatusMessage(
            from_=edxml.Organ(organ_id=B, organ_name="Ủy ban nhân dân tỉnh Thử nghiệm"),
            response_for=edxml.ResponseFor(
                organ_id=A,
                document_id=issued.document_id,
                code=f"{issued.code.code_number}/{issued.code.code_notation}",
            ),
            status_code="13",
            description="Thu hồi giả",
            timestamp=datetime.now(UTC),
        )
    )
    publish(two, sign_as(two.agencies[1], forged))

    def forged_recorded() -> list[Any] | None:
        rows = query(
            two,
            "exchange",
            "SELECT id FROM statuses WHERE direction = 'received' AND code = '13'"
            " AND description = 'Thu hồi giả'",
            agency_index=1,
        )
        return rows or None

    eventually(forged_recorded, timeout=60)
    untouched = inbox_item(receiver, receiver_clerk, document["identifier"])
    assert untouched is not None and untouched["recall"] is None

    # H99's clerk asks for it back (13, with the reason).
    asked = sender.http.post(
        f"/v1/outgoing-documents/{document['id']}/recall",
        headers=auth(sender_clerk),
        json={"reason": "Văn bản ban hành sai thẩm quyền"},
    )
    assert asked.status_code == 200, asked.text

    def recall_asked() -> dict[str, Any] | None:
        found = inbox_item(receiver, receiver_clerk, document["identifier"])
        return found if found and found["recall"] else None

    asked_item = eventually(recall_asked, timeout=60)
    assert asked_item["recall"]["reason"] == "Văn bản ban hành sai thẩm quyền"
    assert asked_item["recall"]["answer"] is None
    # H98's clerk agrees (15): the incoming document is withdrawn, kept and marked.
    agreed = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/recall",
        headers=auth(receiver_clerk),
        json={"agree": True},
    )
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["item"]["recall"]["answer"] == "agreed"
    withdrawn = receiver.http.get(
        f"/v1/incoming-documents/{incoming_id}", headers=auth(receiver_clerk)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "recalled"
    # Answered once.
    again = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/recall",
        headers=auth(receiver_clerk),
        json={"agree": False, "reason": "Đổi ý"},
    )
    assert again.status_code == 400 and again.json()["code"] == "RECALL_NOT_ASKED", again.text

    def answered() -> list[str] | None:
        found = deliveries(sender, sender_clerk, document["id"])["deliveries"][0]["statuses"]
        codes = [s["code"] for s in found]
        return codes if codes[-1:] == ["15"] else None

    assert eventually(answered, timeout=60) == ["01", "03", "15"]


def test_one_documents_trace_is_followed_from_the_sender_into_the_receiver(
    sender: Gateway, receiver: Gateway, otlp: OtlpReceiver
) -> None:
    """ADR 0012 §10: H99's transmission carries its span's traceparent over the axis; H98 takes
    the package under it, so an SRE finds H98's receiving (its verification, the archive, the
    01 back) by H99's trace id; the clerk's registration at H98, a trace of its own, links to
    it."""
    document = send_document(sender, "Ve viec theo doi van ban qua hai co quan")
    sender_clerk, receiver_clerk = sender.token("vanthu"), receiver.token("vanthu")
    item = eventually(
        lambda: inbox_item(receiver, receiver_clerk, document["identifier"]), timeout=60
    )
    delivery = eventually(
        lambda: next(iter(deliveries(sender, sender_clerk, document["id"])["deliveries"]), None),
        timeout=60,
    )
    assert delivery and delivery["transport_state"] == "acknowledged", delivery

    def sent(span: ReceivedSpan) -> bool:
        """H99's attempt the axis acknowledged (one before it may have failed)."""
        return (
            span.name == "exchange.transmit"
            and span.attributes.get("vanban.exchange.package_id") == delivery["package_id"]
            and span.attributes.get("vanban.exchange.reference") == delivery["transport_reference"]
        )

    def trace_of(found: list[ReceivedSpan]) -> list[ReceivedSpan]:
        return otlp.spans(found[0].trace_id) if found else []

    def received(spans: list[ReceivedSpan], transmit: ReceivedSpan) -> list[ReceivedSpan]:
        return [
            s
            for s in spans
            if s.name == "exchange.receive" and s.parent_span_id == transmit.span_id
        ]

    def whole(spans: list[ReceivedSpan]) -> list[ReceivedSpan] | None:
        """The trace, once every span's parent has arrived and H98's 01 has left in it."""
        ids = {s.span_id for s in spans}
        answered = any(
            s.name == "exchange.transmit" and s.attributes.get("vanban.exchange.recipient") == A
            for s in spans
        )
        parents = all(not s.parent_span_id or s.parent_span_id in ids for s in spans)
        return spans if answered and parents else None

    spans = eventually(lambda: whole(trace_of(otlp.find(sent))), timeout=30)
    assert spans, "H98's receiving is not in H99's trace: " + repr(
        [(s.service, s.name) for s in trace_of(otlp.find(sent)) if s.kind in (PRODUCER, CONSUMER)]
    )
    by_id = {s.span_id: s for s in spans}
    [transmit] = [s for s in spans if sent(s)]
    assert (transmit.service, transmit.kind) == ("vanban-exchange", PRODUCER)
    assert transmit.attributes["vanban.exchange.recipient"] == B

    def ancestors(span: ReceivedSpan) -> list[ReceivedSpan]:
        found = []
        while span.parent_span_id:
            span = by_id[span.parent_span_id]
            found.append(span)
        return found

    # H98's receiving is a consumer span right under H99's attempt (once, or again after a
    # failure): one trace id...
    receiving = {s.span_id for s in received(spans, transmit)}
    assert receiving, [(s.service, s.name, s.parent_span_id) for s in spans]
    assert {(by_id[i].service, by_id[i].kind) for i in receiving} == {("vanban-exchange", CONSUMER)}
    # ...and what H98's exchange called while taking it is in that trace, under it.
    for service, method in (("vanban-signing", "/VerifyXml"), ("vanban-archive", "/PutObject")):
        assert any(
            s.service == service
            and s.kind == SERVER
            and s.name.endswith(method)
            and any(a.span_id in receiving for a in ancestors(s))
            for s in spans
        ), (service, method)
    # H99's side of the send is the same trace: the clerk's request that issued the document
    # at H99's gateway, through the agency signature's event, to the package and its attempt.
    chain = ancestors(transmit)
    assert [(s.service, s.kind) for s in chain[-1:]] == [("vanban-gateway", SERVER)], [
        (s.service, s.name) for s in chain
    ]
    assert any(s.service == "vanban-exchange" and s.kind == CONSUMER for s in chain), [
        (s.service, s.name) for s in chain
    ]

    # The clerk registers it at H98: a request of its own, whose registration links to the
    # receiving; documents registers the incoming document in that request's trace.
    registered = receiver.http.post(
        f"/v1/exchange/inbox/{item['id']}/register", headers=auth(receiver_clerk), json={}
    )
    assert registered.status_code == 200, registered.text

    def registration() -> list[ReceivedSpan]:
        linked = otlp.find(
            lambda s: (
                s.name == "exchange.register"
                and any((transmit.trace_id, i) in s.links for i in receiving)
            )
        )
        found = trace_of(linked)
        return found if any(s.name.endswith("/RegisterIncomingDocument") for s in found) else []

    clerks = eventually(registration, timeout=30)
    assert clerks, "no registration linked to the receiving"
    [register] = [s for s in clerks if s.name == "exchange.register"]
    assert register.service == "vanban-exchange"
    documents = [
        s
        for s in clerks
        if s.service == "vanban-documents"
        and s.kind == SERVER
        and s.name.endswith("/RegisterIncomingDocument")
    ]
    assert documents, [(s.service, s.name) for s in clerks]
