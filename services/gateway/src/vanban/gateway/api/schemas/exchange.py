"""Bodies of the exchange with other agencies (liên thông văn bản, edXML over the axis): the
agency's inbox of packages that arrived, the deliveries of an outgoing document, and the recall
(thu hồi) of an issued one, asked by its sender and answered by each recipient."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.gateway.api.schemas.documents import (
    FileOut,
    Priority,
    SignerOut,
    Strict,
    contract_rules,
    contract_text,
)
from vanban.gateway.api.schemas.incoming_documents import IncomingDocumentOut
from vanban.platform.clearance import Secrecy

# The contract's enums by their API names (`convert.exchange` derives the tables from the
# descriptors; a test holds these lists to them).
InboxStateName = Literal["received", "registered", "rejected", "refused", "duplicate"]
TransportStateName = Literal["pending", "acknowledged", "failed"]
# edXML BussinessDocType (0..3), by name.
BusinessDocTypeName = Literal["new", "recall", "update", "replace"]
# The answer to a recall, as the contract spells it ("" while unanswered: null).
RecallAnswerName = Literal["agreed", "refused"]


class OrganOut(BaseModel):
    organ_id: str = Field(description="Mã định danh of the agency, e.g. 000.00.00.G22")
    organ_name: str


class RecallOut(BaseModel):
    """The sender asked to take the document back (status 13), and the answer once given."""

    reason: str = Field(description="Why the sender recalls it, as its status 13 says")
    requested_at: datetime | None
    answer: RecallAnswerName | None = Field(
        description="null while unanswered; agreed: the incoming document is withdrawn (status "
        "15 sent); refused: it stays (status 16 sent, with `answer_reason`)"
    )
    answer_reason: str | None
    answered_by: str | None = Field(description="The clerk who answered")
    answered_at: datetime | None


class InboxItemOut(BaseModel):
    """A package that arrived from another agency, as the exchange service verified it."""

    id: str
    state: InboxStateName = Field(
        description="received: verified, waits for the clerk (status 01 sent); registered: an "
        "incoming document now (03 sent); rejected: by the clerk (02 sent); refused: on arrival "
        "(signature, certificate, content); duplicate: a DocumentId received before"
    )
    received_at: datetime | None
    sender: OrganOut = Field(description="The sender, as the package names it (and signed it)")
    document_id: str = Field(description='edXML DocumentId: "OrganId,yyyy/MM/dd,số/ký hiệu"')
    code_number: str = Field(description="Số of the document")
    code_notation: str = Field(description="Ký hiệu, e.g. QĐ-UBND")
    issued_date: date | None = Field(description="Ngày ban hành")
    document_type: str = Field(description="Tên loại văn bản, as the package names it")
    subject: str = Field(description="Trích yếu nội dung")
    priority: Priority = Field(description="Độ khẩn")
    signer: SignerOut | None
    business_doc_type: BusinessDocTypeName | None = Field(
        description="What the package does: a new document, or the recall, update or "
        "replacement of one sent before"
    )
    file: FileOut | None = Field(description="The main file (the signed PDF), in the archive")
    attachments: list[FileOut]
    signer_certificate: str | None = Field(
        description="The subject of the certificate that signed the package"
    )
    signer_certificate_sha256: str | None
    incoming_document_id: str | None = Field(description="Set once registered")
    reason: str | None = Field(description="Why it was rejected or refused")
    duplicate_of: str | None = Field(description="The inbox item it duplicates")
    package_id: str = Field(description="The package's signed bytes: `/v1/exchange/packages/{id}`")
    handled_by: str | None = Field(description="The clerk who registered or rejected it")
    handled_at: datetime | None
    due_date: date | None = Field(description="Hạn xử lý, when the package sets one")
    page_amount: int | None
    recall: RecallOut | None = Field(
        description="Set once the sender asked to take the document back (status 13)"
    )


class InboxOut(BaseModel):
    items: list[InboxItemOut] = Field(description="Newest first")
    next_page_token: str | None = None


class InboxItemAnswerOut(BaseModel):
    item: InboxItemOut


_REGISTER = pb.RegisterInboxItemRequest.DESCRIPTOR
_REJECT = pb.RejectInboxItemRequest.DESCRIPTOR
_RECALL = pb.RecallOutgoingDocumentRequest.DESCRIPTOR
_ANSWER_RECALL = pb.AnswerRecallRequest.DESCRIPTOR


class RegisterInboxItemIn(Strict):
    document_type: str = contract_text(
        _REGISTER,
        "document_type",
        "The agency's own document type (tên loại văn bản of its catalogue) when the "
        "package's is not in it; the package's by default",
    )
    secrecy: Secrecy | None = Field(
        None,
        description="Độ mật, when the clerk sets one (packages over the axis are not secret); "
        "none by default",
    )


class RegisteredInboxItemOut(BaseModel):
    item: InboxItemOut
    document: IncomingDocumentOut = Field(
        description="The incoming document it became, as `/v1/incoming-documents/{id}` shows it"
    )


class RejectInboxItemIn(Strict):
    reason: str = contract_text(
        _REJECT, "reason", "Why it is rejected: sent to the sender with status 02"
    )


class AnswerRecallIn(Strict):
    agree: bool = Field(
        strict=True,
        description="true: the incoming document is withdrawn (status 15 goes back); false: "
        "the recall is refused (status 16 goes back, with the reason)",
    )
    reason: str | None = Field(
        None,
        max_length=contract_rules(_ANSWER_RECALL, "reason").max_length or None,
        validate_default=True,
        description="Why the recall is refused: required when `agree` is false, sent to the "
        "sender with status 16",
    )

    @field_validator("reason")
    @classmethod
    def _required_when_refusing(cls, value: str | None, info: ValidationInfo) -> str | None:
        # `agree` comes first, so it is validated by now (absent: it was not valid itself).
        if info.data.get("agree") is False and not value:
            raise ValueError("is required when the recall is refused")
        return value


class RecallOutgoingIn(Strict):
    reason: str = contract_text(
        _RECALL,
        "reason",
        "Why the document is recalled (lý do thu hồi): sent to every recipient with status 13",
    )


class BusinessStatusOut(BaseModel):
    code: str = Field(description='edXML StatusCode: "01".."06", "13", "15", "16", or another')
    description: str
    at: datetime | None = Field(description="When the recipient says it set the status")
    staff: str = Field(description="Who handled it at the recipient, as the status names them")
    message_id: str = Field(description="The status message's bytes: `/v1/exchange/packages/{id}`")
    recorded_at: datetime | None = Field(description="When it arrived here")


class DeliveryOut(BaseModel):
    recipient: OrganOut
    transport_state: TransportStateName = Field(
        description="pending: waits for its (next) attempt; acknowledged: the axis holds it for "
        "the recipient; failed: given up after the retry period (`last_error`)"
    )
    attempts: int
    last_error: str | None
    acknowledged_at: datetime | None
    transport_reference: str | None = Field(
        description='The axis\'s reference of what it holds, e.g. "INBOX_000_00_00_H98#17"'
    )
    package_id: str = Field(description="The package's signed bytes: `/v1/exchange/packages/{id}`")
    statuses: list[BusinessStatusOut] = Field(
        description="The recipient's business statuses, oldest first"
    )


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut] = Field(description="One per recipient outside the agency")
    note: str | None = Field(
        description='Why nothing was sent yet, when nothing was: e.g. "waiting for the agency '
        'signature"'
    )
