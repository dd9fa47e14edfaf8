"""Registering and reading incoming documents, with an in-memory Transaction."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from vanban.documents.domain.model import (
    FileRef,
    IncomingDocument,
    IncomingDraft,
    Priority,
)
from vanban.documents.domain.numbering import CancelledNumber
from vanban.documents.domain.service import Reader, get_incoming, may_read, register_incoming
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from vanban.platform.fakes import RecordingTransaction

ICT = timezone(timedelta(hours=7))
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=ICT)


class FakeIncomingRepository:
    def __init__(self, *, last_number: int = 0) -> None:
        self.last_numbers: dict[int, int] = {}
        self.last_number = last_number
        self.taken: list[tuple[int, int]] = []
        self.registers: list[str] = []
        self.documents: dict[str, IncomingDocument] = {}

    async def next_arrival_number(self, *, year: int, register: str) -> int:
        # Counts per year only; which register was asked for is recorded.
        self.registers.append(register)
        number = self.last_numbers.get(year, self.last_number) + 1
        self.last_numbers[year] = number
        self.taken.append((year, number))
        return number

    async def add(self, document: IncomingDocument) -> None:
        self.documents[document.id] = document

    async def get(self, document_id: str) -> IncomingDocument | None:
        return self.documents.get(document_id)


class FakeRegisterRepository:
    """The counters and cancellations of registers, in memory (one transaction at a time)."""

    def __init__(self) -> None:
        self.last_numbers: dict[tuple[str, int], int] = {}
        self.cancelled: dict[tuple[str, int, int], CancelledNumber] = {}

    async def take_number(self, register_id: str, year: int) -> int:
        number = self.last_numbers.get((register_id, year), 0) + 1
        self.last_numbers[register_id, year] = number
        return number

    async def last_issued(self, register_id: str, year: int) -> int:
        return self.last_numbers.get((register_id, year), 0)

    async def cancellations(self, register_id: str, year: int) -> list[CancelledNumber]:
        return sorted(
            (c for c in self.cancelled.values() if (c.register_id, c.year) == (register_id, year)),
            key=lambda c: c.number,
        )

    async def add_cancellation(self, cancelled: CancelledNumber) -> None:
        key = (cancelled.register_id, cancelled.year, cancelled.number)
        if key in self.cancelled:
            raise AlreadyExistsError("already cancelled", reason="NUMBER_ALREADY_CANCELLED")
        self.cancelled[key] = cancelled


@dataclass
class FakeTransaction(RecordingTransaction):
    incoming: FakeIncomingRepository = field(default_factory=FakeIncomingRepository)
    registers: FakeRegisterRepository = field(default_factory=FakeRegisterRepository)
    events: list[IncomingDocument] = field(default_factory=list)

    def record_registered(self, document: IncomingDocument) -> None:
        self.events.append(document)


def make_draft(**overrides: Any) -> IncomingDraft:
    draft = IncomingDraft(
        issuer_code="000.00.00.G22",
        issuer_name="Bộ Nội vụ",
        code_number="05",
        code_notation="QĐ-BNV",
        issued_date="2025-03-10",
        document_type="Quyết định",
        subject="Về việc ban hành quy chế công tác văn thư",
        priority=Priority.URGENT,
        secrecy=Secrecy.CONFIDENTIAL,
        file=FileRef(
            sha256="ab" * 32, size=2048, content_type="application/pdf", file_name="qd.pdf"
        ),
    )
    return replace(draft, **overrides)


async def test_the_arrival_number_comes_from_the_register_of_the_year_of_arrival() -> None:
    tx = FakeTransaction(incoming=FakeIncomingRepository(last_number=41))

    document = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="clerk-7", now=NOW
    )

    assert document.arrival_number == 42
    assert document.arrival_year == 2025
    assert tx.incoming.taken == [(2025, 42)]


async def test_a_document_arriving_just_after_new_year_local_time_opens_the_new_register() -> None:
    tx = FakeTransaction()
    tx.incoming.last_numbers[2024] = 950
    # 00:15 on 1 January in Hanoi is still 31 December in UTC.
    new_year = datetime(2025, 1, 1, 0, 15, tzinfo=ICT)

    document = await register_incoming(
        tx=tx,
        draft=make_draft(issued_date="2024-12-31"),
        clearance=Clearance.TOP_SECRET,
        registered_by="clerk-7",
        now=new_year,
    )

    assert (document.arrival_year, document.arrival_number) == (2025, 1)


async def test_registration_stores_the_document_records_the_event_audits_and_commits() -> None:
    tx = FakeTransaction()

    document = await register_incoming(
        tx=tx,
        draft=make_draft(subject="  Về việc kiểm tra công tác văn thư  "),
        clearance=Clearance.TOP_SECRET,
        registered_by="clerk-7",
        now=NOW,
    )

    assert tx.incoming.documents == {document.id: document}
    assert document.subject == "Về việc kiểm tra công tác văn thư"
    assert document.registered_by == "clerk-7"
    assert document.arrived_at == NOW
    assert document.priority is Priority.URGENT
    assert document.secrecy is Secrecy.CONFIDENTIAL
    assert str(document.issued_date) == "2025-03-10"
    assert tx.events == [document]
    assert tx.audits == [
        {
            "action": "incoming.register",
            "resource": f"incoming-documents/{document.id}",
            "after": {
                "arrival_number": 1,
                "arrival_year": 2025,
                "subject": "Về việc kiểm tra công tác văn thư",
            },
            "before": None,
            "on_behalf_of": None,
        }
    ]
    assert tx.commits == 1


async def test_each_registration_gets_its_own_id_and_the_next_number() -> None:
    tx = FakeTransaction()
    first = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="c", now=NOW
    )
    second = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="c", now=NOW
    )

    assert (first.arrival_number, second.arrival_number) == (1, 2)
    assert first.id != second.id


async def test_invalid_input_takes_no_number_and_commits_nothing() -> None:
    tx = FakeTransaction()

    with pytest.raises(InvalidArgumentError):
        await register_incoming(
            tx=tx,
            draft=make_draft(subject="", issued_date="2099-01-01"),
            clearance=Clearance.TOP_SECRET,
            registered_by="c",
            now=NOW,
        )

    # Taking a number for a refused document would leave a gap in the register.
    assert tx.incoming.taken == []
    assert tx.incoming.documents == {}
    assert tx.events == []
    assert tx.audits == []
    assert tx.commits == 0


async def test_a_registered_document_is_read_back_by_a_cleared_reader() -> None:
    tx = FakeTransaction()
    document = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="c", now=NOW
    )

    reader = Reader(roles=frozenset({"agency_leader"}), clearance=Clearance.CONFIDENTIAL)
    assert await get_incoming(tx=tx, document_id=document.id, reader=reader) == document


async def test_a_document_above_the_readers_clearance_looks_exactly_like_a_missing_one() -> None:
    tx = FakeTransaction()
    document = await register_incoming(
        tx=tx,
        draft=make_draft(secrecy=Secrecy.SECRET),
        clearance=Clearance.TOP_SECRET,
        registered_by="c",
        now=NOW,
    )

    reader = Reader(roles=frozenset({"clerk"}), clearance=Clearance.CONFIDENTIAL)
    with pytest.raises(NotFoundError) as hidden:
        await get_incoming(tx=tx, document_id=document.id, reader=reader)
    with pytest.raises(NotFoundError) as missing:
        await get_incoming(tx=tx, document_id="no-such-id", reader=reader)

    assert (hidden.value.reason, hidden.value.message) == (
        missing.value.reason,
        missing.value.message,
    )


LEVELS = ["none", "confidential", "secret", "top_secret"]


@pytest.mark.parametrize("secrecy", list(Secrecy))
@pytest.mark.parametrize("clearance", LEVELS)
def test_a_reader_may_read_up_to_their_clearance_and_no_higher(
    secrecy: Secrecy, clearance: str
) -> None:
    expected = LEVELS.index(secrecy.value) <= LEVELS.index(clearance)
    assert may_read(secrecy=secrecy, clearance=Clearance(clearance)) is expected


@pytest.mark.parametrize("clearance", ["", "admin", "SECRET", "tối mật"])
def test_an_unknown_clearance_reads_only_unclassified_documents(clearance: str) -> None:
    # As a caller token's claim this platform does not know is read.
    held = Clearance.held(clearance)
    assert may_read(secrecy=Secrecy.NONE, clearance=held) is True
    assert may_read(secrecy=Secrecy.CONFIDENTIAL, clearance=held) is False


async def test_only_registry_readers_open_any_incoming_document() -> None:
    tx = FakeTransaction()
    document = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="c", now=NOW
    )
    for role in ("clerk", "agency_leader", "deputy_agency_leader", "archivist", "system_reader"):
        reader = Reader(roles=frozenset({role}), clearance=Clearance.TOP_SECRET)
        assert await get_incoming(tx=tx, document_id=document.id, reader=reader) == document
    for role in ("specialist", "unit_head", "deputy_unit_head", "admin"):
        with pytest.raises(NotFoundError):
            reader = Reader(roles=frozenset({role}), clearance=Clearance.TOP_SECRET)
            await get_incoming(tx=tx, document_id=document.id, reader=reader)
    service_reader = Reader(roles=frozenset(), clearance=Clearance.NONE, is_service=True)
    assert await get_incoming(tx=tx, document_id=document.id, reader=service_reader) == document


async def test_a_clerk_may_not_register_a_document_above_their_clearance() -> None:
    tx = FakeTransaction()
    with pytest.raises(PermissionDeniedError) as refused:
        await register_incoming(
            tx=tx,
            draft=make_draft(secrecy=Secrecy.SECRET),
            registered_by="c",
            now=NOW,
            clearance=Clearance.CONFIDENTIAL,
        )
    assert refused.value.reason == "CLEARANCE_TOO_LOW"
    assert tx.commits == 0
    await register_incoming(
        tx=tx,
        draft=make_draft(secrecy=Secrecy.SECRET),
        registered_by="c",
        now=NOW,
        clearance=Clearance.SECRET,
    )
    assert tx.commits == 1


@pytest.mark.parametrize(
    ("secrecy", "register"),
    [
        (Secrecy.NONE, "incoming"),
        (Secrecy.CONFIDENTIAL, "incoming-confidential"),
        (Secrecy.SECRET, "incoming-secret"),
        (Secrecy.TOP_SECRET, "incoming-top_secret"),
    ],
)
async def test_each_secrecy_level_numbers_in_a_register_of_its_own(
    secrecy: Secrecy, register: str
) -> None:
    """Numbers of one shared register would count the documents above a reader's clearance
    (the gaps between the numbers they see); secret documents are registered separately."""
    tx = FakeTransaction()
    await register_incoming(
        tx=tx,
        draft=make_draft(secrecy=secrecy),
        clearance=Clearance.TOP_SECRET,
        registered_by="clerk-7",
        now=NOW,
    )
    assert tx.incoming.registers == [register]
