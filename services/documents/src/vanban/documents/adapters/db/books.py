"""Registers, document types and the rows of a register book, read from the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, literal, literal_column, null, select, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.documents.adapters.db.repository import register_from_row
from vanban.documents.adapters.db.tables import (
    cancelled_numbers,
    document_recipients,
    document_types,
    documents,
    registers,
)
from vanban.documents.domain.document_types import DocumentType
from vanban.documents.domain.numbering import Register, RegisterKind, format_number
from vanban.documents.domain.register_book import BookRow

# Rows fetched from the server-side cursor at a time: the book never holds more.
BOOK_BATCH = 500


class SqlBookRepository:
    """`tz`: the agency's calendar, which dates the registrations in the book."""

    def __init__(self, session: AsyncSession, *, tz: ZoneInfo) -> None:
        self._session = session
        self._tz = tz

    async def registers(self) -> list[Register]:
        """The active registers in the agency's order."""
        rows = await self._session.execute(
            select(registers).where(registers.c.active).order_by(registers.c.position)
        )
        return [register_from_row(row) for row in rows]

    async def register(self, register_id: str) -> Register | None:
        """The register of this id, active or not: an old register's books are still printed."""
        row = (
            await self._session.execute(select(registers).where(registers.c.id == register_id))
        ).first()
        return None if row is None else register_from_row(row)

    async def document_types(self) -> list[DocumentType]:
        rows = await self._session.execute(
            select(document_types.c.name, document_types.c.abbreviation)
            .where(document_types.c.active)
            .order_by(document_types.c.position, document_types.c.name)
        )
        return [DocumentType(name=row.name, abbreviation=row.abbreviation) for row in rows]

    async def book_rows(
        self, register: Register, *, start: datetime, until: datetime
    ) -> AsyncIterator[list[BookRow]]:
        """The numbers of the register taken in [start, until), in number order, in batches,
        from a server-side cursor (the session's transaction must stay open while iterating).

        Each document registered or issued in the period, with the cancellation of its number
        if there is one (`cancelled_numbers` holds the reason, ADR 0009); and a number
        cancelled in the period whose document is not here (none should be: a number is taken
        with its document), so that no number of the series silently drops out of the book.
        """
        result = await self._session.stream(
            _book_query(register.id, start, until).execution_options(yield_per=BOOK_BATCH)
        )
        async for batch in result.partitions(BOOK_BATCH):
            yield [_book_row(row, register.kind, self._tz) for row in batch]


def _book_query(register_id: str, start: datetime, until: datetime) -> Select[Any]:
    d, c, r = documents, cancelled_numbers, document_recipients
    recipients = (
        select(
            func.string_agg(
                func.coalesce(r.c.organ_name, r.c.organ_id),
                aggregate_order_by(literal_column("'; '"), r.c.position),
            )
        )
        .where(r.c.document_id == d.c.id)
        .scalar_subquery()
    )
    numbered = (
        select(
            d.c.reg_year.label("year"),
            d.c.reg_number.label("number"),
            d.c.registered_at.label("at"),
            d.c.code_number,
            d.c.code_notation,
            d.c.issued_date,
            d.c.issuer_name,
            d.c.document_type,
            d.c.subject,
            d.c.signer_competence,
            d.c.signer_position,
            d.c.signer_name,
            recipients.label("recipients"),
            d.c.unit_code,
            d.c.issued_amount,
            d.c.status,
            c.c.reason.label("cancel_reason"),
            (c.c.number.is_not(None)).label("number_cancelled"),
        )
        .select_from(
            d.outerjoin(
                c,
                and_(
                    c.c.register_id == d.c.register_id,
                    c.c.year == d.c.reg_year,
                    c.c.number == d.c.reg_number,
                ),
            )
        )
        .where(
            d.c.register_id == register_id,
            d.c.status != "draft",
            d.c.registered_at >= start,
            d.c.registered_at < until,
        )
    )
    orphans = select(
        c.c.year,
        c.c.number,
        c.c.cancelled_at.label("at"),
        null().label("code_number"),
        null().label("code_notation"),
        null().label("issued_date"),
        null().label("issuer_name"),
        null().label("document_type"),
        null().label("subject"),
        null().label("signer_competence"),
        null().label("signer_position"),
        null().label("signer_name"),
        null().label("recipients"),
        null().label("unit_code"),
        null().label("issued_amount"),
        literal("cancelled").label("status"),
        c.c.reason.label("cancel_reason"),
        literal(True).label("number_cancelled"),
    ).where(
        c.c.register_id == register_id,
        c.c.cancelled_at >= start,
        c.c.cancelled_at < until,
        ~exists().where(
            d.c.register_id == c.c.register_id,
            d.c.reg_year == c.c.year,
            d.c.reg_number == c.c.number,
        ),
    )
    book = union_all(numbered, orphans).subquery()
    return select(book).order_by(book.c.year, book.c.number)


def _book_row(row: Any, kind: RegisterKind, tz: ZoneInfo) -> BookRow:
    cancelled = bool(row.number_cancelled) or row.status == "cancelled"
    if row.code_number and row.code_notation:
        code = f"{row.code_number}/{row.code_notation}"
    else:
        code = row.code_number or format_number(row.number)
    signer = ", ".join(
        part
        for part in (
            row.signer_name,
            " ".join(p for p in (row.signer_competence, row.signer_position) if p),
        )
        if part
    )
    return BookRow(
        year=row.year,
        number=row.number,
        registered_on=None if row.at is None else row.at.astimezone(tz).date(),
        code=code,
        issued_date=row.issued_date,
        issuer=row.issuer_name or "",
        document_type=row.document_type or "",
        subject=row.subject or "",
        signer=signer,
        # Incoming: the unit it went to (the lead unit once assigned); outgoing: nơi nhận, and
        # the drafting unit keeps the filed copy.
        recipients=(row.unit_code if kind is RegisterKind.INCOMING else row.recipients) or "",
        keeper="" if kind is RegisterKind.INCOMING else (row.unit_code or ""),
        copies=row.issued_amount,
        note="Đã thu hồi" if row.status == "recalled" else "",
        cancelled=cancelled,
        cancel_reason=row.cancel_reason,
    )
