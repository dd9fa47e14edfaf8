"""The exchange with other agencies (liên thông văn bản, ADR 0012): the agency's inbox of
packages that arrived over the axis, which the clerk registers or rejects; what became of an
outgoing document with each recipient, and its recall (thu hồi), which the sender's clerk asks
and each recipient's clerk answers; and the signed edXML of any package or status message.
Handlers only translate: the exchange service decides (and asks documents who may open what)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query
from fastapi.responses import StreamingResponse

from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.exchange import (
    INBOX_STATE,
    answer_recall_request,
    deliveries_out,
    inbox_item_out,
    register_request,
)
from vanban.gateway.api.convert.incoming_documents import incoming_out
from vanban.gateway.api.deps import Exchange, Settings, allowed, role
from vanban.gateway.api.document_files import relay_download
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.exchange import (
    AnswerRecallIn,
    DeliveriesOut,
    InboxItemAnswerOut,
    InboxItemOut,
    InboxOut,
    InboxStateName,
    RecallOutgoingIn,
    RegisteredInboxItemOut,
    RegisterInboxItemIn,
    RejectInboxItemIn,
)

router = APIRouter(tags=["exchange"])

# The inbox is the clerk's (văn thư); no API key holds the scopes. The service checks the role
# too.
InboxReader = Annotated[Principal, allowed("exchange:read", role("clerk"))]
InboxHandler = Annotated[Principal, allowed("exchange:handle", role("clerk"))]
# The signed bytes of what was exchanged: the exchange service decides who (the clerks, the
# agency's leaders, the archivists).
PackageReader = Annotated[Principal, allowed("exchange:read")]
# The deliveries are part of reading the outgoing document: documents decides who may open it.
DeliveryReader = Annotated[Principal, allowed("outgoing:read")]
# Recalling an issued document is the clerk's (văn thư), as issuing it is; documents decides
# whether they may open it.
Recaller = Annotated[Principal, allowed("outgoing:issue", role("clerk"))]

# What handling an arrived package can be refused with: the item itself, and signing the
# status that goes back.
_HANDLING = (
    "ROLE_REQUIRED",
    "INBOX_ITEM_NOT_FOUND",
    "INBOX_ITEM_NOT_RECEIVED",
    "TOKEN_UNAVAILABLE",
)
_REGISTER_EXAMPLES: dict[str, Any] = {
    "as the package says": {"value": {}},
    "with the agency's own document type": {"value": {"document_type": "Công văn"}},
}
_REJECT_EXAMPLES: dict[str, Any] = {
    "sent to the wrong agency": {"value": {"reason": "Văn bản gửi nhầm nơi nhận"}}
}
_RECALL_EXAMPLES: dict[str, Any] = {
    "a wrong recipient": {"value": {"reason": "Văn bản ban hành sai nơi nhận"}}
}
_ANSWER_RECALL_EXAMPLES: dict[str, Any] = {
    "agreed": {"value": {"agree": True}},
    "refused": {
        "value": {"agree": False, "reason": "Văn bản đã được triển khai thực hiện"},
    },
}


@router.get(
    "/v1/exchange/inbox",
    response_model=InboxOut,
    operation_id="listExchangeInbox",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "ROLE_REQUIRED", "INVALID_PAGE_TOKEN"),
)
async def list_inbox(
    principal: InboxReader,
    exchange: Exchange,
    state: Annotated[InboxStateName | None, Query(description="Every state if absent")] = None,
    page_size: Annotated[int, Query(ge=0, le=100, description="0: the service's default")] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> InboxOut:
    """The packages that arrived from other agencies, newest first (the clerk's)."""
    answer = await exchange.stub.ListInbox(
        pb.ListInboxRequest(
            state=INBOX_STATE[state] if state else pb.INBOX_STATE_UNSPECIFIED,
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=principal.metadata,
        timeout=exchange.timeout,
    )
    return InboxOut(
        items=[inbox_item_out(i) for i in answer.items],
        next_page_token=answer.next_page_token or None,
    )


@router.get(
    "/v1/exchange/inbox/{item_id}",
    response_model=InboxItemOut,
    operation_id="getExchangeInboxItem",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "ROLE_REQUIRED", "INBOX_ITEM_NOT_FOUND"),
)
async def get_inbox_item(principal: InboxReader, item_id: UUID, exchange: Exchange) -> InboxItemOut:
    answer = await exchange.stub.GetInboxItem(
        pb.GetInboxItemRequest(id=str(item_id)),
        metadata=principal.metadata,
        timeout=exchange.timeout,
    )
    return inbox_item_out(answer.item)


@router.post(
    "/v1/exchange/inbox/{item_id}/register",
    response_model=RegisteredInboxItemOut,
    operation_id="registerExchangeInboxItem",
    responses=answers(
        *SCOPED,
        *BODY,
        *PARAMETERS,
        *UPSTREAM,
        *_HANDLING,
        "CLEARANCE_TOO_LOW",
        "INVALID_INCOMING_DOCUMENT",
        "NO_REGISTER",
        "AMBIGUOUS_REGISTER",
    ),
)
async def register_inbox_item(
    principal: InboxHandler,
    item_id: UUID,
    exchange: Exchange,
    body: Annotated[RegisterInboxItemIn | None, Body(openapi_examples=_REGISTER_EXAMPLES)] = None,
) -> RegisteredInboxItemOut:
    """The clerk registers a package that arrived: it becomes an incoming document (văn bản
    đến) with its arrival number, and status 03 goes back to the sender. Registering it again
    answers the same document."""
    answer = await exchange.stub.RegisterInboxItem(
        register_request(str(item_id), body or RegisterInboxItemIn()),
        metadata=principal.metadata,
        timeout=exchange.timeout,
    )
    return RegisteredInboxItemOut(
        item=inbox_item_out(answer.item), document=incoming_out(answer.document)
    )


@router.post(
    "/v1/exchange/inbox/{item_id}/reject",
    response_model=InboxItemAnswerOut,
    operation_id="rejectExchangeInboxItem",
    responses=answers(*SCOPED, *BODY, *PARAMETERS, *UPSTREAM, *_HANDLING, "INVALID_REJECTION"),
)
async def reject_inbox_item(
    principal: InboxHandler,
    item_id: UUID,
    exchange: Exchange,
    body: Annotated[RejectInboxItemIn, Body(openapi_examples=_REJECT_EXAMPLES)],
) -> InboxItemAnswerOut:
    """The clerk refuses a package that arrived, with the reason sent back in status 02."""
    answer = await exchange.stub.RejectInboxItem(
        pb.RejectInboxItemRequest(id=str(item_id), reason=body.reason),
        metadata=principal.metadata,
        timeout=exchange.timeout,
    )
    return InboxItemAnswerOut(item=inbox_item_out(answer.item))


@router.post(
    "/v1/exchange/inbox/{item_id}/recall",
    response_model=InboxItemAnswerOut,
    operation_id="answerExchangeRecall",
    responses=answers(
        *SCOPED,
        *BODY,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "INBOX_ITEM_NOT_FOUND",
        "RECALL_NOT_ASKED",
        "INVALID_RECALL",
        "TOKEN_UNAVAILABLE",
    ),
)
async def answer_recall(
    principal: InboxHandler,
    item_id: UUID,
    exchange: Exchange,
    body: Annotated[AnswerRecallIn, Body(openapi_examples=_ANSWER_RECALL_EXAMPLES)],
) -> InboxItemAnswerOut:
    """The clerk answers the recall its sender asked for: agreed, the incoming document is
    withdrawn (kept, marked recalled) and status 15 goes back; refused, with the reason sent
    back in status 16."""
    answer = await exchange.stub.AnswerRecall(
        answer_recall_request(str(item_id), body),
        metadata=principal.metadata,
        timeout=exchange.timeout,
    )
    return InboxItemAnswerOut(item=inbox_item_out(answer.item))


@router.get(
    "/v1/outgoing-documents/{document_id}/deliveries",
    response_model=DeliveriesOut,
    operation_id="listOutgoingDocumentDeliveries",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "OUTGOING_NOT_FOUND"),
)
async def list_deliveries(
    principal: DeliveryReader, document_id: UUID, exchange: Exchange
) -> DeliveriesOut:
    """Per recipient outside the agency: where the transport stands and every business status
    the recipient sent back (01 received, 02 refused, 03 registered, …)."""
    answer = await exchange.stub.ListDeliveries(
        pb.ListDeliveriesRequest(outgoing_document_id=str(document_id)),
        metadata=principal.metadata,
        timeout=exchange.timeout,
    )
    return deliveries_out(answer)


