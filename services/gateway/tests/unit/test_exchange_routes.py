"""The exchange routes (the inbox of packages from other agencies and the answer to a recall, an
outgoing document's deliveries and its recall, a package's signed edXML), on the real gateway
with the exchange service faked: every input is checked before the service is asked, refusals
are problem+json with the service's reason, and what the service is sent and answers is carried
unchanged."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf.timestamp_pb2 import Timestamp
from httpx import Response

from services.gateway.tests.unit.support import AGENCY, build_gateway
from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.gateway.api.auth import Principal, any_principal
from vanban.gateway.api.deps import require, role
from vanban.gateway.api.problem_types import PROBLEM_TYPES
from vanban.gateway.domain import api_keys
from vanban.platform.caller import Caller
from vanban.platform.errors import (
    DomainError,
    FailedPreconditionError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    invalid_fields,
)
from vanban.platform.grpc.status import DETAILS_KEY, to_rich_status
from vanban.platform.problem import http_status

ITEM = "0197a3c2-0000-7000-8000-0000000000e1"
PACKAGE = "0197a3c2-0000-7000-8000-0000000000e2"
DOCUMENT = "0197a3c2-0000-7000-8000-0000000000d0"
INCOMING = "0197a3c2-0000-7000-8000-0000000000d1"
XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">'
)
XML_TAIL = b"<Signature/></edXML>"
RECEIVED_AT = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
RECALLED_AT = datetime(2026, 11, 3, 8, 0, 0, tzinfo=UTC)
ANSWERED_AT = datetime(2026, 11, 3, 9, 30, 0, tzinfo=UTC)
RECALL_REASON = "Văn bản ban hành sai nơi nhận"


def stamp(when: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(when)
    return value


def inbox_item(**overrides: Any) -> pb.InboxItem:
    fields: dict[str, Any] = {
        "id": ITEM,
        "state": pb.INBOX_STATE_RECEIVED,
        "received_at": stamp(RECEIVED_AT),
        "sender": pb.Organ(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ"),
        "document_id": "000.00.00.G22,2026/11/02,05/QĐ-VPCP",
        "code_number": "05",
        "code_notation": "QĐ-VPCP",
        "issued_date": "2026-11-02",
        "document_type": "Quyết định",
        "subject": "Về việc trao đổi văn bản điện tử",
        "priority": docs.PRIORITY_URGENT,
        "signer": docs.Signer(position="Bộ trưởng", full_name="Nguyễn Văn An"),
        "business_doc_type": 0,
        "file": docs.FileRef(
            sha256="ab" * 32, size=1234, content_type="application/pdf", file_name="qd-05.pdf"
        ),
        "attachments": [
            docs.FileRef(
                sha256="cd" * 32, size=99, content_type="application/pdf", file_name="phu-luc.pdf"
            )
        ],
        "signer_certificate": "CN=Văn phòng Chính phủ",
        "signer_certificate_sha256": "ef" * 32,
        "package_id": PACKAGE,
    }
    fields.update(overrides)
    return pb.InboxItem(**fields)


def incoming_document() -> docs.IncomingDocument:
    return docs.IncomingDocument(
        id=INCOMING,
        status=docs.DOCUMENT_STATUS_REGISTERED,
        register_id="r1",
        arrival_number=17,
        arrival_year=2026,
        arrived_at=stamp(RECEIVED_AT),
        received_via=docs.RECEIVED_VIA_ELECTRONIC,
        issuer_code="000.00.00.G22",
        issuer_name="Văn phòng Chính phủ",
        code_number="05",
        code_notation="QĐ-VPCP",
        issued_date="2026-11-02",
        identifier="000.00.00.G22,2026/11/02,05/QĐ-VPCP",
        document_type="Quyết định",
        subject="Về việc trao đổi văn bản điện tử",
        priority=docs.PRIORITY_URGENT,
        secrecy=docs.SECRECY_NONE,
        file=docs.FileRef(sha256="ab" * 32, size=1234, content_type="application/pdf"),
        registered_by="clerk",
    )


def rpc_error(code: grpc.StatusCode, error: DomainError) -> grpc.aio.AioRpcError:
    """A refusal as grpc.aio raises it, with the rich status the exchange service attaches."""
    trailing = grpc.aio.Metadata((DETAILS_KEY, to_rich_status(error).SerializeToString()))
    return grpc.aio.AioRpcError(
        code,
        initial_metadata=grpc.aio.Metadata(),
        trailing_metadata=trailing,
        details=error.message,
    )


def deliveries() -> pb.ListDeliveriesResponse:
    """An outgoing document's deliveries: one acknowledged and registered, one failed."""
    return pb.ListDeliveriesResponse(
        deliveries=[
            pb.Delivery(
                recipient=pb.Organ(organ_id="000.00.00.H98", organ_name="UBND tỉnh Khác"),
                transport_state=pb.TRANSPORT_STATE_ACKNOWLEDGED,
                attempts=1,
                acknowledged_at=stamp(RECEIVED_AT),
                transport_reference="INBOX_000_00_00_H98#17",
                package_id=PACKAGE,
                statuses=[
                    pb.BusinessStatus(
                        code="01",
                        description="Đã đến",
                        at=stamp(RECEIVED_AT),
                        message_id="m1",
                        recorded_at=stamp(RECEIVED_AT),
                    ),
                    pb.BusinessStatus(
                        code="03",
                        description="Đã vào sổ: số đến 17",
                        at=stamp(RECEIVED_AT),
                        message_id="m2",
                        recorded_at=stamp(RECEIVED_AT),
                        staff="Trần Thị Bình",
                    ),
                ],
            ),
            pb.Delivery(
                recipient=pb.Organ(organ_id="000.00.00.H97"),
                transport_state=pb.TRANSPORT_STATE_FAILED,
                attempts=12,
                last_error="the axis refused the package",
                package_id=PACKAGE,
            ),
        ]
    )


