"""Outgoing documents (văn bản đi): drafts, versions, issue, and the current file. Handlers only
translate: the documents service decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import grpc
from fastapi import APIRouter, Body, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.documents import parse_part
from vanban.gateway.api.convert.outgoing_documents import draft_request, outgoing_out
from vanban.gateway.api.deps import (
    Archive,
    Documents,
    GatewayIdentity,
    Settings,
    allowed,
    role,
)
from vanban.gateway.api.document_files import (
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
from vanban.gateway.api.openapi import BODY, FILE, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.outgoing_documents import (
    CancelIn,
    IssueIn,
    OutgoingDocumentOut,
    OutgoingMetadataIn,
    VersionMetadataIn,
)
from vanban.platform.errors import invalid_fields

router = APIRouter(prefix="/v1/outgoing-documents", tags=["outgoing documents"])

# Documents decides who drafts, revises and issues (docs/security/permissions.md); API keys
# hold none of these scopes but `outgoing:read`.
# The roles documents lets draft (domain.service.DRAFT_ROLES), checked here too so that a
# refused draft never stores its file.
DRAFT_ROLES = (
    "clerk",
    "specialist",
    "unit_head",
    "deputy_unit_head",
    "agency_leader",
    "deputy_agency_leader",
)
# Those who draft for any unit (documents' READ_ALL_ROLES that draft); others for their own.
ANY_UNIT_ROLES = ("clerk", "agency_leader", "deputy_agency_leader")
Drafter = Annotated[Principal, allowed("outgoing:draft", *(role(r) for r in DRAFT_ROLES))]
Reader = Annotated[Principal, allowed("outgoing:read")]
Issuer = Annotated[Principal, allowed("outgoing:issue")]
# Cancelling a number is the clerk's (văn thư) alone, here as in documents.
Canceller = Annotated[Principal, allowed("outgoing:issue", role("clerk"))]


def _multipart(metadata_ref: str, *, metadata_required: bool, example: dict[str, Any]) -> Any:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "metadata"] if metadata_required else ["file"],
                        "additionalProperties": False,
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "The draft as PDF",
                            },
                            "metadata": {"$ref": f"#/components/schemas/{metadata_ref}"},
                        },
                    },
                    "encoding": {"metadata": {"contentType": "application/json"}},
                    "example": {"file": "(the PDF)", "metadata": example},
                }
            },
        }
    }


_DRAFT_BODY = _multipart(
    "OutgoingMetadataIn",
    metadata_required=True,
    example={
        "document_type": "Quyết định",
        "subject": "Về việc ban hành quy chế làm việc",
        "priority": "normal",
        "secrecy": "none",
        "recipients": [{"organ_id": "000.00.00.G22"}],
        "drafting_unit": "VP",
    },
)
_VERSION_BODY = _multipart(
    "VersionMetadataIn",
    metadata_required=False,
    example={"note": "Sửa theo ý kiến lãnh đạo", "expected_version": 1},
)


def _require_own_unit(principal: Principal, unit: str) -> None:
    """Documents refuses a drafting unit that is not the drafter's own (for those who may not
    draft for any unit); refused here too, before the file is stored."""
    caller = principal.caller
    if unit and not caller.roles.intersection(ANY_UNIT_ROLES) and unit not in caller.units:
        raise invalid_fields(
            {"drafting_unit": "is not one of your units"}, reason="INVALID_OUTGOING_DOCUMENT"
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OutgoingDocumentOut,
    operation_id="draftOutgoingDocument",
    openapi_extra=_DRAFT_BODY,
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
        "INVALID_OUTGOING_DOCUMENT",
        "OBJECT_STORE_UNAVAILABLE",
    ),
)
async def draft_outgoing(
    request: Request,
    response: Response,
    principal: Drafter,
    settings: Settings,
    archive: Archive,
    documents: Documents,
) -> OutgoingDocumentOut:
    """Starts an outgoing document (văn bản đi) as a draft with its first version.

    A draft needs only its type, subject, urgency, secrecy, recipients (by mã định danh) and the
    file; the number, date and identifier come at issue.
    """
    form = await request.form(max_files=1, max_fields=1)
    try:
        metadata = form.get("metadata")
        main, _ = uploads(form, attachments=False)
        if not isinstance(metadata, str):
            raise missing("metadata")
        meta = parse_part(OutgoingMetadataIn, metadata)
        require_clearance(principal, meta.secrecy, doing="drafting")
        _require_own_unit(principal, meta.drafting_unit)
        sizes = await check_all(main, (), max_bytes=settings.max_upload_bytes)
        stored = await store_all(archive, principal, main, (), sizes)
    finally:
        await form.close()
    try:
        answer = await documents.stub.DraftOutgoingDocument(
            draft_request(meta, stored.main),
            metadata=principal.metadata,
            timeout=documents.timeout,
        )
    except grpc.aio.AioRpcError as exc:
        if definitely_refused(exc):
            await release(archive, stored.upload_ids, principal)
        raise
    response.headers["Location"] = f"/v1/outgoing-documents/{answer.document.id}"
    return outgoing_out(answer.document)


@router.get(
    "/{document_id}",
    response_model=OutgoingDocumentOut,
    operation_id="getOutgoingDocument",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "OUTGOING_NOT_FOUND"),
)
async def get_outgoing(
    principal: Reader, document_id: UUID, documents: Documents
) -> OutgoingDocumentOut:
    answer = await documents.stub.GetOutgoingDocument(
        docs.GetOutgoingDocumentRequest(id=str(document_id)),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    return outgoing_out(answer.document)


@router.post(
    "/{document_id}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=OutgoingDocumentOut,
    operation_id="addOutgoingVersion",
    openapi_extra=_VERSION_BODY,
    responses=answers(
        *SCOPED,
        *PARAMETERS,
        *FILE,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "INVALID_METADATA",
        "FILE_EMPTY",
        "NOT_A_PDF",
        "INVALID_PDF",
        "INVALID_OUTGOING_VERSION",
        "OUTGOING_NOT_FOUND",
        "DOCUMENT_NOT_DRAFT",
        "DOCUMENT_ARCHIVED",
        "VERSION_CONFLICT",
        "TOO_MANY_VERSIONS",
        "OBJECT_STORE_UNAVAILABLE",
    ),
)
async def add_version(
    request: Request,
    document_id: UUID,
    principal: Drafter,
    settings: Settings,
    archive: Archive,
    documents: Documents,
) -> OutgoingDocumentOut:
    """Adds a version (a new file) to a draft; the earlier versions stay as they were."""
    # Refused before the file is stored when the draft is not one the caller may open, or is
    # no longer a draft (documents checks both again, under the row's lock).
    current = await documents.stub.GetOutgoingDocument(
        docs.GetOutgoingDocumentRequest(id=str(document_id)),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    if current.document.status != docs.DOCUMENT_STATUS_DRAFT:
        raise HttpProblem(
            400,
            "DOCUMENT_NOT_DRAFT",
            "the document is no longer a draft: its registered fields are locked",
        )
    form = await request.form(max_files=1, max_fields=1)
    try:
        raw = form.get("metadata")
        main, _ = uploads(form, attachments=False)
        if raw is not None and not isinstance(raw, str):
            raise missing("metadata")
        meta = parse_part(VersionMetadataIn, raw) if raw else VersionMetadataIn(note="")
        sizes = await check_all(main, (), max_bytes=settings.max_upload_bytes)
        stored = await store_all(archive, principal, main, (), sizes)
    finally:
        await form.close()
    try:
        answer = await documents.stub.AddOutgoingVersion(
            docs.AddOutgoingVersionRequest(
                id=str(document_id),
                file=stored.main,
                note=meta.note,
                expected_version=meta.expected_version or 0,
            ),
            metadata=principal.metadata,
            timeout=documents.timeout,
        )
    except grpc.aio.AioRpcError as exc:
        if definitely_refused(exc):
            await release(archive, stored.upload_ids, principal)
        raise
    return outgoing_out(answer.document)


@router.post(
    "/{document_id}/issue",
    response_model=OutgoingDocumentOut,
    operation_id="issueOutgoingDocument",
    responses=answers(
        *SCOPED,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "OUTGOING_NOT_FOUND",
        "DOCUMENT_NOT_DRAFT",
        "DOCUMENT_ARCHIVED",
        "VERSION_CONFLICT",
        "NO_REGISTER",
        "AMBIGUOUS_REGISTER",
        "DRAFTING_UNIT_REQUIRED",
        "INVALID_NOTATION",
        "RELATION_NOT_VISIBLE",
        "UNKNOWN_DOCUMENT_TYPE",
        "DIRECTORY_UNAVAILABLE",
        "NOT_APPROVED",
        "DRAFT_CHANGED",
        "WORKFLOW_UNAVAILABLE",
        # Where the approval chain is in force, the current version carries the leader's
        # signature first.
        "LEADER_SIGNATURE_REQUIRED",
    ),
)
async def issue_outgoing(
    document_id: UUID,
    principal: Issuer,
    documents: Documents,
    body: Annotated[
        IssueIn | None,
        Body(openapi_examples={"the approved version": {"value": {"expected_version": 2}}}),
    ] = None,
) -> OutgoingDocumentOut:
    """Numbers and dates the draft (số, ký hiệu, ngày ban hành and mã định danh văn bản đi) in
    one step, and locks its registered fields. The clerk's (văn thư) task, once the draft passed
    its approval chain (`…/submit`, `…/sign`) in its current version."""
    answer = await documents.stub.IssueOutgoingDocument(
        docs.IssueOutgoingDocumentRequest(
            id=str(document_id),
            expected_version=body.expected_version or 0 if body is not None else 0,
        ),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    return outgoing_out(answer.document)


@router.post(
    "/{document_id}/cancel",
    response_model=OutgoingDocumentOut,
    operation_id="cancelOutgoingDocument",
    responses=answers(
        *SCOPED,
        *PARAMETERS,
        *UPSTREAM,
        *BODY,
        "ROLE_REQUIRED",
        "OUTGOING_NOT_FOUND",
        "DOCUMENT_NOT_ISSUED",
        "DOCUMENT_ARCHIVED",
        "ALREADY_CANCELLED",
        "INVALID_CANCELLATION",
    ),
)
async def cancel_outgoing(
    document_id: UUID,
    principal: Canceller,
    documents: Documents,
    body: Annotated[
        CancelIn,
        Body(openapi_examples={"a wrong signer": {"value": {"reason": "Sai thẩm quyền ký"}}}),
    ],
) -> OutgoingDocumentOut:
    """Cancels an issued document's number (hủy số). The number stays taken, kept with its
    reason, and is printed as cancelled in the register book; the next issue takes the next
    number. The clerk's (văn thư) task."""
    answer = await documents.stub.CancelOutgoingDocument(
        docs.CancelOutgoingDocumentRequest(id=str(document_id), reason=body.reason),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    return outgoing_out(answer.document)


@router.get(
    "/{document_id}/file",
    operation_id="getOutgoingDocumentFile",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/pdf": {}}},
        **answers(*SCOPED, *PARAMETERS, *UPSTREAM, "OUTGOING_NOT_FOUND", *FILE_DOWNLOAD_ANSWERS),
    },
)
async def get_outgoing_file(
    principal: Reader,
    document_id: UUID,
    documents: Documents,
    archive: Archive,
    gateway: GatewayIdentity,
    settings: Settings,
    version: Annotated[
        int | None, Query(ge=1, description="A version; the current one if absent")
    ] = None,
) -> StreamingResponse:
    """The exact bytes of the current version (or of `version`), checked by the archive."""

    def chosen(document: docs.OutgoingDocument) -> docs.FileRef:
        if version is None:
            return document.file
        found = [v for v in document.versions if v.version == version]
        if not found:
            raise HttpProblem(
                404, "VERSION_NOT_FOUND", "the draft has no such version", field="version"
            )
        return found[0].file

    return await _stream_outgoing_file(
        principal, document_id, documents, archive, gateway, settings, chosen, suffix=""
    )


