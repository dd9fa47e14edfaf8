"""Records between the domain and the RecordsService messages."""

from __future__ import annotations

from datetime import date, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.archive.domain.dossier_list import ListEntry
from vanban.archive.domain.dossiers import ListedEntry
from vanban.archive.domain.records import (
    Disposition,
    DispositionItem,
    DispositionState,
    Dossier,
    DossierDocument,
    DossierFile,
    DossierState,
)
from vanban.contracts.archive.v1 import records_pb2 as pb

STATE_TO_PB = {
    DossierState.OPEN: pb.DOSSIER_STATE_OPEN,
    DossierState.CLOSED: pb.DOSSIER_STATE_CLOSED,
    DossierState.HANDED_OVER: pb.DOSSIER_STATE_HANDED_OVER,
    DossierState.DISPOSED: pb.DOSSIER_STATE_DISPOSED,
}
STATE_FROM_PB = {value: key for key, value in STATE_TO_PB.items()}
DISPOSITION_STATE_TO_PB = {
    DispositionState.PROPOSED: pb.DISPOSITION_STATE_PROPOSED,
    DispositionState.APPROVED: pb.DISPOSITION_STATE_APPROVED,
    DispositionState.REFUSED: pb.DISPOSITION_STATE_REFUSED,
    DispositionState.EXECUTED: pb.DISPOSITION_STATE_EXECUTED,
}


def timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


def entry_to_pb(listed: ListedEntry) -> pb.DossierListEntry:
    entry = listed.entry
    return pb.DossierListEntry(
        year=entry.year,
        code=entry.code,
        title=entry.title,
        retention=entry.retention,
        retention_years=entry.retention_years or 0,
        access=entry.access,
        creator_unit=entry.creator_unit,
        responsible=entry.responsible,
        notes=entry.notes,
        approved_at=timestamp(listed.approved_at),
        approved_by=listed.approved_by or "",
        dossier_id=listed.dossier_id,
    )


def plain_entry_to_pb(entry: ListEntry) -> pb.DossierListEntry:
    return entry_to_pb(ListedEntry(entry=entry, approved_at=None, approved_by=None, dossier_id=""))


def file_to_pb(file: DossierFile) -> pb.DossierFile:
    return pb.DossierFile(
        sha256=file.sha256, size=file.size, content_type=file.content_type, file_name=file.file_name
    )


def document_to_pb(document: DossierDocument) -> pb.DossierDocument:
    return pb.DossierDocument(
        kind=document.kind.value,
        document_id=document.document_id,
        identifier=document.identifier,
        code_number=document.code_number,
        code_notation=document.code_notation,
        issued_date=day(document.issued_date),
        issuer_name=document.issuer_name,
        document_type=document.document_type,
        subject=document.subject,
        page_amount=document.page_amount,
        secrecy=document.secrecy.value,
        files=[file_to_pb(f) for f in document.files],
        added_by=document.added_by,
        added_at=timestamp(document.added_at),
    )


def dossier_to_pb(dossier: Dossier, *, documents: bool = True) -> pb.Dossier:
    return pb.Dossier(
        id=dossier.id,
        state=STATE_TO_PB[dossier.state],
        year=dossier.year,
        list_code=dossier.list_code,
        file_code=dossier.file_code,
        title=dossier.title,
        retention=dossier.retention,
        retention_years=dossier.retention_years or 0,
        access=dossier.access,
        creator_unit=dossier.creator_unit,
        responsible=dossier.responsible,
        language=dossier.language,
        start_date=day(dossier.start_date),
        end_date=day(dossier.end_date),
        doc_total=dossier.doc_total,
        page_total=dossier.page_total,
        description=dossier.description,
        opened_by=dossier.opened_by,
        opened_at=timestamp(dossier.opened_at),
        closed_at=timestamp(dossier.closed_at),
        handover_due=day(dossier.handover_due),
        handed_over_at=timestamp(dossier.handed_over_at),
        handed_over_by=dossier.handed_over_by,
        handover_record=file_to_pb(dossier.handover_record) if dossier.handover_record else None,
        retention_ends=day(dossier.retention_ends),
        legal_hold=dossier.legal_hold,
        documents=[document_to_pb(d) for d in dossier.documents] if documents else [],
    )


def item_to_pb(item: DispositionItem) -> pb.DispositionItem:
    return pb.DispositionItem(
        dossier_id=item.dossier_id,
        file_code=item.file_code,
        title=item.title,
        retention=item.retention,
        retention_years=item.retention_years or 0,
        end_date=day(item.end_date),
        retention_ends=day(item.retention_ends),
        doc_total=item.doc_total,
        page_total=item.page_total,
    )


def disposition_to_pb(disposition: Disposition) -> pb.Disposition:
    return pb.Disposition(
        id=disposition.id,
        state=DISPOSITION_STATE_TO_PB[disposition.state],
        reason=disposition.reason,
        proposed_by=disposition.proposed_by,
        proposed_at=timestamp(disposition.proposed_at),
        decided_by=disposition.decided_by,
        decided_at=timestamp(disposition.decided_at),
        decision_note=disposition.decision_note,
        executed_by=disposition.executed_by,
        executed_at=timestamp(disposition.executed_at),
        items=[item_to_pb(i) for i in disposition.items],
        record=file_to_pb(disposition.record) if disposition.record else None,
    )
