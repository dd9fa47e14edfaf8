"""The exchange inbox, an outgoing document's deliveries and the recalls between the REST API
and the exchange contract."""

from __future__ import annotations

from typing import get_args

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.gateway.api.convert.common import enum_names, enum_values
from vanban.gateway.api.convert.documents import (
    PRIORITY_NAME,
    SECRECY,
    file_out,
    optional_date,
    signer_out,
)
from vanban.gateway.api.schemas.exchange import (
    AnswerRecallIn,
    BusinessStatusOut,
    DeliveriesOut,
    DeliveryOut,
    InboxItemOut,
    OrganOut,
    RecallAnswerName,
    RecallOut,
    RegisterInboxItemIn,
)
from vanban.platform.convert import optional_datetime

INBOX_STATE_NAME = enum_names(pb.InboxState)
INBOX_STATE = enum_values(pb.InboxState)
TRANSPORT_STATE_NAME = enum_names(pb.TransportState)
# edXML BussinessDocType, as the contract numbers it.
BUSINESS_DOC_TYPE_NAME = {0: "new", 1: "recall", 2: "update", 3: "replace"}
# The answers to a recall the contract spells out ("" while unanswered).
RECALL_ANSWERS: dict[str, RecallAnswerName] = {a: a for a in get_args(RecallAnswerName)}


def organ_out(organ: pb.Organ) -> OrganOut:
    return OrganOut(organ_id=organ.organ_id, organ_name=organ.organ_name)


def recall_out(recall: pb.Recall) -> RecallOut:
    return RecallOut(
        reason=recall.reason,
        requested_at=optional_datetime(recall, "requested_at"),
        # An answer the contract does not spell out is the service's fault: not a null that
        # would read as unanswered.
        answer=RECALL_ANSWERS[recall.answer] if recall.answer else None,
        answer_reason=recall.answer_reason or None,
        answered_by=recall.answered_by or None,
        answered_at=optional_datetime(recall, "answered_at"),
    )


def inbox_item_out(item: pb.InboxItem) -> InboxItemOut:
    return InboxItemOut(
        id=item.id,
        state=INBOX_STATE_NAME[item.state],
        received_at=optional_datetime(item, "received_at"),
        sender=organ_out(item.sender),
        document_id=item.document_id,
        code_number=item.code_number,
        code_notation=item.code_notation,
        issued_date=optional_date(item.issued_date),
        document_type=item.document_type,
        subject=item.subject,
        priority=PRIORITY_NAME.get(item.priority, "normal"),
        signer=signer_out(item.signer),
        business_doc_type=BUSINESS_DOC_TYPE_NAME.get(item.business_doc_type),
        # A package refused on arrival may have no file kept.
        file=file_out(item.file) if item.file.sha256 else None,
        attachments=[file_out(f) for f in item.attachments],
        signer_certificate=item.signer_certificate or None,
        signer_certificate_sha256=item.signer_certificate_sha256 or None,
        incoming_document_id=item.incoming_document_id or None,
        reason=item.reason or None,
        duplicate_of=item.duplicate_of or None,
        package_id=item.package_id,
        handled_by=item.handled_by or None,
        handled_at=optional_datetime(item, "handled_at"),
        due_date=optional_date(item.due_date),
        page_amount=item.page_amount or None,
        recall=recall_out(item.recall) if item.HasField("recall") else None,
    )


def register_request(item_id: str, body: RegisterInboxItemIn) -> pb.RegisterInboxItemRequest:
    return pb.RegisterInboxItemRequest(
        id=item_id,
        document_type=body.document_type,
        # Unspecified: the exchange service registers it as not secret.
        secrecy=SECRECY[body.secrecy] if body.secrecy is not None else docs.SECRECY_UNSPECIFIED,
    )


def answer_recall_request(item_id: str, body: AnswerRecallIn) -> pb.AnswerRecallRequest:
    return pb.AnswerRecallRequest(id=item_id, agree=body.agree, reason=body.reason or "")


def business_status_out(status: pb.BusinessStatus) -> BusinessStatusOut:
    return BusinessStatusOut(
        code=status.code,
        description=status.description,
        at=optional_datetime(status, "at"),
        staff=status.staff,
        message_id=status.message_id,
        recorded_at=optional_datetime(status, "recorded_at"),
    )


def delivery_out(delivery: pb.Delivery) -> DeliveryOut:
    return DeliveryOut(
        recipient=organ_out(delivery.recipient),
        transport_state=TRANSPORT_STATE_NAME[delivery.transport_state],
        attempts=delivery.attempts,
        last_error=delivery.last_error or None,
        acknowledged_at=optional_datetime(delivery, "acknowledged_at"),
        transport_reference=delivery.transport_reference or None,
        package_id=delivery.package_id,
        statuses=[business_status_out(s) for s in delivery.statuses],
    )


def deliveries_out(answer: pb.ListDeliveriesResponse) -> DeliveriesOut:
    return DeliveriesOut(
        deliveries=[delivery_out(d) for d in answer.deliveries], note=answer.note or None
    )
