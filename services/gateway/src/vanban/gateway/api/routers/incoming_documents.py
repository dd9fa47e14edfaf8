"""Incoming documents (văn bản đến): registration, the record and its file. Handlers only
translate: services decide."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated
from urllib.parse import quote
from uuid import UUID
from zoneinfo import ZoneInfo

import grpc
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from vanban.contracts.archive.v1 import archive_pb2
from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.adapters.grpc.upstreams import ArchiveStub
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
    Upstream,
    allowed,
    role,
)
from vanban.gateway.api.openapi import FILE, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.incoming_documents import IncomingDocumentOut
from vanban.gateway.api.upload import archive_chunks, check_pdf, file_name_of
from vanban.platform.errors import PermissionDeniedError

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
                            "description": "The document as PDF",
                        },
                        # A part holding a JSON object: its schema, and the encoding below
                        # that says it is JSON, so clients and fuzzers see its fields.
                        "metadata": {"$ref": "#/components/schemas/IncomingMetadataIn"},
                    },
                },
                "encoding": {"metadata": {"contentType": "application/json"}},
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


def _missing(field: str) -> HttpProblem:
    return HttpProblem(422, "VALIDATION_FAILED", f"{field}: Field required", field=field)


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
        "INVALID_INCOMING_DOCUMENT",
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
    """
    form = await request.form(max_files=1, max_fields=1)
    try:
        file, metadata = form.get("file"), form.get("metadata")
        if not isinstance(file, UploadFile):
            raise _missing("file")
        if not isinstance(metadata, str):
            raise _missing("metadata")
        meta = parse_metadata(metadata, today=datetime.now(ZoneInfo(settings.timezone)).date())
        _require_clearance(principal, meta.secrecy)
        size = await check_pdf(file, max_bytes=settings.max_upload_bytes)
        stored = await archive.stub.PutObject(
            archive_chunks(file, size=size), metadata=principal.metadata, timeout=archive.timeout
        )
        file_ref = docs.FileRef(
            sha256=stored.object.sha256,
            size=stored.object.size,
            content_type=stored.object.content_type,
            # The same name the archive was given (`file_name_of`); the bytes count.
            file_name=file_name_of(file),
        )
    finally:
        await form.close()
    try:
        answer = await documents.stub.RegisterIncomingDocument(
            register_request(meta, file_ref), metadata=principal.metadata, timeout=documents.timeout
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() in DEFINITE_REFUSALS:
            await _release(archive, stored.upload_id, principal)
        raise
    response.headers["Location"] = f"/v1/incoming-documents/{answer.document.id}"
    return incoming_out(answer.document)


# Answers after which documents certainly recorded nothing. After any other (a timeout, the
# service unavailable, an internal error) the registration may have committed and its claim be
# on the way: the file is then left to the archive's sweeper, never released.
DEFINITE_REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
    }
)


def _require_clearance(principal: Principal, secrecy: str) -> None:
    """Documents refuses a registration above the caller's clearance; refused here too, before
    the file is stored (the same rule: `Caller.cleared_for`)."""
    if not principal.caller.cleared_for(secrecy):
        raise PermissionDeniedError(
            "registering a document above your clearance is not allowed",
            reason="CLEARANCE_TOO_LOW",
            metadata={"secrecy": secrecy, "clearance": principal.caller.clearance},
        )


async def _release(archive: Upstream[ArchiveStub], upload_id: str, principal: Principal) -> None:
    """Gives the stored file back to the archive at once: nothing will refer to it. A failure
    here must not hide the refusal the caller is owed; the sweeper collects the file later."""
    try:
        await archive.stub.ReleaseUpload(
            archive_pb2.ReleaseUploadRequest(upload_id=upload_id),
            metadata=principal.metadata,
            timeout=archive.timeout,
        )
    except grpc.aio.AioRpcError as exc:
        logger.warning(
            "could not release a refused registration's file; the sweeper will collect it",
            extra={"grpc_code": exc.code().name},
        )


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
        **answers(
            *SCOPED,
            *PARAMETERS,
            *UPSTREAM,
            "INCOMING_NOT_FOUND",
            "ARCHIVE_PROTOCOL",
            "FIXITY_MISMATCH",
            "OBJECT_MISSING",
            "OBJECT_STORE_UNAVAILABLE",
        ),
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
    stream = archive.stub.GetObject(
        archive_pb2.GetObjectRequest(sha256=document.file.sha256),
        metadata=gateway,
        timeout=settings.download_timeout_seconds,
    )
    try:
        first = await stream.read()  # the info message (or EOF); errors surface as problem+json
    except BaseException:
        stream.cancel()
        raise
    if not isinstance(first, archive_pb2.GetObjectResponse) or not first.HasField("info"):
        stream.cancel()
        raise HttpProblem(502, "ARCHIVE_PROTOCOL", "the archive answered without object info")

    async def body() -> AsyncIterator[bytes]:
        try:
            async for part in stream:
                yield part.chunk
        finally:
            # The client went away or the archive failed: stop the upstream stream as well.
            stream.cancel()

    filename = document.file.file_name or f"{document.id}.pdf"
    return StreamingResponse(
        body(),
        media_type=first.info.content_type or "application/pdf",
        headers={
            "Content-Length": str(first.info.size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}",
            "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(first.info.sha256)).decode()}:",
        },
    )


def _quote(name: str) -> str:
    return quote(name, safe="")
