"""REST routes. Handlers only translate: services decide."""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote
from uuid import UUID
from zoneinfo import ZoneInfo

import grpc
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from vanban.contracts.archive.v1 import archive_pb2
from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.gateway.api.auth import CurrentPrincipal, Principal
from vanban.gateway.api.convert.incoming_documents import (
    incoming_out,
    notification_out,
    register_request,
)
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.incoming_documents import (
    IncomingDocumentOut,
    IncomingMetadataIn,
    NotificationPage,
)
from vanban.gateway.api.upload import archive_chunks, check_pdf
from vanban.platform.errors import (
    FieldViolation,
    InvalidArgumentError,
    PermissionDeniedError,
    invalid_fields,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1")

# Who may register incoming documents: the clerks (văn thư).
REGISTER_ROLES = ("clerk",)


def upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


def _parse_metadata(raw: str, *, today: date) -> IncomingMetadataIn:
    try:
        meta = IncomingMetadataIn.model_validate_json(raw)
    except ValidationError as exc:
        violations = tuple(
            FieldViolation(
                field="metadata" + "".join(f".{p}" for p in e["loc"]) if e["loc"] else "metadata",
                description=e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        )
        try:
            json.loads(raw)
        except ValueError:
            violations = (FieldViolation(field="metadata", description="must be a JSON object"),)
        raise InvalidArgumentError(
            "; ".join(f"{v.field}: {v.description}" for v in violations),
            reason="INVALID_METADATA",
            violations=violations,
        ) from None
    if meta.issued_date > today:
        # Checked here too, so that a refused registration never uploads its file.
        raise invalid_fields(
            {"metadata.issued_date": "cannot be later than today"}, reason="INVALID_METADATA"
        )
    return meta


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
                        # A form field holding a JSON object; described as the object itself
                        # (encoded as JSON), so clients and fuzzers see its fields.
                        "metadata": IncomingMetadataIn.model_json_schema(),
                    },
                },
                "encoding": {"metadata": {"contentType": "application/json"}},
            }
        },
    }
}


def _missing(field: str) -> HttpProblem:
    return HttpProblem(422, "VALIDATION_FAILED", f"{field}: Field required", field=field)


@router.post(
    "/incoming-documents",
    status_code=status.HTTP_201_CREATED,
    response_model=IncomingDocumentOut,
    operation_id="registerIncomingDocument",
    tags=["incoming documents"],
    openapi_extra=_REGISTER_BODY,
)
async def register_incoming(
    request: Request, response: Response, principal: CurrentPrincipal
) -> IncomingDocumentOut:
    """Registers an incoming document (văn bản đến) and gives it the next arrival number.

    The caller is established before the body is read, so an unknown caller never gets a byte
    spooled; the coarse checks run before anything is stored; the documents service decides.
    """
    principal.require_scope("incoming:register")
    principal.caller.require_role(*REGISTER_ROLES)
    settings = request.app.state.settings
    form = await request.form(max_files=1, max_fields=1)
    try:
        file, metadata = form.get("file"), form.get("metadata")
        if not isinstance(file, UploadFile):
            raise _missing("file")
        if not isinstance(metadata, str):
            raise _missing("metadata")
        meta = _parse_metadata(metadata, today=datetime.now(ZoneInfo(settings.timezone)).date())
        _require_clearance(principal, meta.secrecy)
        up = upstreams(request)
        size = await check_pdf(file, max_bytes=settings.max_upload_bytes)
        stored = await up.archive.PutObject(
            archive_chunks(file, size=size), metadata=principal.metadata, timeout=up.timeout
        )
        file_ref = docs.FileRef(
            sha256=stored.object.sha256,
            size=stored.object.size,
            content_type=stored.object.content_type,
            # The name as the client sent it, without control characters; the bytes count.
            file_name=re.sub(r"[\x00-\x1f\x7f]", "", file.filename or "")[:255],
        )
    finally:
        await form.close()
    try:
        answer = await up.documents.RegisterIncomingDocument(
            register_request(meta, file_ref), metadata=principal.metadata, timeout=up.timeout
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() in DEFINITE_REFUSALS:
            await _release(up, stored.upload_id, principal)
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


async def _release(up: Upstreams, upload_id: str, principal: Principal) -> None:
    """Gives the stored file back to the archive at once: nothing will refer to it. A failure
    here must not hide the refusal the caller is owed; the sweeper collects the file later."""
    try:
        await up.archive.ReleaseUpload(
            archive_pb2.ReleaseUploadRequest(upload_id=upload_id),
            metadata=principal.metadata,
            timeout=up.timeout,
        )
    except grpc.aio.AioRpcError as exc:
        log.warning(
            "could not release a refused registration's file; the sweeper will collect it: %s",
            exc.code().name,
        )


@router.get(
    "/incoming-documents/{document_id}",
    response_model=IncomingDocumentOut,
    operation_id="getIncomingDocument",
    tags=["incoming documents"],
)
async def get_incoming(
    request: Request, principal: CurrentPrincipal, document_id: UUID
) -> IncomingDocumentOut:
    principal.require_scope("incoming:read")
    up = upstreams(request)
    answer = await up.documents.GetIncomingDocument(
        docs.GetIncomingDocumentRequest(id=str(document_id)),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return incoming_out(answer.document)


@router.get(
    "/incoming-documents/{document_id}/file",
    operation_id="getIncomingDocumentFile",
    tags=["incoming documents"],
    response_class=StreamingResponse,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def get_incoming_file(
    request: Request, principal: CurrentPrincipal, document_id: UUID
) -> StreamingResponse:
    """The exact bytes that were registered, checked against their SHA-256 by the archive."""
    principal.require_scope("incoming:read")
    up = upstreams(request)
    answer = await up.documents.GetIncomingDocument(
        docs.GetIncomingDocumentRequest(id=str(document_id)),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    document = answer.document
    # Documents agreed this caller may open the document; the bytes are fetched as the gateway.
    stream = up.archive.GetObject(
        archive_pb2.GetObjectRequest(sha256=document.file.sha256),
        metadata=up.service_metadata(),
        timeout=request.app.state.settings.download_timeout_seconds,
    )
    try:
        first = await stream.read()  # the info message; errors surface here as problem+json
    except BaseException:
        stream.cancel()
        raise
    if first is grpc.aio.EOF or not first.HasField("info"):
        stream.cancel()
        raise HttpProblem(502, "ARCHIVE_PROTOCOL", "the archive answered without object info")

    async def body():  # type: ignore[no-untyped-def]
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


@router.get(
    "/notifications",
    response_model=NotificationPage,
    operation_id="listNotifications",
    tags=["notifications"],
)
async def list_notifications(
    request: Request,
    principal: CurrentPrincipal,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=512)] = "",
) -> NotificationPage:
    """The signed-in person's notifications, newest first."""
    principal.require_scope("notifications:read")  # API keys have no inbox
    up = upstreams(request)
    answer = await up.notify.ListNotifications(
        notify_pb2.ListNotificationsRequest(page_size=page_size, page_token=page_token),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return NotificationPage(
        items=[notification_out(n) for n in answer.notifications],
        next_page_token=answer.next_page_token or None,
    )
