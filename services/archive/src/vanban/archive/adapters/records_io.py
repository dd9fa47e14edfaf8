"""The records' files: what the exports and record PDFs are made from (the domain's dossiers as
the export package's plain values), keeping the PDFs the archive makes itself, and reading
objects back with their SHA-256 checked."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from vanban.archive.adapters.export.model import (
    Coded,
    DispositionRecord,
    DossierMetadata,
    ExportDocument,
    ExportFile,
    HandoverRecord,
)
from vanban.archive.adapters.export.records import disposition_record_pdf, handover_record_pdf
from vanban.archive.adapters.transaction import SERVICE_ACTOR, ArchiveTransaction
from vanban.archive.domain import service
from vanban.archive.domain.dossier_list import AccessRegime, Retention
from vanban.archive.domain.model import Content
from vanban.archive.domain.ports import ObjectStore
from vanban.archive.domain.records import Disposition, DispositionItem, Dossier, DossierFile
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import DomainError
from vanban.platform.pdf import UnreadablePdfError, inspect_async

logger = logging.getLogger(__name__)


def _coded_retention(code: str, years: int | None) -> Coded:
    try:
        label = Retention(code).label
    except ValueError:
        label = code
    if code == Retention.OTHER and years:
        label = f"{years} năm"
    return Coded(code=code, label=label)


def _coded_access(code: str) -> Coded:
    try:
        return Coded(code=code, label=AccessRegime(code).label)
    except ValueError:
        return Coded(code=code, label=code)


def dossier_metadata(dossier: Dossier, *, agency_code: str, agency_name: str) -> DossierMetadata:
    return DossierMetadata(
        dossier_id=dossier.id,
        agency_code=agency_code,
        agency_name=agency_name,
        year=dossier.year,
        file_code=dossier.file_code,
        title=dossier.title,
        maintenance=_coded_retention(dossier.retention, dossier.retention_years),
        rights=_coded_access(dossier.access),
        creator=dossier.creator_unit,
        language=dossier.language,
        start_date=dossier.start_date,
        end_date=dossier.end_date,
        doc_total=dossier.doc_total,
        page_total=dossier.page_total,
        description=dossier.description,
    )


def export_documents(dossier: Dossier) -> list[ExportDocument]:
    return [
        ExportDocument(
            position=position,
            kind=document.kind.value,
            document_id=document.document_id,
            identifier=document.identifier,
            code_number=document.code_number,
            code_notation=document.code_notation,
            issued_date=document.issued_date,
            issuer_name=document.issuer_name,
            document_type=document.document_type,
            subject=document.subject,
            page_amount=document.page_amount,
            secrecy=document.secrecy.value,
            files=tuple(
                ExportFile(
                    sha256=f.sha256, size=f.size, content_type=f.content_type, name=f.file_name
                )
                for f in document.files
            ),
        )
        for position, document in enumerate(dossier.documents, start=1)
    ]


def _item_metadata(item: DispositionItem, *, agency_code: str, agency_name: str) -> DossierMetadata:
    return DossierMetadata(
        dossier_id=item.dossier_id,
        agency_code=agency_code,
        agency_name=agency_name,
        year=item.end_date.year if item.end_date else 0,
        file_code=item.file_code,
        title=item.title,
        maintenance=_coded_retention(item.retention, item.retention_years),
        rights=Coded(code="", label=""),
        creator="",
        language="vi",
        start_date=None,
        end_date=item.end_date,
        doc_total=item.doc_total,
        page_total=item.page_total,
        description="",
    )


class PdfRenderer:
    """The handover and disposition records as PDFs (the export package's typesetting)."""

    def __init__(self, *, agency_code: str) -> None:
        self._agency_code = agency_code

    def handover_record(
        self, *, agency_name: str, dossier: Dossier, handed_by: str, received_by: str, at: datetime
    ) -> bytes:
        return handover_record_pdf(
            HandoverRecord(
                agency_code=self._agency_code,
                agency_name=agency_name,
                handover_id=dossier.id,
                handed_over_on=at.date(),
                handing_unit=dossier.creator_unit,
                handing_person=handed_by,
                archivist=received_by,
                dossiers=(
                    dossier_metadata(
                        dossier, agency_code=self._agency_code, agency_name=agency_name
                    ),
                ),
            )
        )

    def disposition_record(
        self,
        *,
        agency_name: str,
        disposition: Disposition,
        approved_by: str,
        executed_by: str,
        at: datetime,
    ) -> bytes:
        return disposition_record_pdf(
            DispositionRecord(
                agency_code=self._agency_code,
                agency_name=agency_name,
                proposal_id=disposition.id,
                reason=disposition.reason,
                approver_name=approved_by,
                approved_on=(disposition.decided_at or at).date(),
                destroyed_on=at.date(),
                performed_by=executed_by,
                dossiers=tuple(
                    _item_metadata(i, agency_code=self._agency_code, agency_name=agency_name)
                    for i in disposition.items
                ),
            )
        )


class StoredRecordFiles:
    """Keeps a PDF the archive made as an object claimed by the record it belongs to."""

    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        store: ObjectStore,
        spool_dir: Path | None,
    ) -> None:
        self._uow_factory = uow_factory
        self._store = store
        self._spool_dir = spool_dir

    async def put(
        self, data: bytes, *, content_type: str, file_name: str, claimed_by: str
    ) -> DossierFile:
        transactions = ArchiveTransaction.factory(self._uow_factory, actor=SERVICE_ACTOR)
        with tempfile.NamedTemporaryFile(dir=self._spool_dir, delete=False) as spool:
            spool.write(data)
            path = Path(spool.name)
        try:
            now = datetime.now().astimezone()
            obj, _, _ = await service.store_object(
                transactions=transactions,
                store=self._store,
                content=Content(
                    sha256=hashlib.sha256(data).hexdigest(), size=len(data), spool=path
                ),
                content_type=content_type,
                uploaded_by=SERVICE_ACTOR,
                now=now,
            )
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        async with transactions() as tx:
            await service.claim_object(tx=tx, sha256=obj.sha256, claimed_by=claimed_by, now=now)
            await tx.commit()
        return DossierFile(
            sha256=obj.sha256, size=obj.size, content_type=content_type, file_name=file_name
        )