class NoDelegations:
    """The directory, asked only for the delegations a caller holds."""

    async def ListDelegations(
        self, request: Any, **_: Any
    ) -> directory_pb2.ListDelegationsResponse:
        return directory_pb2.ListDelegationsResponse()


class XmlStream:
    """A server stream as grpc.aio gives it: `read()` for the first message, then iteration."""

    def __init__(
        self, messages: list[pb.GetPackageXmlResponse], refusal: Exception | None = None
    ) -> None:
        self._messages = messages
        self._refusal = refusal
        self.cancelled = False

    async def read(self) -> Any:
        if self._refusal is not None:
            raise self._refusal
        return self._messages.pop(0) if self._messages else grpc.aio.EOF

    def __aiter__(self) -> AsyncIterator[pb.GetPackageXmlResponse]:
        return self._rest()

    async def _rest(self) -> AsyncIterator[pb.GetPackageXmlResponse]:
        while self._messages:
            yield self._messages.pop(0)

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeExchange:
    calls: list[tuple[str, Any]] = field(default_factory=list)
    # The next call is refused with this, when set.
    refusal: grpc.aio.AioRpcError | None = None
    streams: list[XmlStream] = field(default_factory=list)

    def _called(self, name: str, request: Any) -> None:
        self.calls.append((name, request))
        if self.refusal is not None:
            raise self.refusal

    async def ListInbox(self, request: pb.ListInboxRequest, **_: Any) -> pb.ListInboxResponse:
        self._called("ListInbox", request)
        return pb.ListInboxResponse(
            items=[
                inbox_item(),
                inbox_item(
                    id=str(uuid.uuid4()),
                    state=pb.INBOX_STATE_REFUSED,
                    reason="INVALID_SIGNATURE: the signature does not verify",
                    file=None,
                    attachments=[],
                    issued_date="",
                ),
            ],
            next_page_token="next",
        )

    async def GetInboxItem(
        self, request: pb.GetInboxItemRequest, **_: Any
    ) -> pb.GetInboxItemResponse:
        self._called("GetInboxItem", request)
        return pb.GetInboxItemResponse(item=inbox_item(id=request.id))

    async def RegisterInboxItem(
        self, request: pb.RegisterInboxItemRequest, **_: Any
    ) -> pb.RegisterInboxItemResponse:
        self._called("RegisterInboxItem", request)
        return pb.RegisterInboxItemResponse(
            item=inbox_item(
                id=request.id,
                state=pb.INBOX_STATE_REGISTERED,
                incoming_document_id=INCOMING,
                handled_by="clerk",
                handled_at=stamp(RECEIVED_AT),
            ),
            document=incoming_document(),
        )

    async def RejectInboxItem(
        self, request: pb.RejectInboxItemRequest, **_: Any
    ) -> pb.RejectInboxItemResponse:
        self._called("RejectInboxItem", request)
        return pb.RejectInboxItemResponse(
            item=inbox_item(id=request.id, state=pb.INBOX_STATE_REJECTED, reason=request.reason)
        )

    async def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, **_: Any
    ) -> pb.ListDeliveriesResponse:
        self._called("ListDeliveries", request)
        return deliveries()

    async def RecallOutgoingDocument(
        self, request: pb.RecallOutgoingDocumentRequest, **_: Any
    ) -> pb.RecallOutgoingDocumentResponse:
        self._called("RecallOutgoingDocument", request)
        return pb.RecallOutgoingDocumentResponse(deliveries=deliveries())

    async def AnswerRecall(
        self, request: pb.AnswerRecallRequest, **_: Any
    ) -> pb.AnswerRecallResponse:
        self._called("AnswerRecall", request)
        return pb.AnswerRecallResponse(
            item=inbox_item(
                id=request.id,
                state=pb.INBOX_STATE_REGISTERED,
                incoming_document_id=INCOMING,
                recall=pb.Recall(
                    reason=RECALL_REASON,
                    requested_at=stamp(RECALLED_AT),
                    answer="agreed" if request.agree else "refused",
                    answer_reason=request.reason,
                    answered_by="clerk",
                    answered_at=stamp(ANSWERED_AT),
                ),
            )
        )

    def GetPackageXml(self, request: pb.GetPackageXmlRequest, **_: Any) -> XmlStream:
        self.calls.append(("GetPackageXml", request))
        data = XML + XML_TAIL
        stream = XmlStream(
            [
                pb.GetPackageXmlResponse(
                    info=pb.PackageXmlInfo(
                        size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(),
                        kind="document",
                        direction="received",
                    )
                ),
                pb.GetPackageXmlResponse(chunk=XML),
                pb.GetPackageXmlResponse(chunk=XML_TAIL),
            ],
            refusal=self.refusal,
        )
        self.streams.append(stream)
        return stream