async def _stream_outgoing_file(
    principal: Reader,
    document_id: UUID,
    documents: Documents,
    archive: Archive,
    gateway: GatewayIdentity,
    settings: Settings,
    choose: Callable[[docs.OutgoingDocument], docs.FileRef],
    *,
    suffix: str,
) -> StreamingResponse:
    """A file of the document as the caller may see it (documents decides), `choose`n from it,
    streamed from the archive."""
    answer = await documents.stub.GetOutgoingDocument(
        docs.GetOutgoingDocumentRequest(id=str(document_id)),
        metadata=principal.metadata,
        timeout=documents.timeout,
    )
    document = answer.document
    file = choose(document)
    return await stream_file(
        archive,
        gateway,
        sha256=file.sha256,
        file_name=file.file_name or f"{document.id}{suffix}.pdf",
        download_seconds=settings.download_timeout_seconds,
    )


@router.get(
    "/{document_id}/signed-file",
    operation_id="getOutgoingDocumentSignedFile",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/pdf": {}}},
        **answers(
            *SCOPED,
            *PARAMETERS,
            *UPSTREAM,
            "OUTGOING_NOT_FOUND",
            "NOT_SIGNED",
            *FILE_DOWNLOAD_ANSWERS,
        ),
    },
)
async def get_outgoing_signed_file(
    principal: Reader,
    document_id: UUID,
    documents: Documents,
    archive: Archive,
    gateway: GatewayIdentity,
    settings: Settings,
) -> StreamingResponse:
    """The current version with its signatures (the leader's, then the agency's): the file to
    dispatch and keep. 404 NOT_SIGNED before the first signature."""

    def signed(document: docs.OutgoingDocument) -> docs.FileRef:
        if not document.HasField("signed_file"):
            raise HttpProblem(404, "NOT_SIGNED", "the document carries no signature yet")
        return document.signed_file

    return await _stream_outgoing_file(
        principal, document_id, documents, archive, gateway, settings, signed, suffix="-da-ky"
    )