@router.post(
    "/v1/outgoing-documents/{document_id}/recall",
    response_model=DeliveriesOut,
    operation_id="recallOutgoingDocument",
    responses=answers(
        *SCOPED,
        *BODY,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "OUTGOING_NOT_FOUND",
        "NOT_SENT",
        "INVALID_RECALL",
        "TOKEN_UNAVAILABLE",
    ),
)
async def recall_outgoing(
    principal: Recaller,
    document_id: UUID,
    exchange: Exchange,
    body: Annotated[RecallOutgoingIn, Body(openapi_examples=_RECALL_EXAMPLES)],
) -> DeliveriesOut:
    """The clerk asks every recipient outside the agency to take an issued document back
    (thu hồi): status 13 with the reason goes to each. Each answers 15 (agreed) or 16
    (refused), seen in the deliveries, which this answers."""
    answer = await exchange.stub.RecallOutgoingDocument(
        pb.RecallOutgoingDocumentRequest(outgoing_document_id=str(document_id), reason=body.reason),
        metadata=principal.metadata,
        timeout=exchange.timeout,
    )
    return deliveries_out(answer.deliveries)


@router.get(
    "/v1/exchange/packages/{package_id}/edxml",
    operation_id="getExchangePackageEdxml",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The signed edXML (Content-Length, and Repr-Digest with its SHA-256)",
            "content": {"application/xml": {}},
        },
        **answers(
            *SCOPED,
            *PARAMETERS,
            *UPSTREAM,
            "ROLE_REQUIRED",
            "PACKAGE_NOT_FOUND",
            "PACKAGE_TOO_LARGE",
            "FIXITY_MISMATCH",
            "OBJECT_MISSING",
            "OBJECT_STORE_UNAVAILABLE",
        ),
    },
)
async def get_package_xml(
    principal: PackageReader, package_id: UUID, exchange: Exchange, settings: Settings
) -> StreamingResponse:
    """The exact signed bytes of a package or status message, sent or received: the evidence
    of what was exchanged (its XMLDSig signature verifies on its own)."""
    stream = exchange.stub.GetPackageXml(
        pb.GetPackageXmlRequest(id=str(package_id)),
        metadata=principal.metadata,
        timeout=settings.download_timeout_seconds,
    )
    return await relay_download(
        stream,
        missing=HttpProblem(502, "UPSTREAM_ERROR", "the exchange service answered no package info"),
        describe=lambda info: ("application/xml", f"{info.kind or 'package'}-{package_id}.edxml"),
    )