@dataclass
class Gateway:
    client: TestClient
    exchange: FakeExchange
    app: Any

    def bearer(self, *roles: str) -> dict[str, str]:
        caller = Caller(agency_code=AGENCY, subject=str(uuid.uuid4()), roles=frozenset(roles))
        token = self.app.state.access_tokens.issue(caller, name="Người dùng")
        return {"Authorization": f"Bearer {token}"}

    def as_api_key(self, *scopes: str) -> dict[str, str]:
        """An agency system's key with these scopes (and the roles they map to) calls: the
        admission middleware establishes a caller from the token, the route gets the key."""
        caller = Caller(
            agency_code=AGENCY,
            subject="apikey:k1",
            roles=frozenset(r for s in scopes if (r := api_keys.SCOPES.get(s))),
        )
        key = Principal(caller=caller, metadata=(), scopes=frozenset(scopes))
        self.app.dependency_overrides[any_principal] = lambda: key
        return self.bearer()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    app = build_gateway(tmp_path)
    exchange = FakeExchange()
    upstreams = app.state.upstreams
    upstreams.directory = NoDelegations()
    upstreams.exchange = exchange
    with TestClient(app) as client:
        yield Gateway(client, exchange, app)


def body_for(path: str) -> dict[str, Any] | None:
    """A valid body for the route: a rejection and a recall need their reason, the answer to a
    recall its answer, the others take none."""
    if path.endswith("/reject"):
        return {"reason": "Văn bản gửi nhầm nơi nhận"}
    if path.startswith("/v1/outgoing-documents/") and path.endswith("/recall"):
        return {"reason": RECALL_REASON}
    if path.endswith("/recall"):
        return {"agree": True}
    return None


def problem_of(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


ROUTES = [
    ("get", "/v1/exchange/inbox"),
    ("get", f"/v1/exchange/inbox/{ITEM}"),
    ("post", f"/v1/exchange/inbox/{ITEM}/register"),
    ("post", f"/v1/exchange/inbox/{ITEM}/reject"),
    ("post", f"/v1/exchange/inbox/{ITEM}/recall"),
    ("get", f"/v1/outgoing-documents/{DOCUMENT}/deliveries"),
    ("post", f"/v1/outgoing-documents/{DOCUMENT}/recall"),
    ("get", f"/v1/exchange/packages/{PACKAGE}/edxml"),
]


# Strangers, keys and roles ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_stranger_reaches_no_exchange_route(gateway: Gateway, method: str, path: str) -> None:
    response = gateway.client.request(method, path, json=body_for(path))

    problem_of(response, 401, "TOKEN_MISSING")
    assert gateway.exchange.calls == []


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", "/v1/exchange/inbox", "exchange:read"),
        ("get", f"/v1/exchange/inbox/{ITEM}", "exchange:read"),
        ("post", f"/v1/exchange/inbox/{ITEM}/register", "exchange:handle"),
        ("post", f"/v1/exchange/inbox/{ITEM}/reject", "exchange:handle"),
        ("post", f"/v1/exchange/inbox/{ITEM}/recall", "exchange:handle"),
        ("post", f"/v1/outgoing-documents/{DOCUMENT}/recall", "outgoing:issue"),
        ("get", f"/v1/exchange/packages/{PACKAGE}/edxml", "exchange:read"),
    ],
)
def test_an_api_key_with_every_scope_a_key_may_hold_reaches_no_exchange_route(
    gateway: Gateway, method: str, path: str, scope: str
) -> None:
    headers = gateway.as_api_key(*api_keys.SCOPES)

    response = gateway.client.request(method, path, json=body_for(path), headers=headers)

    problem = problem_of(response, 403, "SCOPE_REQUIRED")
    assert scope in problem["detail"]
    assert gateway.exchange.calls == []


@pytest.mark.parametrize("scope", ["exchange:read", "exchange:handle", "outgoing:issue"])
def test_no_api_key_can_be_given_an_exchange_scope(scope: str) -> None:
    assert scope not in api_keys.SCOPES


def test_a_key_acting_as_a_clerk_is_still_refused_the_inbox() -> None:
    key = Principal(
        caller=Caller(agency_code=AGENCY, subject="apikey:k1", roles=frozenset({"clerk"})),
        metadata=(),
        scopes=frozenset(api_keys.SCOPES),
    )

    with pytest.raises(PermissionDeniedError) as refused:
        require(key, "exchange:handle", role("clerk"))

    assert refused.value.reason == "SCOPE_REQUIRED"


def test_an_api_key_without_outgoing_read_does_not_see_deliveries(gateway: Gateway) -> None:
    headers = gateway.as_api_key("incoming:read")

    response = gateway.client.get(f"/v1/outgoing-documents/{DOCUMENT}/deliveries", headers=headers)

    problem = problem_of(response, 403, "SCOPE_REQUIRED")
    assert "outgoing:read" in problem["detail"]
    assert gateway.exchange.calls == []


def test_an_api_key_with_outgoing_read_sees_deliveries(gateway: Gateway) -> None:
    # Exchange asks documents whether the key may open the document (issued ones only).
    headers = gateway.as_api_key("outgoing:read")

    response = gateway.client.get(f"/v1/outgoing-documents/{DOCUMENT}/deliveries", headers=headers)

    assert response.status_code == 200, response.text
    assert [name for name, _ in gateway.exchange.calls] == ["ListDeliveries"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/exchange/inbox"),
        ("get", f"/v1/exchange/inbox/{ITEM}"),
        ("post", f"/v1/exchange/inbox/{ITEM}/register"),
        ("post", f"/v1/exchange/inbox/{ITEM}/reject"),
        ("post", f"/v1/exchange/inbox/{ITEM}/recall"),
    ],
)
@pytest.mark.parametrize("roles", [("specialist",), ("agency_leader",), ("admin",)])
def test_the_inbox_is_the_clerks_alone(
    gateway: Gateway, method: str, path: str, roles: tuple[str, ...]
) -> None:
    response = gateway.client.request(
        method, path, json=body_for(path), headers=gateway.bearer(*roles)
    )

    problem_of(response, 403, "ROLE_REQUIRED")
    assert gateway.exchange.calls == []


