"""The agency's records (ADR 0013; Decree 30/2020 arts. 28-30, Circular 01/2019): the dossier
list (danh mục hồ sơ) the archivist imports and the leader approves each year; the dossiers (hồ
sơ) its units form from it, close and hand over to the agency archive (nộp lưu), where the
archivist holds them, checks their fixity and exports them; dispositions (hủy tài liệu hết giá
trị) the archivist proposes, the leader decides and the archivist executes; and the archive's
audit chain. Handlers only translate: the archive's RecordsService decides."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from vanban.contracts.archive.v1 import records_pb2 as pb
from vanban.gateway.api.admission import DOSSIER_LIST_MAX_BYTES
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.records import (
    DOSSIER_STATE,
    EXPORT_FORMAT,
    EXPORT_MEDIA_TYPE,
    audit_out,
    disposition_out,
    dossier_list_type,
    dossier_out,
    dry_run_out,
    entry_out,
    fixity_out,
    import_out,
    problem_out,
)
from vanban.gateway.api.deps import Archive, GatewayIdentity, Records, Settings, allowed, role
from vanban.gateway.api.document_files import FILE_DOWNLOAD_ANSWERS, stream_file
from vanban.gateway.api.dossier_export import relay_export
from vanban.gateway.api.openapi import BODY, FILE, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.records import (
    YEAR_MAX,
    YEAR_MIN,
    AddDossierDocumentIn,
    ApprovedDossierListOut,
    ApproveDispositionIn,
    AuditVerificationOut,
    CloseDossierIn,
    DispositionDryRunOut,
    DispositionOut,
    DispositionsOut,
    DossierHoldIn,
    DossierListImportOut,
    DossierListOut,
    DossierOut,
    DossiersOut,
    DossierStateName,
    ExportFormatName,
    FixityOut,
    OpenDossierIn,
    ProposeDispositionIn,
    RefuseDispositionIn,
)
from vanban.gateway.api.upload import file_body, file_name_of, read_file

router = APIRouter(tags=["records"])

LEADERS = (role("agency_leader"), role("deputy_agency_leader"))
# Everyone of the agency reads the dossier list; the archive decides who sees which dossier (its
# keepers, the archivists, the leaders, each within their clearance). No API key holds a
# records scope.
Reader = Annotated[Principal, allowed("records:read")]
# Forming a dossier is its keepers' (its creator unit, the person responsible), whatever their
# role: the archive decides.
Keeper = Annotated[Principal, allowed("records:keep")]
Archivist = Annotated[Principal, allowed("records:manage", role("archivist"))]
Leader = Annotated[Principal, allowed("records:approve", *LEADERS)]
# A disposition is the archivist's proposal and the leaders' decision: theirs to read.
DispositionReader = Annotated[Principal, allowed("records:read", role("archivist"), *LEADERS)]
AuditVerifier = Annotated[Principal, allowed("audit:verify", role("archivist"), role("admin"))]

Year = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX, description="The calendar year")]
PageSize = Annotated[int, Query(ge=0, le=100, description="0: the archive's default (20)")]
PageToken = Annotated[str, Query(max_length=500)]

# What changing a dossier's documents can be refused with.
_FORMING = ("DOSSIER_NOT_FOUND", "NOT_DOSSIER_KEEPER", "DOSSIER_NOT_OPEN", "DOSSIER_HANDED_OVER")
# Deciding a disposition.
_DECIDING = (
    "ROLE_REQUIRED",
    "DISPOSITION_NOT_FOUND",
    "DISPOSITION_NOT_PROPOSED",
    "INVALID_ARGUMENT",
)

_LIST_EXAMPLE = (
    "code,title,retention,access,creator_unit,responsible,notes\n"
    "01.TCCB,Hồ sơ tuyển dụng công chức năm 2026,02,03,TCCB,nguyenvana,\n"
    "02.VP,Tập lưu công văn đi năm 2026,06,01,VP,tranthib,Văn thư lập\n"
)
_OPEN_EXAMPLES: dict[str, Any] = {
    "as the list names it": {"value": {"list_code": "01.TCCB"}},
    "with its own title": {
        "value": {
            "list_code": "01.TCCB",
            "title": "Hồ sơ tuyển dụng công chức năm 2026",
            "description": "Kế hoạch, thông báo, biên bản và quyết định tuyển dụng.",
        }
    },
}
_ADD_EXAMPLES: dict[str, Any] = {
    "an incoming document": {
        "value": {"document_id": "0197a3c2-0000-7000-8000-0000000000d1", "kind": "incoming"}
    },
    "either kind": {"value": {"document_id": "0197a3c2-0000-7000-8000-0000000000d2"}},
}
_CLOSE_EXAMPLES: dict[str, Any] = {
    "the work ended today": {"value": {}},
    "on a given day": {"value": {"end_date": "2026-12-31"}},
}
_HOLD_EXAMPLES: dict[str, Any] = {
    "put on hold": {
        "value": {"hold": True, "reason": "Phục vụ thanh tra theo Quyết định số 12/QĐ-TTr"}
    },
    "lifted": {"value": {"hold": False, "reason": "Kết thúc thanh tra"}},
}
_PROPOSE_EXAMPLES: dict[str, Any] = {
    "every dossier past its retention": {
        "value": {"reason": "Tài liệu hết thời hạn bảo quản theo danh mục hồ sơ năm 2016"}
    },
    "named dossiers": {
        "value": {
            "reason": "Tài liệu hết thời hạn bảo quản",
            "dossier_ids": ["0197a3c2-0000-7000-8000-0000000000a1"],
        }
    },
}
_APPROVE_EXAMPLES: dict[str, Any] = {
    "without a note": {"value": {}},
    "with a note": {"value": {"note": "Đồng ý hủy theo đề nghị của Hội đồng xác định giá trị"}},
}
_REFUSE_EXAMPLES: dict[str, Any] = {
    "kept for an inspection": {"value": {"note": "Giữ lại hồ sơ để phục vụ công tác thanh tra"}}
}


# The dossier list ---------------------------------------------------------------------------


@router.get(
    "/v1/dossier-lists",
    response_model=DossierListOut,
    operation_id="getDossierList",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_ARGUMENT"),
)
async def get_dossier_list(
    principal: Reader,
    records: Records,
    settings: Settings,
    year: Annotated[
        int | None, Query(ge=YEAR_MIN, le=YEAR_MAX, description="This year by default")
    ] = None,
) -> DossierListOut:
    """The dossier list of a year, by code: what each unit forms, kept how long, whether the
    leader approved it, and the dossier opened from it."""
    year = year or datetime.now(ZoneInfo(settings.timezone)).year
    answer = await records.stub.ListDossierList(
        pb.ListDossierListRequest(year=year), metadata=principal.metadata, timeout=records.timeout
    )
    return DossierListOut(year=year, items=[entry_out(e) for e in answer.items])


@router.post(
    "/v1/dossier-lists/import",
    response_model=DossierListImportOut,
    operation_id="importDossierList",
    openapi_extra=file_body(
        "The year's dossier list as CSV (UTF-8, the media type text/csv or a name ending .csv) "
        "or XLSX (its media type, or a name ending .xlsx), one entry a line under a header "
        "line; at most 2 MiB",
        example=_LIST_EXAMPLE,
    ),
    responses=answers(
        *SCOPED,
        *FILE,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "FILE_EMPTY",
        "UNSUPPORTED_IMPORT_FORMAT",
        "INVALID_DOSSIER_LIST_FILE",
        "DOSSIER_LIST_INVALID",
        "INVALID_ARGUMENT",
    ),
)
async def import_dossier_list(
    request: Request,
    principal: Archivist,
    records: Records,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX, description="The list's year")],
    dry_run: Annotated[bool, Query(description="true: only check and report, write nothing")],
) -> DossierListImportOut:
    """Adds and updates the year's entries from a file (archivists), multipart with the file
    as the part `file`. Every problem is reported by line and field; a dry run changes nothing,
    and neither does an import with any problem: it is refused (422 `DOSSIER_LIST_INVALID`,
    its `problems` listed). Entries changed go back to waiting for the leader's approval."""
    content, upload = await read_file(request, max_bytes=DOSSIER_LIST_MAX_BYTES)
    if not content:
        raise HttpProblem(400, "FILE_EMPTY", "the file is empty", field="file")
    media_type = dossier_list_type(upload.content_type, upload.filename)
    if media_type is None:
        raise HttpProblem(
            415,
            "UNSUPPORTED_IMPORT_FORMAT",
            "send the dossier list as text/csv or XLSX, or name it .csv or .xlsx",
            field="file",
        )
    answer = await records.stub.ImportDossierList(
        pb.ImportDossierListRequest(
            year=year,
            content=content,
            content_type=media_type,
            file_name=file_name_of(upload),
            dry_run=dry_run,
        ),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    if answer.problems and not dry_run and not answer.applied:
        raise HttpProblem(
            422,
            "DOSSIER_LIST_INVALID",
            f"the file has {len(answer.problems)} problem(s); nothing was imported",
            extra={"problems": [problem_out(p).model_dump() for p in answer.problems]},
        )
    return import_out(answer)


@router.post(
    "/v1/dossier-lists/{year}/approve",
    response_model=ApprovedDossierListOut,
    operation_id="approveDossierList",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "ROLE_REQUIRED", "INVALID_ARGUMENT"),
)
async def approve_dossier_list(
    principal: Leader, year: Year, records: Records
) -> ApprovedDossierListOut:
    """The agency's leader approves the year's entries not approved yet: dossiers may be opened
    from them."""
    answer = await records.stub.ApproveDossierList(
        pb.ApproveDossierListRequest(year=year),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return ApprovedDossierListOut(year=year, approved=answer.approved)


# Dossiers ---------------------------------------------------------------------------------


@router.post(
    "/v1/dossiers",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierOut,
    operation_id="openDossier",
    responses=answers(
        *SCOPED,
        *BODY,
        *UPSTREAM,
        "UNKNOWN_LIST_CODE",
        "LIST_ENTRY_NOT_APPROVED",
        "DOSSIER_EXISTS",
        "NOT_DOSSIER_KEEPER",
        "INVALID_ARGUMENT",
    ),
)
async def open_dossier(
    response: Response,
    principal: Keeper,
    records: Records,
    body: Annotated[OpenDossierIn, Body(openapi_examples=_OPEN_EXAMPLES)],
) -> DossierOut:
    """Opens the dossier of an approved entry of the dossier list (its creator unit's people,
    or the person responsible): one dossier per entry and year."""
    answer = await records.stub.OpenDossier(
        pb.OpenDossierRequest(
            year=body.year or 0,
            list_code=body.list_code,
            title=body.title,
            description=body.description,
        ),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    response.headers["Location"] = f"/v1/dossiers/{answer.dossier.id}"
    return dossier_out(answer.dossier)


@router.get(
    "/v1/dossiers",
    response_model=DossiersOut,
    operation_id="listDossiers",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_ARGUMENT", "INVALID_PAGE_TOKEN"),
)
async def list_dossiers(
    principal: Reader,
    records: Records,
    year: Annotated[
        int | None, Query(ge=YEAR_MIN, le=YEAR_MAX, description="Every year if absent")
    ] = None,
    state: Annotated[DossierStateName | None, Query(description="Every state if absent")] = None,
    handover_due: Annotated[
        bool,
        Query(description="true: only closed dossiers due for handover within 30 days, or late"),
    ] = False,
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> DossiersOut:
    """The dossiers you may see, without their documents."""
    answer = await records.stub.ListDossiers(
        pb.ListDossiersRequest(
            year=year or 0,
            state=DOSSIER_STATE[state] if state else pb.DOSSIER_STATE_UNSPECIFIED,
            handover_due=handover_due,
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return DossiersOut(
        items=[dossier_out(d) for d in answer.dossiers],
        next_page_token=answer.next_page_token or None,
    )


@router.get(
    "/v1/dossiers/{dossier_id}",
    response_model=DossierOut,
    operation_id="getDossier",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "DOSSIER_NOT_FOUND"),
)
async def get_dossier(principal: Reader, dossier_id: UUID, records: Records) -> DossierOut:
    """The dossier with its documents, oldest first."""
    answer = await records.stub.GetDossier(
        pb.GetDossierRequest(id=str(dossier_id)),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return dossier_out(answer.dossier)


@router.post(
    "/v1/dossiers/{dossier_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierOut,
    operation_id="addDossierDocument",
    responses=answers(
        *SCOPED,
        *BODY,
        *PARAMETERS,
        *UPSTREAM,
        *_FORMING,
        "DOSSIER_TOO_LARGE",
        "DOCUMENT_NOT_ISSUED",
        "DOCUMENT_DESTROYED",
        "INCOMING_NOT_FOUND",
        "OUTGOING_NOT_FOUND",
        "INVALID_ARGUMENT",
    ),
)
async def add_dossier_document(
    principal: Keeper,
    dossier_id: UUID,
    records: Records,
    body: Annotated[AddDossierDocumentIn, Body(openapi_examples=_ADD_EXAMPLES)],
) -> DossierOut:
    """Adds an incoming or an issued outgoing document you may open, by reference (nothing is
    copied); adding it again changes nothing."""
    answer = await records.stub.AddDossierDocument(
        pb.AddDossierDocumentRequest(
            dossier_id=str(dossier_id), document_id=str(body.document_id), kind=body.kind or ""
        ),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return dossier_out(answer.dossier)


@router.delete(
    "/v1/dossiers/{dossier_id}/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="removeDossierDocument",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, *_FORMING, "DOSSIER_DOCUMENT_NOT_FOUND"),
)
async def remove_dossier_document(
    principal: Keeper, dossier_id: UUID, document_id: UUID, records: Records
) -> Response:
    await records.stub.RemoveDossierDocument(
        pb.RemoveDossierDocumentRequest(dossier_id=str(dossier_id), document_id=str(document_id)),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/dossiers/{dossier_id}/close",
    response_model=DossierOut,
    operation_id="closeDossier",
    responses=answers(
        *SCOPED, *BODY, *PARAMETERS, *UPSTREAM, *_FORMING, "DOSSIER_EMPTY", "INVALID_END_DATE"
    ),
)
async def close_dossier(
    principal: Keeper,
    dossier_id: UUID,
    records: Records,
    body: Annotated[CloseDossierIn | None, Body(openapi_examples=_CLOSE_EXAMPLES)] = None,
) -> DossierOut:
    """Ends the dossier: its end date is set (today by default), no document is added or removed
    after, and it is due in the agency archive within a year."""
    end_date = body.end_date if body is not None else None
    answer = await records.stub.CloseDossier(
        pb.CloseDossierRequest(
            id=str(dossier_id), end_date=end_date.isoformat() if end_date else ""
        ),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return dossier_out(answer.dossier)


@router.get(
    "/v1/dossiers/{dossier_id}/handover-record",
    operation_id="getHandoverRecord",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/pdf": {}}},
        **answers(
            *SCOPED,
            *PARAMETERS,
            *UPSTREAM,
            "DOSSIER_NOT_FOUND",
            "HANDOVER_RECORD_NOT_FOUND",
            *FILE_DOWNLOAD_ANSWERS,
        ),
    },
)
async def get_handover_record(
    principal: Reader,
    dossier_id: UUID,
    records: Records,
    archive: Archive,
    gateway: GatewayIdentity,
    settings: Settings,
) -> StreamingResponse:
    """The handover record (biên bản giao nộp) of a dossier received into the agency archive, as
    the PDF kept under object lock; for whoever may see the dossier."""
    answer = await records.stub.GetDossier(
        pb.GetDossierRequest(id=str(dossier_id)),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    record = answer.dossier.handover_record
    if not answer.dossier.HasField("handover_record"):
        raise HttpProblem(
            404, "HANDOVER_RECORD_NOT_FOUND", "the dossier has not been handed over yet"
        )
    # The archive agreed this caller may see the dossier; the bytes are fetched as the gateway.
    return await stream_file(
        archive,
        gateway,
        sha256=record.sha256,
        file_name=record.file_name or f"bien-ban-giao-nop-{dossier_id}.pdf",
        download_seconds=settings.download_timeout_seconds,
    )


@router.post(
    "/v1/dossiers/{dossier_id}/handover",
    response_model=DossierOut,
    operation_id="handOverDossier",
    responses=answers(
        *SCOPED,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "DOSSIER_NOT_FOUND",
        "DOSSIER_NOT_CLOSED",
        "DOSSIER_HANDED_OVER",
        "OBJECT_STORE_UNAVAILABLE",
    ),
)
async def hand_over_dossier(
    principal: Archivist, dossier_id: UUID, records: Records, settings: Settings
) -> DossierOut:
    """The archivist receives a closed dossier into the agency archive (nộp lưu): a handover
    record (biên bản giao nộp, PDF) is made, every file is locked (write-once), and the dossier
    and its documents are read-only from then on."""
    answer = await records.stub.HandOverDossier(
        pb.HandOverDossierRequest(id=str(dossier_id)),
        metadata=principal.metadata,
        timeout=settings.long_call_timeout_seconds,
    )
    return dossier_out(answer.dossier)


@router.post(
    "/v1/dossiers/{dossier_id}/hold",
    response_model=DossierOut,
    operation_id="setDossierHold",
    responses=answers(
        *SCOPED,
        *BODY,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "DOSSIER_NOT_FOUND",
        "DOSSIER_NOT_HANDED_OVER",
        "OBJECT_STORE_UNAVAILABLE",
        "INVALID_ARGUMENT",
    ),
)
async def set_dossier_hold(
    principal: Archivist,
    dossier_id: UUID,
    records: Records,
    body: Annotated[DossierHoldIn, Body(openapi_examples=_HOLD_EXAMPLES)],
    settings: Settings,
) -> DossierOut:
    """The archivist puts a legal hold on every file of a dossier in the agency archive, or
    lifts it: held, nothing of it is destroyed, whatever its retention says."""
    answer = await records.stub.SetDossierHold(
        pb.SetDossierHoldRequest(id=str(dossier_id), hold=body.hold, reason=body.reason),
        metadata=principal.metadata,
        timeout=settings.long_call_timeout_seconds,
    )
    return dossier_out(answer.dossier)


@router.post(
    "/v1/dossiers/{dossier_id}/fixity",
    response_model=FixityOut,
    operation_id="checkDossierFixity",
    responses=answers(
        *SCOPED,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "DOSSIER_NOT_FOUND",
        "OBJECT_STORE_UNAVAILABLE",
    ),
)
async def check_dossier_fixity(
    principal: Archivist, dossier_id: UUID, records: Records, settings: Settings
) -> FixityOut:
    """The archivist has every file of the dossier read back and compared with its SHA-256: a
    file altered, missing or unreadable is named, not refused."""
    answer = await records.stub.CheckDossierFixity(
        pb.CheckDossierFixityRequest(id=str(dossier_id)),
        metadata=principal.metadata,
        timeout=settings.long_call_timeout_seconds,
    )
    return fixity_out(answer)


@router.get(
    "/v1/dossiers/{dossier_id}/export",
    operation_id="exportDossier",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The dossier as a BagIt bag or an E-ARK SIP (zip), or as one PDF, "
            "with its Content-Length; cut off, never ended as complete, if the archive fails "
            "while sending it",
            "content": {"application/zip": {}, "application/pdf": {}},
        },
        **answers(
            *SCOPED,
            *PARAMETERS,
            *UPSTREAM,
            "DOSSIER_NOT_FOUND",
            "DOSSIER_DISPOSED",
            "INVALID_EXPORT_FORMAT",
            "FIXITY_MISMATCH",
            "OBJECT_MISSING",
            "OBJECT_STORE_UNAVAILABLE",
            "EXPORT_FAILED",
            "ARCHIVE_PROTOCOL",
        ),
    },
)
async def export_dossier(
    principal: Reader,
    dossier_id: UUID,
    records: Records,
    settings: Settings,
    export_format: Annotated[
        ExportFormatName,
        Query(
            alias="format",
            description="bagit (a BagIt bag, zip), eark (an E-ARK SIP, zip) or pdf (every "
            "document in one PDF)",
        ),
    ],
) -> StreamingResponse:
    """The dossier with its metadata and every file, for whoever may see it. The archive
    prepares it first (large dossiers take a while), then it is sent."""
    stream = records.stub.ExportDossier(
        pb.ExportDossierRequest(id=str(dossier_id), format=EXPORT_FORMAT[export_format]),
        metadata=principal.metadata,
        timeout=settings.download_timeout_seconds,
    )
    media_type = EXPORT_MEDIA_TYPE[export_format]
    extension = "pdf" if media_type == "application/pdf" else "zip"
    return await relay_export(
        stream, media_type=media_type, fallback_name=f"ho-so-{dossier_id}.{extension}"
    )


# Dispositions -----------------------------------------------------------------------------


@router.post(
    "/v1/dispositions",
    status_code=status.HTTP_201_CREATED,
    response_model=DispositionOut,
    operation_id="proposeDisposition",
    responses=answers(
        *SCOPED,
        *BODY,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "DOSSIER_NOT_FOUND",
        "NOT_DISPOSABLE",
        "NOTHING_TO_DISPOSE",
        "INVALID_ARGUMENT",
    ),
)
async def propose_disposition(
    response: Response,
    principal: Archivist,
    records: Records,
    body: Annotated[ProposeDispositionIn, Body(openapi_examples=_PROPOSE_EXAMPLES)],
) -> DispositionOut:
    """The archivist proposes to destroy dossiers past their retention (the named ones, or
    every one that is): nothing goes before the leader approves and the archivist executes."""
    answer = await records.stub.ProposeDisposition(
        pb.ProposeDispositionRequest(
            reason=body.reason, dossier_ids=[str(i) for i in body.dossier_ids]
        ),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    response.headers["Location"] = f"/v1/dispositions/{answer.disposition.id}"
    return disposition_out(answer.disposition)


@router.get(
    "/v1/dispositions",
    response_model=DispositionsOut,
    operation_id="listDispositions",
    responses=answers(
        *SCOPED, *PARAMETERS, *UPSTREAM, "ROLE_REQUIRED", "INVALID_ARGUMENT", "INVALID_PAGE_TOKEN"
    ),
)
async def list_dispositions(
    principal: DispositionReader,
    records: Records,
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> DispositionsOut:
    """Dispositions proposed, decided and executed, newest first."""
    answer = await records.stub.ListDispositions(
        pb.ListDispositionsRequest(page_size=page_size, page_token=page_token),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return DispositionsOut(
        items=[disposition_out(d) for d in answer.dispositions],
        next_page_token=answer.next_page_token or None,
    )


@router.get(
    "/v1/dispositions/{disposition_id}",
    response_model=DispositionOut,
    operation_id="getDisposition",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "ROLE_REQUIRED", "DISPOSITION_NOT_FOUND"),
)
async def get_disposition(
    principal: DispositionReader, disposition_id: UUID, records: Records
) -> DispositionOut:
    answer = await records.stub.GetDisposition(
        pb.GetDispositionRequest(id=str(disposition_id)),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return disposition_out(answer.disposition)


@router.get(
    "/v1/dispositions/{disposition_id}/dry-run",
    response_model=DispositionDryRunOut,
    operation_id="dryRunDisposition",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "ROLE_REQUIRED", "DISPOSITION_NOT_FOUND"),
)
async def dry_run_disposition(
    principal: DispositionReader, disposition_id: UUID, records: Records
) -> DispositionDryRunOut:
    """Exactly what executing the disposition would destroy, as of now: the dossiers, the
    documents marked destroyed, the files deleted (a file another dossier keeps stays), and the
    dossiers that can no longer go."""
    answer = await records.stub.DryRunDisposition(
        pb.DryRunDispositionRequest(id=str(disposition_id)),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return dry_run_out(answer)


@router.post(
    "/v1/dispositions/{disposition_id}/approve",
    response_model=DispositionOut,
    operation_id="approveDisposition",
    responses=answers(*SCOPED, *BODY, *PARAMETERS, *UPSTREAM, *_DECIDING),
)
async def approve_disposition(
    principal: Leader,
    disposition_id: UUID,
    records: Records,
    body: Annotated[ApproveDispositionIn | None, Body(openapi_examples=_APPROVE_EXAMPLES)] = None,
) -> DispositionOut:
    """The agency's leader approves the proposal: the archivist may then execute it."""
    answer = await records.stub.DecideDisposition(
        pb.DecideDispositionRequest(
            id=str(disposition_id), approve=True, note=body.note if body is not None else ""
        ),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return disposition_out(answer.disposition)


@router.post(
    "/v1/dispositions/{disposition_id}/refuse",
    response_model=DispositionOut,
    operation_id="refuseDisposition",
    responses=answers(*SCOPED, *BODY, *PARAMETERS, *UPSTREAM, *_DECIDING),
)
async def refuse_disposition(
    principal: Leader,
    disposition_id: UUID,
    records: Records,
    body: Annotated[RefuseDispositionIn, Body(openapi_examples=_REFUSE_EXAMPLES)],
) -> DispositionOut:
    """The agency's leader refuses the proposal, saying why: nothing of it is destroyed."""
    answer = await records.stub.DecideDisposition(
        pb.DecideDispositionRequest(id=str(disposition_id), approve=False, note=body.note),
        metadata=principal.metadata,
        timeout=records.timeout,
    )
    return disposition_out(answer.disposition)


@router.post(
    "/v1/dispositions/{disposition_id}/execute",
    response_model=DispositionOut,
    operation_id="executeDisposition",
    responses=answers(
        *SCOPED,
        *PARAMETERS,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "DISPOSITION_NOT_FOUND",
        "DISPOSITION_NOT_APPROVED",
        "NOT_DISPOSABLE",
        "NOTHING_TO_DISPOSE",
        "OBJECT_STORE_UNAVAILABLE",
    ),
)
async def execute_disposition(
    principal: Archivist, disposition_id: UUID, records: Records, settings: Settings
) -> DispositionOut:
    """The archivist executes an approved disposition: its dossiers' files are deleted (those
    another dossier keeps stay), their documents marked destroyed, and the disposition record
    (biên bản hủy, PDF) kept for ever."""
    answer = await records.stub.ExecuteDisposition(
        pb.ExecuteDispositionRequest(id=str(disposition_id)),
        metadata=principal.metadata,
        timeout=settings.long_call_timeout_seconds,
    )
    return disposition_out(answer.disposition)


# The audit chain --------------------------------------------------------------------------


@router.get(
    "/v1/audit/verify",
    response_model=AuditVerificationOut,
    operation_id="verifyAudit",
    responses=answers(*SCOPED, *UPSTREAM, "ROLE_REQUIRED"),
)
async def verify_audit(
    principal: AuditVerifier, records: Records, settings: Settings
) -> AuditVerificationOut:
    """Walks the archive's audit chain (archivists and administrators): each entry's hash over
    its content and its predecessor's. The first broken link is named."""
    answer = await records.stub.VerifyAudit(
        pb.VerifyAuditRequest(),
        metadata=principal.metadata,
        timeout=settings.long_call_timeout_seconds,
    )
    return audit_out(answer)
