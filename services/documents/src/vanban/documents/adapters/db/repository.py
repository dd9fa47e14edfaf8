"""The registry's rows: documents with their files, versions, recipients, relations and
duplicate warnings (ADR 0009)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.documents.adapters.db import requests
from vanban.documents.adapters.db.archive import ARCHIVE_COLUMNS, archive_of, archive_record
from vanban.documents.adapters.db.indexing import number_key, search_head, search_vector
from vanban.documents.adapters.db.tables import (
    cancelled_numbers,
    document_archive,
    document_files,
    document_recipients,
    document_relations,
    document_signatures,
    document_texts,
    document_types,
    document_versions,
    documents,
    incoming_duplicates,
    registers,
)
from vanban.documents.adapters.db.text_jobs import queue_text_job
from vanban.documents.domain.document_types import DocumentType
from vanban.documents.domain.model import (
    DocumentStatus,
    Duplicate,
    FileRef,
    IncomingDocument,
    Priority,
    ReceivedVia,
    Relation,
    RelationKind,
    Signer,
    SignerCompetence,
)
from vanban.documents.domain.numbering import CancelledNumber, Register, RegisterKind
from vanban.documents.domain.outgoing import (
    Issue,
    OutgoingDocument,
    Recipient,
    Signature,
    SignatureKind,
    Version,
)
from vanban.documents.domain.ports import Linked
from vanban.documents.domain.search import SECRECY_RANKS
from vanban.platform.clearance import Secrecy


def secrecy_rank(secrecy: Secrecy) -> int:
    """The order of `Clearance` (0 none .. 3 top secret), stored for the visibility predicate:
    the one the search builder compares with (`search.SECRECY_RANKS`)."""
    return SECRECY_RANKS[secrecy.value]


class SqlCatalogue:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def document_type(self, name: str) -> DocumentType | None:
        row = (
            await self._session.execute(
                select(document_types.c.name, document_types.c.abbreviation).where(
                    document_types.c.name == name, document_types.c.active
                )
            )
        ).first()
        return None if row is None else DocumentType(name=row.name, abbreviation=row.abbreviation)

    async def registers(self) -> list[Register]:
        rows = await self._session.execute(
            select(registers).where(registers.c.active).order_by(registers.c.position)
        )
        return [register_from_row(row) for row in rows]


def register_from_row(row: Row[Any]) -> Register:
    return Register(
        id=row.id,
        name=row.name,
        kind=RegisterKind(row.kind),
        secrecy_levels=frozenset(Secrecy(level) for level in row.secrecy_levels),
        document_types=frozenset(row.document_types),
    )


def _signer_columns(signer: Signer) -> dict[str, Any]:
    return {
        "signer_competence": signer.competence.value if signer.competence else None,
        "signer_position": signer.position or None,
        "signer_name": signer.full_name or None,
    }


def _signer_of(row: Row[Any]) -> Signer:
    return Signer(
        competence=SignerCompetence(row.signer_competence) if row.signer_competence else None,
        position=row.signer_position or "",
        full_name=row.signer_name or "",
    )


def _file_of(row: Row[Any]) -> FileRef:
    return FileRef(
        sha256=row.sha256, size=row.size, content_type=row.content_type, file_name=row.file_name
    )


def _file_columns(file: FileRef) -> dict[str, Any]:
    return {
        "sha256": file.sha256,
        "size": file.size,
        "content_type": file.content_type,
        "file_name": file.file_name,
    }


async def _add_relations(
    session: AsyncSession, document_id: str, relations: Sequence[Relation]
) -> None:
    if not relations:
        return
    await session.execute(
        insert(document_relations),
        [
            {
                "document_id": document_id,
                "position": position,
                "kind": relation.kind.value,
                "target_id": relation.document_id or None,
                "target_identifier": relation.identifier or None,
                "target_organ_id": relation.organ_id or None,
                "target_code": relation.code or None,
                "target_issued_date": relation.issued_date,
            }
            for position, relation in enumerate(relations)
        ],
    )


async def _relations(session: AsyncSession, document_id: str) -> tuple[Relation, ...]:
    rows = await session.execute(
        select(document_relations)
        .where(document_relations.c.document_id == document_id)
        .order_by(document_relations.c.position)
    )
    return tuple(
        Relation(
            kind=RelationKind(row.kind),
            document_id=row.target_id or "",
            identifier=row.target_identifier or "",
            organ_id=row.target_organ_id or "",
            code=row.target_code or "",
            issued_date=row.target_issued_date,
        )
        for row in rows
    )


class SqlIncomingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, document: IncomingDocument) -> None:
        head = search_head(
            subject=document.subject,
            code_number=document.code_number,
            code_notation=document.code_notation,
            issuer_name=document.issuer_name,
            signer_name=document.signer.full_name,
        )
        await self._session.execute(
            insert(documents).values(
                id=document.id,
                direction="incoming",
                status=document.status.value,
                document_type=document.document_type,
                subject=document.subject,
                priority=document.priority.value,
                secrecy=document.secrecy.value,
                secrecy_rank=secrecy_rank(document.secrecy),
                code_number=document.code_number,
                code_notation=document.code_notation,
                number_key=number_key(document.code_number, document.code_notation),
                identifier=document.identifier or None,
                issuer_code=document.issuer_code,
                issuer_name=document.issuer_name,
                issued_date=document.issued_date,
                page_amount=document.page_amount or None,
                description=document.description or None,
                due_date=document.due_date,
                register_id=document.register_id,
                reg_year=document.arrival_year,
                reg_number=document.arrival_number,
                registered_at=document.arrived_at,
                reach=list(document.reach),
                search_head=head,
                search_tsv=search_vector(head),
                created_by=document.registered_by,
                created_at=document.arrived_at,
                updated_at=document.arrived_at,
                received_via=document.received_via.value,
                **_signer_columns(document.signer),
            )
        )
        await self._session.execute(
            insert(document_files),
            [
                {"document_id": document.id, "role": "main", "position": 0}
                | _file_columns(document.file),
                *(
                    {"document_id": document.id, "role": "attachment", "position": i}
                    | _file_columns(file)
                    for i, file in enumerate(document.attachments)
                ),
            ],
        )
        await _add_relations(self._session, document.id, document.relations)

    async def find_duplicates(self, document: IncomingDocument) -> list[Duplicate]:
        found: list[Duplicate] = []
        incoming = (documents.c.direction == "incoming") & (documents.c.id != document.id)
        if document.identifier:
            rows = await self._session.execute(
                select(documents.c.id, documents.c.secrecy)
                .where(incoming, documents.c.identifier == document.identifier)
                .order_by(documents.c.registered_at, documents.c.id)
                .limit(50)
            )
            found += [Duplicate(row.id, "identifier", Secrecy(row.secrecy)) for row in rows]
        key = number_key(document.code_number, document.code_notation)
        rows = await self._session.execute(
            select(documents.c.id, documents.c.secrecy)
            .where(
                incoming,
                documents.c.issuer_code == document.issuer_code,
                documents.c.number_key == key,
            )
            .order_by(documents.c.registered_at, documents.c.id)
            .limit(50)
        )
        found += [Duplicate(row.id, "number", Secrecy(row.secrecy)) for row in rows]
        return found

    async def remember_request(self, request_id: str, document_id: str, at: datetime) -> None:
        await requests.remember(self._session, request_id, document_id, at)

    async def add_duplicates(
        self, document_id: str, duplicates: Sequence[Duplicate], at: datetime
    ) -> None:
        if duplicates:
            await self._session.execute(
                insert(incoming_duplicates),
                [
                    {
                        "document_id": document_id,
                        "duplicate_of": d.document_id,
                        "rule": d.rule,
                        "detected_at": at,
                    }
                    for d in duplicates
                ],
            )

    async def get(self, document_id: str, *, for_update: bool = False) -> IncomingDocument | None:
        query = select(documents).where(
            documents.c.id == document_id, documents.c.direction == "incoming"
        )
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        files = (
            await self._session.execute(
                select(document_files)
                .where(document_files.c.document_id == document_id)
                .order_by(document_files.c.role.desc(), document_files.c.position)
            )
        ).all()
        # In the order registration returned them: identifier matches first, then number
        # matches, each oldest first.
        duplicates = await self._session.execute(
            select(
                incoming_duplicates.c.duplicate_of, incoming_duplicates.c.rule, documents.c.secrecy
            )
            .join(documents, documents.c.id == incoming_duplicates.c.duplicate_of)
            .where(incoming_duplicates.c.document_id == document_id)
            .order_by(
                incoming_duplicates.c.detected_at,
                incoming_duplicates.c.rule,
                documents.c.registered_at,
                documents.c.id,
            )
        )
        return IncomingDocument(
            id=row.id,
            register_id=row.register_id,
            arrival_number=row.reg_number,
            arrival_year=row.reg_year,
            arrived_at=row.registered_at,
            issuer_code=row.issuer_code,
            issuer_name=row.issuer_name,
            code_number=row.code_number,
            code_notation=row.code_notation,
            issued_date=row.issued_date,
            document_type=row.document_type,
            subject=row.subject,
            priority=Priority(row.priority),
            secrecy=Secrecy(row.secrecy),
            file=next(_file_of(f) for f in files if f.role == "main"),
            registered_by=row.created_by,
            received_via=ReceivedVia(row.received_via),
            status=DocumentStatus(row.status),
            identifier=row.identifier or "",
            signer=_signer_of(row),
            relations=await _relations(self._session, document_id),
            attachments=tuple(_file_of(f) for f in files if f.role == "attachment"),
            page_amount=row.page_amount or 0,
            description=row.description or "",
            due_date=row.due_date,
            duplicates=tuple(
                Duplicate(d.duplicate_of, d.rule, Secrecy(d.secrecy)) for d in duplicates
            ),
            reach=tuple(row.reach),
            archive=await archive_of(self._session, document_id),
        )


class SqlOutgoingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, document: OutgoingDocument) -> None:
        head = search_head(subject=document.subject, signer_name=document.signer.full_name)
        await self._session.execute(
            insert(documents).values(
                id=document.id,
                direction="outgoing",
                status=document.status.value,
                document_type=document.document_type,
                subject=document.subject,
                priority=document.priority.value,
                secrecy=document.secrecy.value,
                secrecy_rank=secrecy_rank(document.secrecy),
                description=document.description or None,
                unit_code=document.drafting_unit or None,
                reach=list(document.reach),
                search_head=head,
                search_tsv=search_vector(head),
                created_by=document.created_by,
                created_at=document.created_at,
                updated_at=document.created_at,
                issued_amount=document.issued_amount or None,
                current_version=document.current.version,
                **_signer_columns(document.signer),
            )
        )
        await self._insert_version(document.id, document.current)
        await self._session.execute(
            insert(document_recipients),
            [
                {
                    "document_id": document.id,
                    "position": i,
                    "organ_id": r.organ_id,
                    "organ_name": r.organ_name or None,
                }
                for i, r in enumerate(document.recipients)
            ],
        )
        await _add_relations(self._session, document.id, document.relations)

    async def _insert_version(self, document_id: str, version: Version) -> None:
        await self._session.execute(
            insert(document_versions).values(
                document_id=document_id,
                version=version.version,
                uploaded_by=version.uploaded_by,
                uploaded_at=version.uploaded_at,
                note=version.note or None,
                **_file_columns(version.file),
            )
        )

    async def add_version(self, document: OutgoingDocument) -> None:
        await self._insert_version(document.id, document.current)
        await self._session.execute(
            update(documents)
            .where(documents.c.id == document.id, documents.c.status == "draft")
            .values(
                current_version=document.current.version,
                updated_at=document.current.uploaded_at,
                row_version=documents.c.row_version + 1,
            )
        )

    async def mark_issued(self, document: OutgoingDocument) -> None:
        issue = document.issue
        assert issue is not None
        head = search_head(
            subject=document.subject,
            code_number=issue.code_number,
            code_notation=issue.code_notation,
            issuer_name=issue.issuer_name,
            signer_name=document.signer.full_name,
        )
        # The text already extracted from the draft stays searchable; a text job finishing
        # later reads the new head itself.
        body = (
            await self._session.execute(
                select(document_texts.c.text).where(document_texts.c.document_id == document.id)
            )
        ).scalar_one_or_none()
        result = await self._session.execute(
            update(documents)
            .where(documents.c.id == document.id, documents.c.status == "draft")
            .values(
                status=document.status.value,
                register_id=issue.register_id,
                reg_year=issue.year,
                reg_number=issue.number,
                registered_at=issue.issued_at,
                code_number=issue.code_number,
                code_notation=issue.code_notation,
                number_key=number_key(issue.code_number, issue.code_notation),
                identifier=issue.identifier,
                issuer_code=issue.issuer_code,
                issuer_name=issue.issuer_name,
                issued_date=issue.issued_date,
                issued_by=issue.issued_by,
                search_head=head,
                search_tsv=search_vector(head, body or ""),
                updated_at=issue.issued_at,
                row_version=documents.c.row_version + 1,
            )
        )
        assert result.rowcount == 1, "the draft row is locked by this transaction"  # type: ignore[attr-defined]

    async def mark_cancelled(self, document: OutgoingDocument) -> None:
        assert document.cancellation is not None
        result = await self._session.execute(
            update(documents)
            .where(documents.c.id == document.id, documents.c.status == "issued")
            .values(
                status=document.status.value,
                updated_at=document.cancellation.at,
                row_version=documents.c.row_version + 1,
            )
        )
        assert result.rowcount == 1, "the issued row is locked by this transaction"  # type: ignore[attr-defined]

    async def add_signature(self, document_id: str, signature: Signature, *, at: datetime) -> None:
        await self._session.execute(
            insert(document_signatures).values(
                document_id=document_id,
                id=signature.id,
                version=signature.version,
                kind=signature.kind.value,
                source_sha256=signature.source_sha256,
                signed_by=signature.signed_by,
                signed_at=signature.signed_at,
                certificate_subject=signature.certificate_subject or None,
                **_file_columns(signature.file),
            )
        )
        result = await self._session.execute(
            update(documents)
            .where(documents.c.id == document_id)
            .values(updated_at=at, row_version=documents.c.row_version + 1)
        )
        assert result.rowcount == 1, "the document row is locked by this transaction"  # type: ignore[attr-defined]

    async def _signatures(self, document_id: str) -> tuple[Signature, ...]:
        s = document_signatures.c
        rows = await self._session.execute(
            select(document_signatures)
            .where(s.document_id == document_id)
            .order_by(s.signed_at, s.id)
        )
        return tuple(
            Signature(
                id=row.id,
                version=row.version,
                kind=SignatureKind(row.kind),
                file=_file_of(row),
                source_sha256=row.source_sha256,
                signed_by=row.signed_by,
                signed_at=row.signed_at,
                certificate_subject=row.certificate_subject or "",
            )
            for row in rows
        )

    async def get(self, document_id: str, *, for_update: bool = False) -> OutgoingDocument | None:
        query = select(documents).where(
            documents.c.id == document_id, documents.c.direction == "outgoing"
        )
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        versions = await self._session.execute(
            select(document_versions)
            .where(document_versions.c.document_id == document_id)
            .order_by(document_versions.c.version)
        )
        recipients = await self._session.execute(
            select(document_recipients)
            .where(document_recipients.c.document_id == document_id)
            .order_by(document_recipients.c.position)
        )
        issue = None
        if row.reg_number is not None:
            issue = Issue(
                register_id=row.register_id,
                year=row.reg_year,
                number=row.reg_number,
                code_number=row.code_number,
                code_notation=row.code_notation,
                issued_date=row.issued_date,
                identifier=row.identifier,
                issuer_code=row.issuer_code,
                issuer_name=row.issuer_name or "",
                issued_at=row.registered_at,
                issued_by=row.issued_by or "",
            )
        return OutgoingDocument(
            id=row.id,
            status=DocumentStatus(row.status),
            document_type=row.document_type,
            subject=row.subject,
            priority=Priority(row.priority),
            secrecy=Secrecy(row.secrecy),
            recipients=tuple(Recipient(r.organ_id, r.organ_name or "") for r in recipients),
            signer=_signer_of(row),
            drafting_unit=row.unit_code or "",
            versions=tuple(
                Version(v.version, _file_of(v), v.uploaded_by, v.uploaded_at, v.note or "")
                for v in versions
            ),
            relations=await _relations(self._session, document_id),
            created_by=row.created_by,
            created_at=row.created_at,
            description=row.description or "",
            issued_amount=row.issued_amount or 0,
            issue=issue,
            reach=tuple(row.reach),
            cancellation=(
                await _cancellation(self._session, issue)
                if issue is not None and row.status == "cancelled"
                else None
            ),
            signatures=await self._signatures(document_id),
            archive=await archive_of(self._session, document_id),
        )


class SqlDocumentLinks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def existing(
        self, document_ids: Sequence[str], *, locking: Collection[str] = ()
    ) -> dict[str, Linked]:
        if locking:
            await self._session.execute(
                select(documents.c.id)
                .where(documents.c.id.in_(sorted(locking)))
                .order_by(documents.c.id)
                .with_for_update()
            )
        # Read after the locks are held: what a transaction that held one committed is seen.
        rows = await self._session.execute(
            select(
                documents.c.id,
                documents.c.direction,
                documents.c.secrecy,
                documents.c.issuer_code,
                documents.c.reach,
                documents.c.status,
                *ARCHIVE_COLUMNS,
            )
            .outerjoin(document_archive, document_archive.c.document_id == documents.c.id)
            .where(documents.c.id.in_(list(document_ids)))
        )
        return {
            row.id: Linked(
                row.direction,
                Secrecy(row.secrecy),
                row.issuer_code,
                tuple(row.reach),
                DocumentStatus(row.status),
                archive_record(row),
            )
            for row in rows
        }

    async def mark_recalled(
        self, document_ids: Sequence[str], recalled_by: str
    ) -> list[tuple[str, str]]:
        if not document_ids:
            return []
        rows = await self._session.execute(
            update(documents)
            .where(
                documents.c.id.in_(list(document_ids)),
                documents.c.status.in_(("registered", "issued")),
            )
            .values(
                status="recalled",
                # None: recalled by its sender over the exchange, not by a document here.
                recalled_by=recalled_by or None,
                row_version=documents.c.row_version + 1,
            )
            .returning(documents.c.id, documents.c.direction)
        )
        return [(row.id, row.direction) for row in rows]


class SqlTextJobs:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def queue(self, *, document_id: str, sha256: str, now: datetime) -> None:
        await queue_text_job(self._session, document_id=document_id, sha256=sha256, now=now)


async def _cancellation(session: AsyncSession, issue: Issue) -> CancelledNumber | None:
    """The register's record of a cancelled number: its reason, who and when."""
    row = (
        await session.execute(
            select(cancelled_numbers).where(
                cancelled_numbers.c.register_id == issue.register_id,
                cancelled_numbers.c.year == issue.year,
                cancelled_numbers.c.number == issue.number,
            )
        )
    ).first()
    if row is None:
        return None
    return CancelledNumber(
        register_id=row.register_id,
        year=row.year,
        number=row.number,
        reason=row.reason,
        cancelled_by=row.cancelled_by,
        at=row.cancelled_at,
    )