@pytest.mark.parametrize(
    "roles",
    [("specialist",), ("unit_head",), ("agency_leader",), ("archivist",), ("admin",)],
)
def test_only_the_clerk_recalls_an_outgoing_document(
    gateway: Gateway, roles: tuple[str, ...]
) -> None:
    path = f"/v1/outgoing-documents/{DOCUMENT}/recall"

    response = gateway.client.post(path, json=body_for(path), headers=gateway.bearer(*roles))

    problem_of(response, 403, "ROLE_REQUIRED")
    assert gateway.exchange.calls == []


def test_an_api_key_acting_as_a_clerk_cannot_recall() -> None:
    # `incoming:register` makes a key a clerk; `outgoing:issue` is no key's.
    key = Principal(
        caller=Caller(agency_code=AGENCY, subject="apikey:k1", roles=frozenset({"clerk"})),
        metadata=(),
        scopes=frozenset(api_keys.SCOPES),
    )

    with pytest.raises(PermissionDeniedError) as refused:
        require(key, "outgoing:issue", role("clerk"))

    assert refused.value.reason == "SCOPE_REQUIRED"


@pytest.mark.parametrize("roles", [("agency_leader",), ("specialist",)])
def test_anyone_signed_in_may_ask_for_a_package_the_service_decides(
    gateway: Gateway, roles: tuple[str, ...]
) -> None:
    response = gateway.client.get(
        f"/v1/exchange/packages/{PACKAGE}/edxml", headers=gateway.bearer(*roles)
    )

    assert response.status_code == 200, response.text
    assert [name for name, _ in gateway.exchange.calls] == ["GetPackageXml"]


