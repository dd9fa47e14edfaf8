"""Incoming documents between the REST API and the documents contract."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.convert.common import enum_names, from_message
from vanban.gateway.api.convert.documents import (
    PRIORITY,
    PRIORITY_NAME,
    SECRECY,
    SECRECY_NAME,
    STATUS_NAME,
    archive_out,
    digitization_out,
    file_out,
    optional_date,
    parse_part,
    relation_out,
    relation_pb,
    signer_out,
    signer_pb,
)
from vanban.gateway.api.schemas.incoming_documents import (
    DuplicateOut,
    IncomingDocumentOut,
    IncomingMetadataIn,
)
from vanban.platform.convert import from_timestamp
from vanban.platform.errors import invalid_fields

RECEIVED_VIA_NAME = enum_names(docs.ReceivedVia)


def register_request(
    meta: IncomingMetadataIn, file: docs.FileRef, attachments: Sequence[docs.FileRef] = ()
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
        received_via=(
            docs.RECEIVED_VIA_PAPER
            if meta.received_via == "paper"
            else docs.RECEIVED_VIA_ELECTRONIC
        ),
        identifier=meta.identifier,
        signer=signer_pb(meta.signer),
        relations=[relation_pb(r) for r in meta.relations],
        attachments=list(attachments),
        page_amount=meta.page_amount,
        description=meta.description,
        due_date=meta.due_date.isoformat() if meta.due_date else "",
    )


def incoming_out(document: docs.IncomingDocument) -> IncomingDocumentOut:
    return from_message(
        IncomingDocumentOut,
        document,
        status=STATUS_NAME.get(document.status, "registered"),
        arrived_at=from_timestamp(document.arrived_at),
        received_via=RECEIVED_VIA_NAME.get(document.received_via, "electronic"),
        priority=PRIORITY_NAME.get(document.priority, "normal"),
        secrecy=SECRECY_NAME.get(document.secrecy, "none"),
        signer=signer_out(document.signer),
        relations=[relation_out(r) for r in document.relations],
        page_amount=document.page_amount or None,
        description=document.description or None,
        due_date=optional_date(document.due_date),
        file=file_out(document.file),
        attachments=[file_out(f) for f in document.attachments],
        duplicates=[DuplicateOut(id=d.document_id, rule=d.rule) for d in document.duplicates],
        digitization=digitization_out(document.digitization),
        archive=archive_out(document),
    )


def parse_metadata(raw: str, *, today: date) -> IncomingMetadataIn:
    """The `metadata` part of a registration, checked as documents would check it."""
    meta = parse_part(IncomingMetadataIn, raw)
    if meta.issued_date > today:
        # Checked here too, so that a refused registration never uploads its file.
        raise invalid_fields(
            {"metadata.issued_date": "cannot be later than today"}, reason="INVALID_METADATA"
        )
    return meta
