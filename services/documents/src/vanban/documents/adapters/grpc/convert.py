"""Proto <-> domain conversion for the documents contracts."""

from __future__ import annotations

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.documents.domain.model import (
    FileRef,
    IncomingDocument,
    IncomingDraft,
    Priority,
)
from vanban.platform.clearance import Secrecy
from vanban.platform.convert import SECRECY_TO_PB, secrecy_from_pb, to_timestamp
from vanban.platform.errors import invalid_fields

PRIORITY_TO_PB = {
    Priority.NORMAL: pb.PRIORITY_NORMAL,
    Priority.URGENT: pb.PRIORITY_URGENT,
    Priority.VERY_URGENT: pb.PRIORITY_VERY_URGENT,
    Priority.FLASH: pb.PRIORITY_FLASH,
}
PRIORITY_FROM_PB = {v: k for k, v in PRIORITY_TO_PB.items()}


def draft_from_request(request: pb.RegisterIncomingDocumentRequest) -> IncomingDraft:
    problems: dict[str, str] = {}
    priority = Priority.NORMAL
    if request.priority != pb.PRIORITY_UNSPECIFIED:
        if request.priority not in PRIORITY_FROM_PB:
            problems["priority"] = "unknown priority"
        else:
            priority = PRIORITY_FROM_PB[request.priority]
    secrecy = secrecy_from_pb(request.secrecy)
    if secrecy is None:
        problems["secrecy"] = "unknown secrecy level"
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
        secrecy=secrecy or Secrecy.NONE,
        file=FileRef(
            sha256=request.file.sha256,
            size=request.file.size,
            content_type=request.file.content_type,
            file_name=request.file.file_name,
        ),
    )


def incoming_to_pb(document: IncomingDocument) -> pb.IncomingDocument:
    return pb.IncomingDocument(
        id=document.id,
        arrival_number=document.arrival_number,
        arrival_year=document.arrival_year,
        arrived_at=to_timestamp(document.arrived_at),
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