# Ids in paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("get", "/v1/exchange/inbox/i1", "path.item_id"),
        ("post", "/v1/exchange/inbox/i1/register", "path.item_id"),
        ("post", "/v1/exchange/inbox/not-a-uuid/reject", "path.item_id"),
        ("post", "/v1/exchange/inbox/i1/recall", "path.item_id"),
        ("get", "/v1/outgoing-documents/d1/deliveries", "path.document_id"),
        ("post", "/v1/outgoing-documents/d1/recall", "path.document_id"),
        ("get", "/v1/exchange/packages/p1/edxml", "path.package_id"),
    ],
)
def test_an_id_that_is_not_a_uuid_is_refused_before_the_service_is_asked(
    gateway: Gateway, method: str, path: str, field: str
) -> None:
    response = gateway.client.request(
        method, path, json=body_for(path), headers=gateway.bearer("clerk")
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.exchange.calls == []


# The inbox ---------------------------------------------------------------------------------------


def test_the_clerk_lists_the_inbox_as_the_api_writes_it(gateway: Gateway) -> None:
    response = gateway.client.get(
        "/v1/exchange/inbox",
        params={"state": "received", "page_size": 20, "page_token": "t1"},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_page_token"] == "next"
    first, refused = body["items"]
    assert first == {
        "id": ITEM,
        "state": "received",
        "received_at": "2026-11-02T03:04:05Z",
        "sender": {"organ_id": "000.00.00.G22", "organ_name": "Văn phòng Chính phủ"},
        "document_id": "000.00.00.G22,2026/11/02,05/QĐ-VPCP",
        "code_number": "05",
        "code_notation": "QĐ-VPCP",
        "issued_date": "2026-11-02",
        "document_type": "Quyết định",
        "subject": "Về việc trao đổi văn bản điện tử",
        "priority": "urgent",
        "signer": {"competence": None, "position": "Bộ trưởng", "full_name": "Nguyễn Văn An"},
        "business_doc_type": "new",
        "file": {
            "sha256": "ab" * 32,
            "size": 1234,
            "content_type": "application/pdf",
            "file_name": "qd-05.pdf",
        },
        "attachments": [
            {
                "sha256": "cd" * 32,
                "size": 99,
                "content_type": "application/pdf",
                "file_name": "phu-luc.pdf",
            }
        ],
        "signer_certificate": "CN=Văn phòng Chính phủ",
        "signer_certificate_sha256": "ef" * 32,
        "incoming_document_id": None,
        "reason": None,
        "duplicate_of": None,
        "package_id": PACKAGE,
        "handled_by": None,
        "handled_at": None,
        "due_date": None,
        "page_amount": None,
        "recall": None,
    }
    assert refused["state"] == "refused"
    assert refused["reason"].startswith("INVALID_SIGNATURE")
    assert (refused["file"], refused["attachments"], refused["issued_date"]) == (None, [], None)
    [(name, sent)] = gateway.exchange.calls
    assert name == "ListInbox"
    assert (sent.state, sent.page_size, sent.page_token) == (pb.INBOX_STATE_RECEIVED, 20, "t1")


def test_without_a_state_the_whole_inbox_is_asked_for(gateway: Gateway) -> None:
    response = gateway.client.get("/v1/exchange/inbox", headers=gateway.bearer("clerk"))

    assert response.status_code == 200, response.text
    [(_, sent)] = gateway.exchange.calls
    assert (sent.state, sent.page_size, sent.page_token) == (pb.INBOX_STATE_UNSPECIFIED, 0, "")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "pending"}, "query.state"),
        ({"state": "RECEIVED"}, "query.state"),
        ({"page_size": 101}, "query.page_size"),
        ({"page_size": -1}, "query.page_size"),
        ({"page_token": "x" * 501}, "query.page_token"),
    ],
)
def test_an_inbox_query_that_is_not_valid_is_refused_before_the_service_is_asked(
    gateway: Gateway, params: dict[str, Any], field: str
) -> None:
    response = gateway.client.get(
        "/v1/exchange/inbox", params=params, headers=gateway.bearer("clerk")
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.exchange.calls == []


def test_one_inbox_item(gateway: Gateway) -> None:
    response = gateway.client.get(f"/v1/exchange/inbox/{ITEM}", headers=gateway.bearer("clerk"))

    assert response.status_code == 200, response.text
    assert response.json()["id"] == ITEM
    assert gateway.exchange.calls[0][1].id == ITEM


# Registering and rejecting -----------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, {}], ids=["no body", "an empty object"])
def test_the_clerk_registers_a_package_as_it_says_and_gets_the_incoming_document(
    gateway: Gateway, body: dict[str, Any] | None
) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/register", json=body, headers=gateway.bearer("clerk")
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["item"]["state"] == "registered"
    assert answer["item"]["incoming_document_id"] == INCOMING
    assert answer["item"]["handled_at"] == "2026-11-02T03:04:05Z"
    # The incoming document as `/v1/incoming-documents/{id}` renders it.
    document = answer["document"]
    assert (document["id"], document["arrival_number"], document["status"]) == (
        INCOMING,
        17,
        "registered",
    )
    assert document["secrecy"] == "none"
    assert document["identifier"] == "000.00.00.G22,2026/11/02,05/QĐ-VPCP"
    [(name, sent)] = gateway.exchange.calls
    assert name == "RegisterInboxItem"
    assert (sent.id, sent.document_type, sent.secrecy) == (ITEM, "", docs.SECRECY_UNSPECIFIED)


def test_the_clerk_sets_the_document_type_and_the_secrecy(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/register",
        json={"document_type": "  Công văn ", "secrecy": "confidential"},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text
    [(_, sent)] = gateway.exchange.calls
    assert (sent.document_type, sent.secrecy) == ("Công văn", docs.SECRECY_CONFIDENTIAL)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"document_type": "x" * 101}, "document_type"),
        ({"document_type": "Công\x00văn"}, "document_type"),
        ({"secrecy": "very_secret"}, "secrecy"),
        ({"secrecy": 2}, "secrecy"),
        ({"arrival_number": 5}, "arrival_number"),
    ],
)
def test_a_register_body_that_is_not_valid_is_refused_before_the_service_is_asked(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/register", json=body, headers=gateway.bearer("clerk")
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.exchange.calls == []


def test_the_clerk_rejects_a_package_with_the_reason(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/reject",
        json={"reason": " Văn bản gửi nhầm nơi nhận "},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text
    item = response.json()["item"]
    assert (item["state"], item["reason"]) == ("rejected", "Văn bản gửi nhầm nơi nhận")
    [(name, sent)] = gateway.exchange.calls
    assert (name, sent.id, sent.reason) == ("RejectInboxItem", ITEM, "Văn bản gửi nhầm nơi nhận")


def test_a_reason_of_500_characters_is_taken(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/reject",
        json={"reason": "x" * 500},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (None, ""),
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "Gửi\nnhầm"}, "reason"),
        ({"reason": 42}, "reason"),
        ({"reason": "Gửi nhầm", "notify": True}, "notify"),
    ],
    ids=[
        "no body",
        "no reason",
        "empty",
        "blank",
        "over 500",
        "a control character",
        "a number",
        "an unknown field",
    ],
)
def test_a_rejection_that_is_not_valid_is_refused_before_the_service_is_asked(
    gateway: Gateway, body: Any, field: str
) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/reject", json=body, headers=gateway.bearer("clerk")
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.exchange.calls == []


# Recalls -----------------------------------------------------------------------------------------