def verified_reader(
    uow_factory: Callable[[], UnitOfWork], store: ObjectStore
) -> Callable[[str], AsyncIterator[bytes]]:
    """Reads an object with its SHA-256 checked as the last bytes arrive."""

    async def read(sha256: str) -> AsyncIterator[bytes]:
        _, chunks = await service.open_object(
            transactions=ArchiveTransaction.factory(uow_factory, actor=SERVICE_ACTOR),
            store=store,
            sha256=sha256,
        )
        async for chunk in chunks:
            yield chunk

    return read


class PdfPages:
    """Counts the pages of a kept PDF (an outgoing document's record carries no page count):
    the bytes go to a spool file, PDFium counts; anything it cannot open counts 0."""

    def __init__(
        self, *, read: Callable[[str], AsyncIterator[bytes]], spool_dir: Path | None
    ) -> None:
        self._read = read
        self._spool_dir = spool_dir

    async def pages(self, file: DossierFile) -> int:
        if file.content_type != "application/pdf":
            return 0
        with tempfile.TemporaryDirectory(dir=self._spool_dir, prefix="pages-") as workdir:
            path = Path(workdir) / "file.pdf"
            try:
                with path.open("wb") as sink:
                    async for chunk in self._read(file.sha256):
                        await asyncio.to_thread(sink.write, chunk)
                return (await inspect_async(str(path))).pages
            except (UnreadablePdfError, DomainError):
                logger.warning(
                    "could not count the pages of a kept PDF", extra={"sha256": file.sha256}
                )
                return 0
