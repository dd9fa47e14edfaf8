from __future__ import annotations

from datetime import UTC

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.api.schemas.incoming_documents import (
    FileOut,
    IncomingDocumentOut,
    IncomingMetadataIn,
    NotificationOut,
)

PRIORITY = {
    "normal": docs.PRIORITY_NORMAL,
    "urgent": docs.PRIORITY_URGENT,
    "very_urgent": docs.PRIORITY_VERY_URGENT,
    "flash": docs.PRIORITY_FLASH,
}
SECRECY = {
    "none": docs.SECRECY_NONE,
    "confidential": docs.SECRECY_CONFIDENTIAL,
    "secret": docs.SECRECY_SECRET,
    "top_secret": docs.SECRECY_TOP_SECRET,
}
PRIORITY_NAME = {v: k for k, v in PRIORITY.items()}
SECRECY_NAME = {v: k for k, v in SECRECY.items()}


def register_request(
    meta: IncomingMetadataIn, file: docs.FileRef
) -> docs.RegisterIncomingDocumentRequest:
    return docs.RegisterIncomingDocumentRequest(
        issuer_code=meta.issuer_code,
        issuer_name=meta.issuer_name,
        code_number=meta.code_number,
        code_notation=meta.code_notation,
        issued_date=meta.issued_date.isoformat(),
        document_type=meta.document_type,
        subject=meta.subject,
        priority=PRIORITY[meta.priority],
        secrecy=SECRECY[meta.secrecy],
        file=file,
    )


def incoming_out(document: docs.IncomingDocument) -> IncomingDocumentOut:
    return IncomingDocumentOut(
        id=document.id,
        arrival_number=document.arrival_number,
        arrival_year=document.arrival_year,
        arrived_at=document.arrived_at.ToDatetime(tzinfo=UTC),
        issuer_code=document.issuer_code,
        issuer_name=document.issuer_name,
        code_number=document.code_number,
        code_notation=document.code_notation,
        issued_date=document.issued_date,
        document_type=document.document_type,
        subject=document.subject,
        priority=PRIORITY_NAME.get(document.priority, "normal"),
        secrecy=SECRECY_NAME.get(document.secrecy, "none"),
        file=FileOut(
            sha256=document.file.sha256,
            size=document.file.size,
            content_type=document.file.content_type,
            file_name=document.file.file_name,
        ),
        registered_by=document.registered_by,
    )


def notification_out(n: notify_pb2.Notification) -> NotificationOut:
    kind = notify_pb2.NotificationKind.Name(n.kind).removeprefix("NOTIFICATION_KIND_").lower()
    return NotificationOut(
        id=n.id,
        kind=kind,
        title=n.title,
        body=n.body,
        resource=n.resource,
        created_at=n.created_at.ToDatetime(tzinfo=UTC),
        read=n.read,
    )