def test_the_clerk_recalls_an_outgoing_document_and_gets_its_deliveries(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/recall",
        json={"reason": f"  {RECALL_REASON} "},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text
    [(name, sent)] = gateway.exchange.calls
    assert (name, sent.outgoing_document_id, sent.reason) == (
        "RecallOutgoingDocument",
        DOCUMENT,
        RECALL_REASON,
    )
    # The same body as `GET /v1/outgoing-documents/{id}/deliveries` answers.
    listed = gateway.client.get(
        f"/v1/outgoing-documents/{DOCUMENT}/deliveries", headers=gateway.bearer("clerk")
    )
    assert response.json() == listed.json()
    assert set(response.json()) == {"deliveries", "note"}
    assert [d["recipient"]["organ_id"] for d in response.json()["deliveries"]] == [
        "000.00.00.H98",
        "000.00.00.H97",
    ]


def test_a_recall_reason_of_500_characters_is_taken(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/recall",
        json={"reason": "x" * 500},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (None, ""),
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "Sai\tnơi nhận"}, "reason"),
        ({"reason": 42}, "reason"),
        ({"reason": "Sai nơi nhận", "recipients": ["000.00.00.H98"]}, "recipients"),
    ],
    ids=[
        "no body",
        "no reason",
        "empty",
        "blank",
        "null",
        "over 500",
        "a control character",
        "a number",
        "an unknown field",
    ],
)
def test_a_recall_that_is_not_valid_is_refused_before_the_service_is_asked(
    gateway: Gateway, body: Any, field: str
) -> None:
    response = gateway.client.post(
        f"/v1/outgoing-documents/{DOCUMENT}/recall", json=body, headers=gateway.bearer("clerk")
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.exchange.calls == []


def test_the_clerk_agrees_to_a_recall(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/recall",
        json={"agree": True},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"item"}
    item = response.json()["item"]
    assert (item["id"], item["incoming_document_id"]) == (ITEM, INCOMING)
    assert item["recall"] == {
        "reason": RECALL_REASON,
        "requested_at": "2026-11-03T08:00:00Z",
        "answer": "agreed",
        "answer_reason": None,
        "answered_by": "clerk",
        "answered_at": "2026-11-03T09:30:00Z",
    }
    [(name, sent)] = gateway.exchange.calls
    assert (name, sent.id, sent.agree, sent.reason) == ("AnswerRecall", ITEM, True, "")


def test_the_clerk_refuses_a_recall_with_the_reason(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/recall",
        json={"agree": False, "reason": " Văn bản đã được triển khai thực hiện "},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text
    recall = response.json()["item"]["recall"]
    assert (recall["answer"], recall["answer_reason"]) == (
        "refused",
        "Văn bản đã được triển khai thực hiện",
    )
    [(_, sent)] = gateway.exchange.calls
    assert (sent.agree, sent.reason) == (False, "Văn bản đã được triển khai thực hiện")


@pytest.mark.parametrize(
    "body",
    [{"agree": True, "reason": "Đồng ý thu hồi"}, {"agree": True, "reason": None}],
    ids=["with a reason", "a null reason"],
)
def test_agreeing_may_say_why_or_not(gateway: Gateway, body: dict[str, Any]) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/recall", json=body, headers=gateway.bearer("clerk")
    )

    assert response.status_code == 200, response.text
    [(_, sent)] = gateway.exchange.calls
    assert (sent.agree, sent.reason) == (True, body["reason"] or "")


def test_a_refusal_reason_of_500_characters_is_taken(gateway: Gateway) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/recall",
        json={"agree": False, "reason": "x" * 500},
        headers=gateway.bearer("clerk"),
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (None, ""),
        ({}, "agree"),
        ({"reason": "Đã triển khai"}, "agree"),
        ({"agree": None}, "agree"),
        ({"agree": "false", "reason": "Đã triển khai"}, "agree"),
        ({"agree": 0, "reason": "Đã triển khai"}, "agree"),
        ({"agree": False}, "reason"),
        ({"agree": False, "reason": None}, "reason"),
        ({"agree": False, "reason": ""}, "reason"),
        ({"agree": False, "reason": "   "}, "reason"),
        ({"agree": False, "reason": "x" * 501}, "reason"),
        ({"agree": True, "reason": "x" * 501}, "reason"),
        ({"agree": False, "reason": "Đã\ntriển khai"}, "reason"),
        ({"agree": False, "reason": 42}, "reason"),
        ({"agree": True, "withdraw": True}, "withdraw"),
    ],
    ids=[
        "no body",
        "no answer",
        "a reason without an answer",
        "a null answer",
        "a string for the answer",
        "a number for the answer",
        "refused without a reason",
        "refused with a null reason",
        "refused with an empty reason",
        "refused with a blank reason",
        "refused, over 500",
        "agreed, over 500",
        "a control character",
        "a number for the reason",
        "an unknown field",
    ],
)
def test_an_answer_to_a_recall_that_is_not_valid_is_refused_before_the_service_is_asked(
    gateway: Gateway, body: Any, field: str
) -> None:
    response = gateway.client.post(
        f"/v1/exchange/inbox/{ITEM}/recall", json=body, headers=gateway.bearer("clerk")
    )

    problem = problem_of(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert gateway.exchange.calls == []


def test_an_inbox_item_shows_a_recall_waiting_for_its_answer(gateway: Gateway) -> None:
    class Recalled(FakeExchange):
        async def GetInboxItem(self, request: Any, **_: Any) -> pb.GetInboxItemResponse:
            return pb.GetInboxItemResponse(
                item=inbox_item(
                    state=pb.INBOX_STATE_REGISTERED,
                    incoming_document_id=INCOMING,
                    recall=pb.Recall(reason=RECALL_REASON, requested_at=stamp(RECALLED_AT)),
                )
            )

    gateway.app.state.upstreams.exchange = Recalled()

    response = gateway.client.get(f"/v1/exchange/inbox/{ITEM}", headers=gateway.bearer("clerk"))

    assert response.status_code == 200, response.text
    assert response.json()["recall"] == {
        "reason": RECALL_REASON,
        "requested_at": "2026-11-03T08:00:00Z",
        "answer": None,
        "answer_reason": None,
        "answered_by": None,
        "answered_at": None,
    }


# The service's refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "grpc_code", "error"),
    [
        (
            "get",
            f"/v1/exchange/inbox/{ITEM}",
            grpc.StatusCode.NOT_FOUND,
            NotFoundError("no such inbox item", reason="INBOX_ITEM_NOT_FOUND"),
        ),
        (
            "post",
            f"/v1/exchange/inbox/{ITEM}/register",
            grpc.StatusCode.FAILED_PRECONDITION,
            FailedPreconditionError(
                "the package is rejected; only a received one is registered",
                reason="INBOX_ITEM_NOT_RECEIVED",
            ),
        ),
        (
            "post",
            f"/v1/exchange/inbox/{ITEM}/reject",
            grpc.StatusCode.INVALID_ARGUMENT,
            invalid_fields({"reason": "1 to 500 printable characters"}, reason="INVALID_REJECTION"),
        ),
        (
            "post",
            f"/v1/exchange/inbox/{ITEM}/reject",
            grpc.StatusCode.FAILED_PRECONDITION,
            FailedPreconditionError("too large", reason="PACKAGE_TOO_LARGE"),
        ),
        (
            "get",
            "/v1/exchange/inbox",
            grpc.StatusCode.PERMISSION_DENIED,
            PermissionDeniedError("needs the role clerk", reason="ROLE_REQUIRED"),
        ),
        (
            "get",
            f"/v1/outgoing-documents/{DOCUMENT}/deliveries",
            grpc.StatusCode.NOT_FOUND,
            NotFoundError("no outgoing document with this id", reason="OUTGOING_NOT_FOUND"),
        ),
        (
            "get",
            f"/v1/exchange/packages/{PACKAGE}/edxml",
            grpc.StatusCode.NOT_FOUND,
            NotFoundError("no such package", reason="PACKAGE_NOT_FOUND"),
        ),
        (
            "get",
            f"/v1/exchange/packages/{PACKAGE}/edxml",
            grpc.StatusCode.PERMISSION_DENIED,
            PermissionDeniedError("needs a role", reason="ROLE_REQUIRED"),
        ),
        (
            "post",
            f"/v1/outgoing-documents/{DOCUMENT}/recall",
            grpc.StatusCode.NOT_FOUND,
            NotFoundError("no outgoing document with this id", reason="OUTGOING_NOT_FOUND"),
        ),
        (
            "post",
            f"/v1/outgoing-documents/{DOCUMENT}/recall",
            grpc.StatusCode.FAILED_PRECONDITION,
            FailedPreconditionError(
                "the document was not sent over the axis: nothing to recall", reason="NOT_SENT"
            ),
        ),
        (
            "post",
            f"/v1/outgoing-documents/{DOCUMENT}/recall",
            grpc.StatusCode.INVALID_ARGUMENT,
            invalid_fields({"reason": "1 to 500 printable characters"}, reason="INVALID_RECALL"),
        ),
        (
            "post",
            f"/v1/outgoing-documents/{DOCUMENT}/recall",
            grpc.StatusCode.PERMISSION_DENIED,
            PermissionDeniedError("needs the role clerk", reason="ROLE_REQUIRED"),
        ),
        (
            "post",
            f"/v1/exchange/inbox/{ITEM}/recall",
            grpc.StatusCode.NOT_FOUND,
            NotFoundError("no such inbox item", reason="INBOX_ITEM_NOT_FOUND"),
        ),
        (
            "post",
            f"/v1/exchange/inbox/{ITEM}/recall",
            grpc.StatusCode.FAILED_PRECONDITION,
            FailedPreconditionError(
                "no recall waits for an answer on this item", reason="RECALL_NOT_ASKED"
            ),
        ),
        (
            "post",
            f"/v1/exchange/inbox/{ITEM}/recall",
            grpc.StatusCode.INVALID_ARGUMENT,
            invalid_fields(
                {"reason": "required when refusing, at most 500 characters"},
                reason="INVALID_RECALL",
            ),
        ),
        (
            "post",
            f"/v1/exchange/inbox/{ITEM}/recall",
            grpc.StatusCode.PERMISSION_DENIED,
            PermissionDeniedError("needs the role clerk", reason="ROLE_REQUIRED"),
        ),
    ],
)
def test_the_services_refusal_is_a_problem_with_its_reason_and_its_page(
    gateway: Gateway, method: str, path: str, grpc_code: grpc.StatusCode, error: DomainError
) -> None:
    gateway.exchange.refusal = rpc_error(grpc_code, error)

    response = gateway.client.request(
        method, path, json=body_for(path), headers=gateway.bearer("clerk")
    )

    problem = problem_of(response, http_status(error.code), error.reason)
    assert problem["type"] == f"/problems/{error.reason}"
    assert PROBLEM_TYPES[error.reason].status == problem["status"]
    assert problem["detail"] == error.message
    if error.violations:
        assert [e["field"] for e in problem["errors"]] == ["reason"]
    for stream in gateway.exchange.streams:
        assert stream.cancelled


