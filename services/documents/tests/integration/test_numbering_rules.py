"""Acceptance of the numbering rules, through the domain's use cases on a real PostgreSQL
transaction: the year turns over at midnight Vietnam time, secret documents are numbered in a
series of their own, and numbers are written the decree's way."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from vanban.documents.adapters.db.tables import counters, platform_tables
from vanban.documents.adapters.peers import NoApprovals
from vanban.documents.adapters.transaction import DocumentsTransaction
from vanban.documents.app import MIGRATIONS
from vanban.documents.domain import service
from vanban.documents.domain.model import FileRef, IncomingDocument, IncomingDraft, Priority
from vanban.documents.domain.numbering import VIETNAM
from vanban.documents.domain.outgoing import OutgoingDocument, OutgoingDraft, Recipient
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.platform.caller import Caller
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.db import UnitOfWork, session_factory
from vanban.platform.migrations import upgrade_async
from vanban.platform.testing import DEMO_AGENCY

# The last second of 2025 and the first of 2026 in Hanoi; the second is still 2025 in UTC.
LAST_SECOND = datetime(2025, 12, 31, 23, 59, 59, tzinfo=VIETNAM)
NEW_YEAR = datetime(2026, 1, 1, 0, 0, 0, tzinfo=VIETNAM)
assert NEW_YEAR == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)

CLERK = Caller(
    agency_code=DEMO_AGENCY,
    subject="vt-lan",
    roles=frozenset({"clerk"}),
    units=("VP",),
    clearance=Clearance.TOP_SECRET,
)
READER = service.Reader(
    roles=CLERK.roles, clearance=CLERK.clearance, person_id=CLERK.subject, units=CLERK.units
)
ISSUER = service.Issuer(
    organ_id=DEMO_AGENCY,
    name="Ủy ban nhân dân tỉnh Demo",
    abbreviation="UBND",
    unit_abbreviation="VP",
)


@pytest.fixture
async def engine(make_database: DatabaseFactory) -> AsyncIterator[AsyncEngine]:
    url = make_database("documents_numbering_rules")
    await upgrade_async(url, MIGRATIONS)
    created = create_async_engine(url)
    yield created
    await created.dispose()


def file(name: str) -> FileRef:
    return FileRef(
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        size=100,
        content_type="application/pdf",
        file_name=f"{name}.pdf",
    )


class Registry:
    """The use cases, each in a transaction of its own, as the gRPC servicer runs them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(
            self._sessions, tables=platform_tables, source=f"/agencies/{DEMO_AGENCY}/documents"
        )

    async def register(self, now: datetime, **overrides: Any) -> IncomingDocument:
        draft = IncomingDraft(
            issuer_code="000.00.00.G22",
            issuer_name="Bộ Nội vụ",
            code_number="12",
            code_notation="BNV-VP",
            issued_date="2025-12-30",
            document_type="Công văn",
            subject="Về việc tổng kết năm",
            priority=Priority.NORMAL,
            secrecy=Secrecy.NONE,
            file=file(f"den-{now.isoformat()}"),
        )
        values = {f: getattr(draft, f) for f in draft.__slots__} | overrides
        async with self._uow() as uow:
            return await service.register_incoming(
                tx=DocumentsTransaction(uow, caller=CLERK),
                draft=IncomingDraft(**values),
                registered_by=CLERK.subject,
                now=now,
                clearance=CLERK.clearance,
            )

    async def issue(
        self, now: datetime, *, document_type: str = "Quyết định", secrecy: Secrecy = Secrecy.NONE
    ) -> OutgoingDocument:
        async with self._uow() as uow:
            draft = await service.draft_outgoing(
                tx=DocumentsTransaction(uow, caller=CLERK),
                draft=OutgoingDraft(
                    document_type=document_type,
                    subject="Về việc tổng kết năm",
                    priority=Priority.NORMAL,
                    secrecy=secrecy,
                    recipients=(Recipient("000.00.00.G22"),),
                    file=file(f"di-{now.isoformat()}-{document_type}-{secrecy.value}"),
                    drafting_unit="VP",
                ),
                author=CLERK.subject,
                now=now,
                clearance=CLERK.clearance,
            )
        async with self._uow() as uow:
            return await service.issue_outgoing(
                tx=DocumentsTransaction(uow, caller=CLERK),
                document_id=draft.id,
                expected_version=1,
                issuer=ISSUER,
                reader=READER,
                approvals=NoApprovals(),
                now=now,
            )


