"""Incoming documents (văn bản đến): registration, the record and its file. Handlers only
translate: services decide."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

import grpc
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.incoming_documents import (
    incoming_out,
    parse_metadata,
    register_request,
)
from vanban.gateway.api.deps import (
    Archive,
    Documents,
    GatewayIdentity,
    Settings,
    allowed,
    role,
)
from vanban.gateway.api.document_files import (
    ATTACHMENTS_MAX,
    FILE_DOWNLOAD_ANSWERS,
    check_all,
    definitely_refused,
    missing,
    release,
    require_clearance,
    store_all,
    stream_file,
    uploads,
)
from vanban.gateway.api.openapi import FILE, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.incoming_documents import IncomingDocumentOut

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/incoming-documents", tags=["incoming documents"])

# Who may register incoming documents: the clerks (văn thư), and agency systems' keys with the
# scope (they act as clerks).
Registrar = Annotated[Principal, allowed("incoming:register", role("clerk"))]
# Documents decides who may read which document; API keys need the scope.
Reader = Annotated[Principal, allowed("incoming:read")]

_REGISTER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "metadata"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The document as PDF (for a paper arrival, its scan)",
                        },
                        "attachments": {
                            "type": "array",
                            "maxItems": ATTACHMENTS_MAX,
                            "items": {"type": "string", "format": "binary"},
                            "description": "Attachments (phụ lục) as PDF, one part each",
                        },
                        # A part holding a JSON object: its schema, and the encoding below
                        # that says it is JSON, so clients and fuzzers see its fields.
                        "metadata": {"$ref": "#/components/schemas/IncomingMetadataIn"},
                    },
                },
                "encoding": {
                    "metadata": {"contentType": "application/json"},
                    "attachments": {"contentType": "application/pdf"},
                },
                "example": {
                    "file": "(the PDF, e.g. docs/examples/quyet-dinh-05.pdf)",
                    "metadata": {
                        "issuer_code": "000.00.00.G22",
                        "issuer_name": "Văn phòng Chính phủ",
                        "code_number": "05",
                        "code_notation": "QĐ-VPCP",
                        "issued_date": "2026-11-02",
                        "document_type": "Quyết định",
                        "subject": "Về việc triển khai hệ thống quản lý văn bản và điều hành",
                        "priority": "urgent",
                        "secrecy": "none",
                    },
                },
            }
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=IncomingDocumentOut,
    operation_id="registerIncomingDocument",
    openapi_extra=_REGISTER_BODY,
    responses=answers(
        *SCOPED,
        *FILE,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "CLEARANCE_TOO_LOW",
        "INVALID_METADATA",
        "FILE_EMPTY",
        "NOT_A_PDF",
        "INVALID_PDF",
        "INVALID_INCOMING_DOCUMENT",
        "NO_REGISTER",
        "OBJECT_STORE_UNAVAILABLE",
    ),
)
async def register_incoming(
    request: Request,
    response: Response,
    principal: Registrar,
    settings: Settings,
    archive: Archive,
    documents: Documents,
) -> IncomingDocumentOut:
    """Registers an incoming document (văn bản đến) and gives it the next arrival number.

    The caller is established before the body is read, so an unknown caller never gets a byte
    spooled; the coarse checks run before anything is stored; the documents service decides.
    A paper arrival (`received_via: paper`) is registered with its scan as the file, whose text
    is then extracted by OCR for search (`digitization`). `duplicates` warns of documents
    registered before that look like this one.
    """
    form = await request.form(max_files=1 + ATTACHMENTS_MAX, max_fields=1)
    try:
        metadata = form.get("metadata")
        main, attachments = uploads(form, attachments=True)
        if not isinstance(metadata, str):
            raise missing("metadata")
        meta = parse_metadata(metadata, today=datetime.now(ZoneInfo(settings.timezone)).date())
        require_clearance(principal, meta.secrecy, doing="registering")
        sizes = await check_all(main, attachments, max_bytes=settings.max_upload_bytes)
        stored = await store_all(archive, principal, main, attachments, sizes)
    finally:
        await form.close()
    try:
        answer = await documents.stub.RegisterIncomingDocument(
            register_request(meta, stored.main, stored.attachments),
            metadata=principal.metadata,
            timeout=documents.timeout,
        )
    except grpc.aio.AioRpcError as exc:
        if definitely_refused(exc):
            await release(archive, stored.upload_ids, principal)
        raise
    response.headers["Location"] = f"/v1/incoming-documents/{answer.document.id}"
    return incoming_out(answer.document)


@router.get(
    "/{document_id}",
    response_model=IncomingDocumentOut,
    operation_id="getIncomingDocument",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INCOMING_NOT_FOUND"),
)
async def get_incoming(
    principal: Reader, document_id: UUID, documents: Documents
) -> IncomingDocumentOut:
    answer = await documents.stub.GetIncomingDocument(
        docs.GetIncomingDocumentRequest(id=str(document_id)),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    return incoming_out(answer.document)


@router.get(
    "/{document_id}/file",
    operation_id="getIncomingDocumentFile",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/pdf": {}}},
        **answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INCOMING_NOT_FOUND", *FILE_DOWNLOAD_ANSWERS),
    },
)
async def get_incoming_file(
    principal: Reader,
    document_id: UUID,
    documents: Documents,
    archive: Archive,
    gateway: GatewayIdentity,
    settings: Settings,
) -> StreamingResponse:
    """The exact bytes that were registered, checked against their SHA-256 by the archive."""
    answer = await documents.stub.GetIncomingDocument(
        docs.GetIncomingDocumentRequest(id=str(document_id)),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    document = answer.document
    # Documents agreed this caller may open the document; the bytes are fetched as the gateway.
    return await stream_file(
        archive,
        gateway,
        sha256=document.file.sha256,
        file_name=document.file.file_name or f"{document.id}.pdf",
        download_seconds=settings.download_timeout_seconds,
    )