@pytest.mark.parametrize(
    "path", [f"/v1/outgoing-documents/{DOCUMENT}/recall", f"/v1/exchange/inbox/{ITEM}/recall"]
)
def test_a_token_away_is_a_503_with_its_reason(gateway: Gateway, path: str) -> None:
    # The status 13 (or 15, 16) is signed with the agency's key before anything is sent.
    error = UnavailableError("the token does not answer", reason="TOKEN_UNAVAILABLE")
    gateway.exchange.refusal = rpc_error(grpc.StatusCode.UNAVAILABLE, error)

    response = gateway.client.post(path, json=body_for(path), headers=gateway.bearer("clerk"))

    problem = problem_of(response, 503, "TOKEN_UNAVAILABLE")
    assert problem["type"] == "/problems/TOKEN_UNAVAILABLE"
    assert PROBLEM_TYPES["TOKEN_UNAVAILABLE"].status == 503
    # What failed upstream is logged, not shown.
    assert "the token does not answer" not in response.text


def test_an_unavailable_exchange_service_is_a_503(gateway: Gateway) -> None:
    gateway.exchange.refusal = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "away"
    )

    response = gateway.client.get("/v1/exchange/inbox", headers=gateway.bearer("clerk"))

    # A channel that cannot reach the service: no reason of the service's own.
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "unavailable" in response.json()["detail"]
    assert "away" not in response.text


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("INBOX_ITEM_NOT_FOUND", 404),
        ("INBOX_ITEM_NOT_RECEIVED", 400),
        ("INVALID_REJECTION", 400),
        ("PACKAGE_NOT_FOUND", 404),
        ("PACKAGE_TOO_LARGE", 400),
        ("ROLE_REQUIRED", 403),
        ("OUTGOING_NOT_FOUND", 404),
        ("NOT_SENT", 400),
        ("RECALL_NOT_ASKED", 400),
        ("INVALID_RECALL", 400),
        ("TOKEN_UNAVAILABLE", 503),
    ],
)
def test_every_reason_of_the_exchange_service_has_its_page_with_its_status(
    gateway: Gateway, code: str, status: int
) -> None:
    assert PROBLEM_TYPES[code].status == status
    page = gateway.client.get(f"/problems/{code}")
    assert page.status_code == 200 and code in page.text