def code(document: OutgoingDocument) -> tuple[int, int, str]:
    assert document.issue is not None
    issue = document.issue
    return issue.year, issue.number, f"{issue.code_number}/{issue.code_notation}"


async def test_the_incoming_register_starts_again_at_midnight_vietnam_time_on_1_january(
    engine: AsyncEngine,
) -> None:
    registry = Registry(engine)
    old = [await registry.register(LAST_SECOND) for _ in range(3)]
    first = await registry.register(NEW_YEAR)
    second = await registry.register(NEW_YEAR)

    assert [(d.arrival_year, d.arrival_number) for d in old] == [(2025, 1), (2025, 2), (2025, 3)]
    assert (first.arrival_year, first.arrival_number) == (2026, 1)
    assert (second.arrival_year, second.arrival_number) == (2026, 2)
    async with engine.connect() as connection:
        kept = set(
            await connection.execute(
                select(counters.c.series, counters.c.year, counters.c.last_number)
            )
        )
    assert kept == {("incoming", 2025, 3), ("incoming", 2026, 2)}


async def test_outgoing_numbers_start_again_at_midnight_vietnam_time_with_the_new_date(
    engine: AsyncEngine,
) -> None:
    registry = Registry(engine)
    last = [await registry.issue(LAST_SECOND) for _ in range(2)]
    first = await registry.issue(NEW_YEAR)

    assert [code(d) for d in last] == [(2025, 1, "01/QĐ-UBND"), (2025, 2, "02/QĐ-UBND")]
    assert code(first) == (2026, 1, "01/QĐ-UBND")
    assert last[1].issue is not None and first.issue is not None
    assert last[1].issue.identifier == f"{DEMO_AGENCY},2025/12/31,02/QĐ-UBND"
    assert first.issue.identifier == f"{DEMO_AGENCY},2026/01/01,01/QĐ-UBND"
    assert str(first.issue.issued_date) == "2026-01-01"


async def test_secret_documents_are_numbered_in_a_series_apart_from_the_ordinary_one(
    engine: AsyncEngine,
) -> None:
    registry = Registry(engine)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=VIETNAM)
    issued = [
        (secrecy, code(await registry.issue(at, secrecy=secrecy))[1])
        for secrecy in (
            Secrecy.NONE,
            Secrecy.SECRET,
            Secrecy.NONE,
            Secrecy.CONFIDENTIAL,
            Secrecy.SECRET,
            Secrecy.NONE,
        )
    ]
    registered = [
        (secrecy, (await registry.register(at, secrecy=secrecy)).arrival_number)
        for secrecy in (Secrecy.TOP_SECRET, Secrecy.NONE, Secrecy.TOP_SECRET)
    ]

    assert issued == [
        (Secrecy.NONE, 1),
        (Secrecy.SECRET, 1),
        (Secrecy.NONE, 2),
        (Secrecy.CONFIDENTIAL, 1),
        (Secrecy.SECRET, 2),
        (Secrecy.NONE, 3),
    ]
    assert registered == [(Secrecy.TOP_SECRET, 1), (Secrecy.NONE, 1), (Secrecy.TOP_SECRET, 2)]


async def test_numbers_are_written_with_two_digits_and_the_ky_hieu_of_their_type(
    engine: AsyncEngine,
) -> None:
    registry = Registry(engine)
    at = datetime(2026, 5, 4, 10, 0, tzinfo=VIETNAM)
    decisions = [code(await registry.issue(at))[2] for _ in range(10)]
    letter = code(await registry.issue(at, document_type="Công văn"))[2]
    plan = code(await registry.issue(at, document_type="Kế hoạch"))[2]

    assert decisions[4] == "05/QĐ-UBND"
    assert decisions[8:] == ["09/QĐ-UBND", "10/QĐ-UBND"]
    # A công văn's ký hiệu is the agency's and the drafting unit's, without a type.
    assert letter == "11/UBND-VP"
    assert plan == "12/KH-UBND"
