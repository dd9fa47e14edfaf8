from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.documents.adapters.db.registers import take_number
from vanban.documents.adapters.db.tables import incoming_documents
from vanban.documents.domain.model import FileRef, IncomingDocument, Priority
from vanban.platform.clearance import Secrecy


class SqlIncomingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_arrival_number(self, *, year: int, register: str) -> int:
        return await take_number(self._session, register, year)

    async def add(self, document: IncomingDocument) -> None:
        await self._session.execute(
            insert(incoming_documents).values(
                id=document.id,
                arrival_year=document.arrival_year,
                arrival_number=document.arrival_number,
                arrived_at=document.arrived_at,
                issuer_code=document.issuer_code,
                issuer_name=document.issuer_name,
                code_number=document.code_number,
                code_notation=document.code_notation,
                issued_date=document.issued_date,
                document_type=document.document_type,
                subject=document.subject,
                priority=document.priority.value,
                secrecy=document.secrecy.value,
                file_sha256=document.file.sha256,
                file_size=document.file.size,
                file_content_type=document.file.content_type,
                file_name=document.file.file_name,
                registered_by=document.registered_by,
            )
        )

    async def get(self, document_id: str) -> IncomingDocument | None:
        row = (
            await self._session.execute(
                select(incoming_documents).where(incoming_documents.c.id == document_id)
            )
        ).first()
        if row is None:
            return None
        return IncomingDocument(
            id=row.id,
            arrival_number=row.arrival_number,
            arrival_year=row.arrival_year,
            arrived_at=row.arrived_at,
            issuer_code=row.issuer_code,
            issuer_name=row.issuer_name,
            code_number=row.code_number,
            code_notation=row.code_notation,
            issued_date=row.issued_date,
            document_type=row.document_type,
            subject=row.subject,
            priority=Priority(row.priority),
            secrecy=Secrecy(row.secrecy),
            file=FileRef(
                sha256=row.file_sha256,
                size=row.file_size,
                content_type=row.file_content_type,
                file_name=row.file_name,
            ),
            registered_by=row.registered_by,
        )
