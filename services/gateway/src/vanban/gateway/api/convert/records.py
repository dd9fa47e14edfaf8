"""The dossier list, dossiers, dispositions and the audit chain between the REST API and the
archive's records contract."""

from __future__ import annotations

from pathlib import PurePosixPath

from vanban.contracts.archive.v1 import records_pb2 as pb
from vanban.gateway.api.convert.common import enum_names, enum_values
from vanban.gateway.api.convert.documents import optional_date
from vanban.gateway.api.schemas.records import (
    AuditVerificationOut,
    BrokenAuditLinkOut,
    DispositionDryRunOut,
    DispositionFileOut,
    DispositionItemOut,
    DispositionOut,
    DocumentKind,
    DossierDocumentOut,
    DossierFileOut,
    DossierListEntryOut,
    DossierListImportOut,
    DossierListProblemOut,
    DossierOut,
    ExportFormatName,
    FileFixityOut,
    FixityOut,
)
from vanban.platform.clearance import Secrecy
from vanban.platform.convert import optional_datetime

DOSSIER_STATE_NAME = enum_names(pb.DossierState)
DOSSIER_STATE = enum_values(pb.DossierState)
DISPOSITION_STATE_NAME = enum_names(pb.DispositionState)
EXPORT_FORMAT = enum_values(pb.ExportFormat)
# What each export is, whatever the archive's header says: the API promises these types.
EXPORT_MEDIA_TYPE: dict[ExportFormatName, str] = {
    "bagit": "application/zip",
    "eark": "application/zip",
    "pdf": "application/pdf",
}
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The media types a dossier list is sent as, by what browsers and tools call them.
_LIST_TYPES = {
    "text/csv": CSV,
    "application/csv": CSV,
    "text/comma-separated-values": CSV,
    XLSX: XLSX,
}
_LIST_SUFFIXES = {".csv": CSV, ".xlsx": XLSX}
# The kinds of document the contract spells out ("" is either, in requests only).
_KINDS: dict[str, DocumentKind] = {"incoming": "incoming", "outgoing": "outgoing"}


def dossier_list_type(content_type: str | None, filename: str | None) -> str | None:
    """The media type of a dossier list file: by its part's media type, else by its name
    (browsers and tools often send files as octet-stream); None when neither tells."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return _LIST_TYPES.get(media_type) or _LIST_SUFFIXES.get(
        PurePosixPath(filename or "").suffix.lower()
    )


def retention_years(years: int) -> int | None:
    """The contract's 0 is permanent: null, never a retention of no years."""
    return years or None


def entry_out(entry: pb.DossierListEntry) -> DossierListEntryOut:
    return DossierListEntryOut(
        code=entry.code,
        title=entry.title,
        retention=entry.retention,
        retention_years=retention_years(entry.retention_years),
        access=entry.access,
        creator_unit=entry.creator_unit,
        responsible=entry.responsible,
        notes=entry.notes,
        approved=entry.HasField("approved_at"),
        approved_at=optional_datetime(entry, "approved_at"),
        approved_by=entry.approved_by or None,
        dossier_id=entry.dossier_id or None,
    )


def problem_out(problem: pb.ImportProblem) -> DossierListProblemOut:
    return DossierListProblemOut(
        line=problem.line, field=problem.field or None, message=problem.message
    )


def import_out(answer: pb.ImportDossierListResponse) -> DossierListImportOut:
    return DossierListImportOut(
        applied=answer.applied,
        added=answer.added,
        updated=answer.updated,
        entries=[entry_out(e) for e in answer.entries],
        problems=[problem_out(p) for p in answer.problems],
    )


def file_out(file: pb.DossierFile) -> DossierFileOut:
    return DossierFileOut(
        sha256=file.sha256, size=file.size, content_type=file.content_type, file_name=file.file_name
    )


def optional_file(file: pb.DossierFile) -> DossierFileOut | None:
    """A file field that is set (an unset one reads as the empty message), else None."""
    return file_out(file) if file.sha256 else None


