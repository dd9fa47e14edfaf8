"""Proto <-> domain conversion for the documents contracts."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.documents.domain.model import (
    FileRef,
    IncomingDocument,
    IncomingDraft,
    Priority,
    Secrecy,
)
from vanban.platform.errors import invalid_fields

PRIORITY_TO_PB = {
    Priority.NORMAL: pb.PRIORITY_NORMAL,
    Priority.URGENT: pb.PRIORITY_URGENT,
    Priority.VERY_URGENT: pb.PRIORITY_VERY_URGENT,
    Priority.FLASH: pb.PRIORITY_FLASH,
}
SECRECY_TO_PB = {
    Secrecy.NONE: pb.SECRECY_NONE,
    Secrecy.CONFIDENTIAL: pb.SECRECY_CONFIDENTIAL,
    Secrecy.SECRET: pb.SECRECY_SECRET,
    Secrecy.TOP_SECRET: pb.SECRECY_TOP_SECRET,
}
PRIORITY_FROM_PB = {v: k for k, v in PRIORITY_TO_PB.items()}
SECRECY_FROM_PB = {v: k for k, v in SECRECY_TO_PB.items()}


def draft_from_request(request: pb.RegisterIncomingDocumentRequest) -> IncomingDraft:
    problems: dict[str, str] = {}
    priority = Priority.NORMAL
    if request.priority != pb.PRIORITY_UNSPECIFIED:
        if request.priority not in PRIORITY_FROM_PB:
            problems["priority"] = "unknown priority"
        else:
            priority = PRIORITY_FROM_PB[request.priority]
    secrecy = Secrecy.NONE
    if request.secrecy != pb.SECRECY_UNSPECIFIED:
        if request.secrecy not in SECRECY_FROM_PB:
            problems["secrecy"] = "unknown secrecy level"
        else:
            secrecy = SECRECY_FROM_PB[request.secrecy]
    if not request.HasField("file"):
        problems["file"] = "is required"
    if problems:
        raise invalid_fields(problems, reason="INVALID_INCOMING_DOCUMENT")
    return IncomingDraft(
        issuer_code=request.issuer_code,
        issuer_name=request.issuer_name,
        code_number=request.code_number,
        code_notation=request.code_notation,
        issued_date=request.issued_date,
        document_type=request.document_type,
        subject=request.subject,
        priority=priority,
        secrecy=secrecy,
        file=FileRef(
            sha256=request.file.sha256,
            size=request.file.size,
            content_type=request.file.content_type,
            file_name=request.file.file_name,
        ),
    )


def incoming_to_pb(document: IncomingDocument) -> pb.IncomingDocument:
    arrived_at = Timestamp()
    arrived_at.FromDatetime(document.arrived_at)
    return pb.IncomingDocument(
        id=document.id,
        arrival_number=document.arrival_number,
        arrival_year=document.arrival_year,
        arrived_at=arrived_at,
        issuer_code=document.issuer_code,
        issuer_name=document.issuer_name,
        code_number=document.code_number,
        code_notation=document.code_notation,
        issued_date=document.issued_date.isoformat(),
        document_type=document.document_type,
        subject=document.subject,
        priority=PRIORITY_TO_PB[document.priority],
        secrecy=SECRECY_TO_PB[document.secrecy],
        file=pb.FileRef(
            sha256=document.file.sha256,
            size=document.file.size,
            content_type=document.file.content_type,
            file_name=document.file.file_name,
        ),
        registered_by=document.registered_by,
    )