# Deliveries --------------------------------------------------------------------------------------


def test_the_deliveries_of_an_outgoing_document_per_recipient(gateway: Gateway) -> None:
    response = gateway.client.get(
        f"/v1/outgoing-documents/{DOCUMENT}/deliveries", headers=gateway.bearer("specialist")
    )

    assert response.status_code == 200, response.text
    acknowledged, failed = response.json()["deliveries"]
    assert acknowledged == {
        "recipient": {"organ_id": "000.00.00.H98", "organ_name": "UBND tỉnh Khác"},
        "transport_state": "acknowledged",
        "attempts": 1,
        "last_error": None,
        "acknowledged_at": "2026-11-02T03:04:05Z",
        "transport_reference": "INBOX_000_00_00_H98#17",
        "package_id": PACKAGE,
        "statuses": [
            {
                "code": "01",
                "description": "Đã đến",
                "at": "2026-11-02T03:04:05Z",
                "staff": "",
                "message_id": "m1",
                "recorded_at": "2026-11-02T03:04:05Z",
            },
            {
                "code": "03",
                "description": "Đã vào sổ: số đến 17",
                "at": "2026-11-02T03:04:05Z",
                "staff": "Trần Thị Bình",
                "message_id": "m2",
                "recorded_at": "2026-11-02T03:04:05Z",
            },
        ],
    }
    assert failed["transport_state"] == "failed"
    assert failed["last_error"] == "the axis refused the package"
    assert (failed["acknowledged_at"], failed["transport_reference"]) == (None, None)
    assert response.json()["note"] is None
    [(name, sent)] = gateway.exchange.calls
    assert (name, sent.outgoing_document_id) == ("ListDeliveries", DOCUMENT)


def test_nothing_sent_yet_says_why(gateway: Gateway) -> None:
    class Waiting(FakeExchange):
        async def ListDeliveries(self, request: Any, **_: Any) -> pb.ListDeliveriesResponse:
            return pb.ListDeliveriesResponse(note="waiting for the agency signature")

    gateway.app.state.upstreams.exchange = Waiting()

    response = gateway.client.get(
        f"/v1/outgoing-documents/{DOCUMENT}/deliveries", headers=gateway.bearer("clerk")
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"deliveries": [], "note": "waiting for the agency signature"}


# The signed edXML --------------------------------------------------------------------------------


def test_the_signed_package_is_streamed_with_its_length_and_digest(gateway: Gateway) -> None:
    response = gateway.client.get(
        f"/v1/exchange/packages/{PACKAGE}/edxml", headers=gateway.bearer("clerk")
    )

    assert response.status_code == 200, response.text
    data = XML + XML_TAIL
    assert response.content == data
    assert response.headers["content-type"] == "application/xml"
    assert response.headers["content-length"] == str(len(data))
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert response.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert response.headers["content-disposition"] == (
        f"attachment; filename*=UTF-8''document-{PACKAGE}.edxml"
    )
    [stream] = gateway.exchange.streams
    assert stream.cancelled  # the upstream stream is closed once the body is sent
    assert gateway.exchange.calls[0][1].id == PACKAGE


def test_a_package_stream_without_its_info_is_an_upstream_error(gateway: Gateway) -> None:
    class NoInfo(FakeExchange):
        def GetPackageXml(self, request: Any, **_: Any) -> XmlStream:
            stream = XmlStream([pb.GetPackageXmlResponse(chunk=XML)])
            self.streams.append(stream)
            return stream

    exchange = NoInfo()
    gateway.app.state.upstreams.exchange = exchange

    response = gateway.client.get(
        f"/v1/exchange/packages/{PACKAGE}/edxml", headers=gateway.bearer("clerk")
    )

    problem_of(response, 502, "UPSTREAM_ERROR")
    assert exchange.streams[0].cancelled
