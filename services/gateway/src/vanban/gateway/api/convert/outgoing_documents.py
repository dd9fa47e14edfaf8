"""Outgoing documents between the REST API and the documents contract."""

from __future__ import annotations

from vanban.contracts.documents.v1 import documents_pb2 as docs
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
    relation_out,
    relation_pb,
    signer_out,
    signer_pb,
)
from vanban.gateway.api.schemas.documents import RecipientOut
from vanban.gateway.api.schemas.outgoing_documents import (
    OutgoingDocumentOut,
    OutgoingMetadataIn,
    VersionOut,
)
from vanban.platform.convert import from_timestamp


def draft_request(
    meta: OutgoingMetadataIn, file: docs.FileRef
) -> docs.DraftOutgoingDocumentRequest:
    return docs.DraftOutgoingDocumentRequest(
        document_type=meta.document_type,
        subject=meta.subject,
        priority=PRIORITY[meta.priority],
        secrecy=SECRECY[meta.secrecy],
        recipients=[
            docs.Recipient(organ_id=r.organ_id, organ_name=r.organ_name) for r in meta.recipients
        ],
        file=file,
        signer=signer_pb(meta.signer),
        drafting_unit=meta.drafting_unit,
        relations=[relation_pb(r) for r in meta.relations],
        note=meta.note,
        description=meta.description,
        issued_amount=meta.issued_amount,
    )


def outgoing_out(document: docs.OutgoingDocument) -> OutgoingDocumentOut:
    issued = document.number > 0
    return OutgoingDocumentOut(
        id=document.id,
        status=STATUS_NAME.get(document.status, "draft"),
        document_type=document.document_type,
        subject=document.subject,
        priority=PRIORITY_NAME.get(document.priority, "normal"),
        secrecy=SECRECY_NAME.get(document.secrecy, "none"),
        recipients=[
            RecipientOut(organ_id=r.organ_id, organ_name=r.organ_name or None)
            for r in document.recipients
        ],
        signer=signer_out(document.signer),
        drafting_unit=document.drafting_unit or None,
        relations=[relation_out(r) for r in document.relations],
        description=document.description or None,
        issued_amount=document.issued_amount or None,
        current_version=document.current_version,
        file=file_out(document.file),
        signed_file=file_out(document.signed_file) if document.HasField("signed_file") else None,
        versions=[
            VersionOut(
                version=v.version,
                file=file_out(v.file),
                uploaded_by=v.uploaded_by,
                uploaded_at=from_timestamp(v.uploaded_at),
                note=v.note or None,
            )
            for v in document.versions
        ],
        register_id=document.register_id or None,
        number=document.number if issued else None,
        year=document.year if issued else None,
        code_number=document.code_number or None,
        code_notation=document.code_notation or None,
        issued_date=optional_date(document.issued_date),
        identifier=document.identifier or None,
        issued_at=from_timestamp(document.issued_at) if issued else None,
        issued_by=document.issued_by or None,
        cancel_reason=document.cancel_reason or None,
        cancelled_by=document.cancelled_by or None,
        cancelled_at=(
            from_timestamp(document.cancelled_at) if document.HasField("cancelled_at") else None
        ),
        digitization=digitization_out(document.digitization),
        archive=archive_out(document),
        created_by=document.created_by,
        created_at=from_timestamp(document.created_at),
    )