def document_out(document: pb.DossierDocument) -> DossierDocumentOut:
    return DossierDocumentOut(
        # A kind or secrecy the contract does not spell out is the service's fault: refused
        # here (a 500), never shown as something it is not.
        kind=_KINDS[document.kind],
        document_id=document.document_id,
        identifier=document.identifier or None,
        code_number=document.code_number,
        code_notation=document.code_notation,
        issued_date=optional_date(document.issued_date),
        issuer_name=document.issuer_name,
        document_type=document.document_type,
        subject=document.subject,
        page_amount=document.page_amount,
        secrecy=Secrecy(document.secrecy or Secrecy.NONE),
        files=[file_out(f) for f in document.files],
        added_by=document.added_by,
        added_at=optional_datetime(document, "added_at"),
    )


def dossier_out(dossier: pb.Dossier) -> DossierOut:
    return DossierOut(
        id=dossier.id,
        state=DOSSIER_STATE_NAME[dossier.state],
        year=dossier.year,
        list_code=dossier.list_code,
        file_code=dossier.file_code,
        title=dossier.title,
        retention=dossier.retention,
        retention_years=retention_years(dossier.retention_years),
        access=dossier.access,
        creator_unit=dossier.creator_unit,
        responsible=dossier.responsible,
        language=dossier.language,
        start_date=optional_date(dossier.start_date),
        end_date=optional_date(dossier.end_date),
        doc_total=dossier.doc_total,
        page_total=dossier.page_total,
        description=dossier.description,
        opened_by=dossier.opened_by,
        opened_at=optional_datetime(dossier, "opened_at"),
        closed_at=optional_datetime(dossier, "closed_at"),
        handover_due=optional_date(dossier.handover_due),
        handed_over_at=optional_datetime(dossier, "handed_over_at"),
        handed_over_by=dossier.handed_over_by or None,
        handover_record=optional_file(dossier.handover_record),
        retention_ends=optional_date(dossier.retention_ends),
        legal_hold=dossier.legal_hold,
        documents=[document_out(d) for d in dossier.documents],
    )


def fixity_out(answer: pb.CheckDossierFixityResponse) -> FixityOut:
    return FixityOut(
        ok=answer.ok,
        files=[
            FileFixityOut(sha256=f.sha256, ok=f.ok, problem=f.problem or None) for f in answer.files
        ],
    )


def disposition_item_out(item: pb.DispositionItem) -> DispositionItemOut:
    return DispositionItemOut(
        dossier_id=item.dossier_id,
        file_code=item.file_code,
        title=item.title,
        retention=item.retention,
        retention_years=retention_years(item.retention_years),
        end_date=optional_date(item.end_date),
        retention_ends=optional_date(item.retention_ends),
        doc_total=item.doc_total,
        page_total=item.page_total,
    )


def disposition_out(disposition: pb.Disposition) -> DispositionOut:
    return DispositionOut(
        id=disposition.id,
        state=DISPOSITION_STATE_NAME[disposition.state],
        reason=disposition.reason,
        proposed_by=disposition.proposed_by,
        proposed_at=optional_datetime(disposition, "proposed_at"),
        decided_by=disposition.decided_by or None,
        decided_at=optional_datetime(disposition, "decided_at"),
        decision_note=disposition.decision_note or None,
        executed_by=disposition.executed_by or None,
        executed_at=optional_datetime(disposition, "executed_at"),
        items=[disposition_item_out(i) for i in disposition.items],
        record=optional_file(disposition.record),
    )


def dry_run_out(answer: pb.DryRunDispositionResponse) -> DispositionDryRunOut:
    return DispositionDryRunOut(
        items=[disposition_item_out(i) for i in answer.items],
        document_ids=list(answer.document_ids),
        files=[DispositionFileOut(sha256=f.sha256, size=f.size, kept=f.kept) for f in answer.files],
        bytes_deleted=answer.bytes_deleted,
        blocked=list(answer.blocked),
    )


def audit_out(answer: pb.VerifyAuditResponse) -> AuditVerificationOut:
    broken = None
    if answer.HasField("broken"):
        link = answer.broken
        broken = BrokenAuditLinkOut(
            id=link.id,
            occurred_at=optional_datetime(link, "occurred_at"),
            action=link.action,
            resource=link.resource,
            problem=link.problem,
        )
    return AuditVerificationOut(
        ok=answer.ok, checked=answer.checked, head_hash=answer.head_hash, broken=broken
    )
