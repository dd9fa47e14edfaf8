"""Registering and reading incoming documents, and drafting and issuing outgoing ones, with an
in-memory Transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from vanban.documents.domain.document_types import DEFAULT_CATALOGUE, DocumentType
from vanban.documents.domain.model import (
    ArchiveRecord,
    DocumentStatus,
    Duplicate,
    FileRef,
    IncomingDocument,
    IncomingDraft,
    Priority,
    Relation,
    RelationKind,
)
from vanban.documents.domain.numbering import CancelledNumber, Register, RegisterKind
from vanban.documents.domain.outgoing import (
    OutgoingDocument,
    OutgoingDraft,
    Recipient,
    Signature,
    SignatureKind,
)
from vanban.documents.domain.ports import Held, Linked
from vanban.documents.domain.service import (
    Issuer,
    Reader,
    add_version,
    cancel_outgoing,
    draft_outgoing,
    get_incoming,
    get_outgoing,
    issue_outgoing,
    may_read,
    record_signature,
    register_incoming,
)
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from vanban.platform.fakes import RecordingTransaction


class ApprovalsFake:
    """The workflow's answer before numbering: approved, or refused with `refusal`; with
    `leader_signature`, the chain is in force and the leader signs before the number."""

    def __init__(self, refusal: str = "", *, leader_signature: bool = False) -> None:
        self.refusal = refusal
        self.leader_signature = leader_signature
        self.asked: list[tuple[str, int]] = []

    @property
    def requires_leader_signature(self) -> bool:
        return self.leader_signature

    async def check(self, document_id: str, version: int) -> None:
        self.asked.append((document_id, version))
        if self.refusal:
            raise FailedPreconditionError("not approved", reason=self.refusal)


APPROVED = ApprovalsFake()

ICT = timezone(timedelta(hours=7))
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=ICT)


class FakeCatalogue:
    """The decree's types and a register per kind and secrecy level, as the migration seeds."""

    def __init__(self) -> None:
        self.types = {t.name: t for t in DEFAULT_CATALOGUE}
        self.registers_ = [
            Register(
                id=kind.value if secrecy is Secrecy.NONE else f"{kind.value}-{secrecy.value}",
                name=f"{kind.value} {secrecy.value}",
                kind=kind,
                secrecy_levels=frozenset({secrecy}),
            )
            for kind in RegisterKind
            for secrecy in Secrecy
        ]

    async def document_type(self, name: str) -> DocumentType | None:
        return self.types.get(name)

    async def registers(self) -> list[Register]:
        return list(self.registers_)


class FakeIncomingRepository:
    def __init__(self) -> None:
        self.documents: dict[str, IncomingDocument] = {}
        self.duplicates: dict[str, list[Duplicate]] = {}
        self.requests: dict[str, str] = {}
        self.locked: list[str] = []

    async def add(self, document: IncomingDocument) -> None:
        self.documents[document.id] = document

    async def get(self, document_id: str, *, for_update: bool = False) -> IncomingDocument | None:
        if for_update:
            self.locked.append(document_id)
        return self.documents.get(document_id)

    async def find_duplicates(self, document: IncomingDocument) -> list[Duplicate]:
        others = [d for d in self.documents.values() if d.id != document.id]
        return [
            Duplicate(d.id, "identifier", d.secrecy)
            for d in others
            if d.identifier == document.identifier
        ]

    async def add_duplicates(
        self, document_id: str, duplicates: Sequence[Duplicate], at: datetime
    ) -> None:
        if duplicates:
            self.duplicates[document_id] = list(duplicates)

    async def remember_request(self, request_id: str, document_id: str, at: datetime) -> None:
        self.requests[request_id] = document_id


class FakeOutgoingRepository:
    def __init__(self) -> None:
        self.documents: dict[str, OutgoingDocument] = {}
        self.locked: list[str] = []

    async def add(self, document: OutgoingDocument) -> None:
        self.documents[document.id] = document

    async def get(self, document_id: str, *, for_update: bool = False) -> OutgoingDocument | None:
        if for_update:
            self.locked.append(document_id)
        return self.documents.get(document_id)

    async def add_version(self, document: OutgoingDocument) -> None:
        self.documents[document.id] = document

    async def mark_issued(self, document: OutgoingDocument) -> None:
        self.documents[document.id] = document

    async def mark_cancelled(self, document: OutgoingDocument) -> None:
        assert self.documents[document.id].status is DocumentStatus.ISSUED
        self.documents[document.id] = document

    async def add_signature(self, document_id: str, signature: Signature, *, at: datetime) -> None:
        document = self.documents[document_id]
        assert all(s.id != signature.id for s in document.signatures)
        self.documents[document_id] = replace(
            document, signatures=(*document.signatures, signature)
        )


class FakeLinks:
    def __init__(self, tx: FakeTransaction) -> None:
        self._tx = tx
        self.recalled: dict[str, str] = {}
        self.locked: list[str] = []

    async def existing(
        self, document_ids: Sequence[str], *, locking: Collection[str] = ()
    ) -> dict[str, Linked]:
        self.locked.extend(sorted(locking))
        known = {
            d.id: Linked("incoming", d.secrecy, d.issuer_code, archive=d.archive)
            for d in self._tx.incoming.documents.values()
        } | {
            d.id: Linked(
                "outgoing",
                d.secrecy,
                d.issue.issuer_code if d.issue else None,
                archive=d.archive,
            )
            for d in self._tx.outgoing.documents.values()
        }
        return {i: known[i] for i in document_ids if i in known}

    async def mark_recalled(
        self, document_ids: Sequence[str], recalled_by: str
    ) -> list[tuple[str, str]]:
        changed = []
        # As the registry's: only registered or issued documents become recalled.
        recallable = (DocumentStatus.REGISTERED, DocumentStatus.ISSUED)
        for document_id in document_ids:
            incoming = self._tx.incoming.documents.get(document_id)
            outgoing = self._tx.outgoing.documents.get(document_id)
            if incoming is not None and incoming.status in recallable:
                self.recalled[document_id] = recalled_by
                changed.append((document_id, "incoming"))
            elif outgoing is not None and outgoing.status in recallable:
                self.recalled[document_id] = recalled_by
                changed.append((document_id, "outgoing"))
        return changed


class FakeTextJobs:
    def __init__(self) -> None:
        self.queued: list[tuple[str, str]] = []

    async def queue(self, *, document_id: str, sha256: str, now: datetime) -> None:
        self.queued.append((document_id, sha256))


class FakeRegisterRepository:
    """The counters and cancellations of registers, in memory (one transaction at a time)."""

    def __init__(self) -> None:
        self.last_numbers: dict[tuple[str, int], int] = {}
        self.cancelled: dict[tuple[str, int, int], CancelledNumber] = {}
        self.taken: list[tuple[str, int, int]] = []

    async def take_number(self, register_id: str, year: int) -> int:
        number = self.last_numbers.get((register_id, year), 0) + 1
        self.last_numbers[register_id, year] = number
        self.taken.append((register_id, year, number))
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


class FakeArchiveRepository:
    """The archive's records, kept on the fake repositories' documents."""

    def __init__(self, tx: FakeTransaction) -> None:
        self._tx = tx
        self.locked: list[str] = []
        self.erased: list[str] = []

    async def lock(self, document_ids: Sequence[str]) -> dict[str, Held]:
        self.locked.extend(sorted(document_ids))
        held = {
            d.id: Held("incoming", d.archive)
            for d in self._tx.incoming.documents.values()
            if d.id in document_ids
        }
        return held | {
            d.id: Held("outgoing", d.archive)
            for d in self._tx.outgoing.documents.values()
            if d.id in document_ids
        }

    def _keep(self, records: Mapping[str, ArchiveRecord]) -> None:
        for document_id, record in records.items():
            incoming = self._tx.incoming.documents
            outgoing = self._tx.outgoing.documents
            if document_id in incoming:
                incoming[document_id] = replace(incoming[document_id], archive=record)
            else:
                outgoing[document_id] = replace(outgoing[document_id], archive=record)

    async def add(self, records: Mapping[str, ArchiveRecord]) -> None:
        self._keep(records)

    async def destroy(self, records: Mapping[str, ArchiveRecord]) -> None:
        self._keep(records)

    async def erase_contents(self, document_ids: Sequence[str]) -> None:
        self.erased.extend(document_ids)


@dataclass
class FakeTransaction(RecordingTransaction):
    catalogue: FakeCatalogue = field(default_factory=FakeCatalogue)
    incoming: FakeIncomingRepository = field(default_factory=FakeIncomingRepository)
    outgoing: FakeOutgoingRepository = field(default_factory=FakeOutgoingRepository)
    text_jobs: FakeTextJobs = field(default_factory=FakeTextJobs)
    registers: FakeRegisterRepository = field(default_factory=FakeRegisterRepository)
    events: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.links = FakeLinks(self)
        self.archive = FakeArchiveRepository(self)

    def record_registered(self, document: IncomingDocument) -> None:
        self.events.append(document)

    def record_drafted(self, document: OutgoingDocument) -> None:
        self.events.append(("drafted", document))

    def record_issued(self, document: OutgoingDocument) -> None:
        self.events.append(("issued", document))

    def record_recalled(self, document_id: str, direction: str, recalled_by: str) -> None:
        self.events.append(("recalled", document_id, direction, recalled_by))

    def record_updated(self, document_id: str, direction: str, *, changed: Sequence[str]) -> None:
        self.events.append(("updated", document_id, direction, tuple(changed)))


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
    tx = FakeTransaction()
    tx.registers.last_numbers["incoming-confidential", 2025] = 41

    document = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="clerk-7", now=NOW
    )

    assert document.arrival_number == 42
    assert document.arrival_year == 2025
    assert tx.registers.taken == [("incoming-confidential", 2025, 42)]


async def test_a_document_arriving_just_after_new_year_local_time_opens_the_new_register() -> None:
    tx = FakeTransaction()
    tx.registers.last_numbers["incoming-confidential", 2024] = 950
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
    assert document.register_id == "incoming-confidential"
    assert tx.text_jobs.queued == [(document.id, document.file.sha256)]
    assert tx.audits == [
        {
            "action": "incoming.register",
            "resource": f"incoming-documents/{document.id}",
            "after": {
                "register": "incoming-confidential",
                "arrival_number": 1,
                "arrival_year": 2025,
                "subject": "Về việc kiểm tra công tác văn thư",
                "received_via": "electronic",
                "duplicates": [],
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
    assert tx.registers.taken == []
    assert tx.text_jobs.queued == []
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
    assert [taken[0] for taken in tx.registers.taken] == [register]


async def test_an_unknown_document_type_is_named_and_takes_no_number() -> None:
    tx = FakeTransaction()
    with pytest.raises(InvalidArgumentError) as refused:
        await register_incoming(
            tx=tx,
            draft=make_draft(document_type="Thư tay"),
            clearance=Clearance.TOP_SECRET,
            registered_by="c",
            now=NOW,
        )
    assert [v.field for v in refused.value.violations] == ["document_type"]
    assert (tx.registers.taken, tx.incoming.documents, tx.commits) == ([], {}, 0)


async def test_a_relation_to_a_document_the_registry_lacks_is_named_and_takes_no_number() -> None:
    tx = FakeTransaction()
    missing = "5f0e1d2c-3b4a-4958-8776-655443322110"
    with pytest.raises(InvalidArgumentError) as refused:
        await register_incoming(
            tx=tx,
            draft=make_draft(relations=(Relation(RelationKind.AMENDS, document_id=missing),)),
            clearance=Clearance.TOP_SECRET,
            registered_by="c",
            now=NOW,
        )
    assert [v.field for v in refused.value.violations] == ["relations[0].document_id"]
    assert (tx.registers.taken, tx.commits) == ([], 0)


async def test_a_second_copy_is_registered_with_a_duplicate_warning() -> None:
    tx = FakeTransaction()
    first = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="c", now=NOW
    )
    second = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="c", now=NOW
    )
    assert first.duplicates == ()
    assert second.duplicates == (Duplicate(first.id, "identifier", Secrecy.CONFIDENTIAL),)
    assert tx.incoming.duplicates == {
        second.id: [Duplicate(first.id, "identifier", Secrecy.CONFIDENTIAL)]
    }
    assert tx.audits[-1]["after"]["duplicates"] == [first.id]


async def test_a_recalling_document_marks_its_target_recalled_and_records_it() -> None:
    tx = FakeTransaction()
    target = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="c", now=NOW
    )
    recall = await register_incoming(
        tx=tx,
        draft=make_draft(
            code_number="06",
            relations=(Relation(RelationKind.RECALLS, document_id=target.id),),
        ),
        clearance=Clearance.TOP_SECRET,
        registered_by="c",
        now=NOW,
    )
    assert tx.links.recalled == {target.id: recall.id}
    assert ("recalled", target.id, "incoming", recall.id) in tx.events


UNIT_SPECIALIST = Reader(
    roles=frozenset({"specialist"}),
    clearance=Clearance.NONE,
    person_id="cv-an",
    units=("VP",),
)
CLERK = Reader(roles=frozenset({"clerk"}), clearance=Clearance.TOP_SECRET, person_id="vt-lan")
ISSUER = Issuer(
    organ_id="000.00.00.H99",
    name="Ủy ban nhân dân tỉnh Demo",
    abbreviation="UBND",
    unit_abbreviation="VP",
)


def outgoing_draft(**overrides: Any) -> OutgoingDraft:
    draft = OutgoingDraft(
        document_type="Quyết định",
        subject="Về việc ban hành quy chế",
        priority=Priority.NORMAL,
        secrecy=Secrecy.NONE,
        recipients=(Recipient("000.00.00.G22", "Bộ Nội vụ"),),
        file=FileRef(sha256="cd" * 32, size=10, content_type="application/pdf", file_name="d.pdf"),
        drafting_unit="VP",
    )
    return replace(draft, **overrides)


async def test_a_draft_the_workflow_has_not_approved_takes_no_number() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    refusing = ApprovalsFake("NOT_APPROVED")
    with pytest.raises(FailedPreconditionError) as refused:
        await issue_outgoing(
            tx=tx,
            document_id=draft.id,
            expected_version=None,
            issuer=ISSUER,
            reader=CLERK,
            approvals=refusing,
            now=NOW,
        )
    assert refused.value.reason == "NOT_APPROVED"
    # Asked about the version that would be numbered, and nothing was taken or written.
    assert refusing.asked == [(draft.id, 1)]
    assert tx.registers.taken == []
    kept = await tx.outgoing.get(draft.id)
    assert kept is not None and kept.status is DocumentStatus.DRAFT


async def test_a_draft_is_numbered_only_at_issue_and_then_locked() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    assert draft.status is DocumentStatus.DRAFT and draft.issue is None
    assert draft.reach == ("person:cv-an", "unit:VP")
    assert tx.registers.taken == []

    issued = await issue_outgoing(
        tx=tx,
        document_id=draft.id,
        expected_version=1,
        issuer=ISSUER,
        reader=CLERK,
        approvals=APPROVED,
        now=NOW,
    )
    assert issued.issue is not None
    assert (issued.issue.number, issued.issue.code_number, issued.issue.code_notation) == (
        1,
        "01",
        "QĐ-UBND",
    )
    assert issued.issue.identifier == "000.00.00.H99,2025/03/14,01/QĐ-UBND"
    assert tx.outgoing.locked == [draft.id]
    with pytest.raises(FailedPreconditionError) as locked:
        await add_version(
            tx=tx,
            document_id=draft.id,
            file=draft.current.file,
            note="",
            expected_version=None,
            reader=CLERK,
            now=NOW,
        )
    assert locked.value.reason == "DOCUMENT_NOT_DRAFT"


async def test_a_cong_van_names_the_drafting_unit_in_its_ky_hieu() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx,
        draft=outgoing_draft(document_type="Công văn"),
        author="cv-an",
        now=NOW,
        clearance=Clearance.NONE,
    )
    issued = await issue_outgoing(
        tx=tx,
        document_id=draft.id,
        expected_version=None,
        issuer=ISSUER,
        reader=CLERK,
        approvals=APPROVED,
        now=NOW,
    )
    assert issued.issue is not None and issued.issue.code_notation == "UBND-VP"

    other = await draft_outgoing(
        tx=tx,
        draft=outgoing_draft(document_type="Công văn"),
        author="cv-an",
        now=NOW,
        clearance=Clearance.NONE,
    )
    with pytest.raises(FailedPreconditionError) as refused:
        await issue_outgoing(
            tx=tx,
            document_id=other.id,
            expected_version=None,
            issuer=replace(ISSUER, unit_abbreviation=None),
            reader=CLERK,
            approvals=APPROVED,
            now=NOW,
        )
    assert refused.value.reason == "DRAFTING_UNIT_REQUIRED"
    assert len(tx.registers.taken) == 1


async def test_issue_is_the_clerks_and_a_refused_issue_takes_no_number() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    with pytest.raises(PermissionDeniedError):
        await issue_outgoing(
            tx=tx,
            document_id=draft.id,
            expected_version=None,
            issuer=ISSUER,
            reader=UNIT_SPECIALIST,
            approvals=APPROVED,
            now=NOW,
        )
    with pytest.raises(AbortedError) as stale:
        await issue_outgoing(
            tx=tx,
            document_id=draft.id,
            expected_version=2,
            issuer=ISSUER,
            reader=CLERK,
            approvals=APPROVED,
            now=NOW,
        )
    assert stale.value.reason == "VERSION_CONFLICT"
    assert tx.registers.taken == []
    assert (await get_outgoing(tx=tx, document_id=draft.id, reader=CLERK)).status is (
        DocumentStatus.DRAFT
    )


async def test_a_relation_to_a_document_above_the_clerks_clearance_reads_as_missing() -> None:
    tx = FakeTransaction()
    secret = await register_incoming(
        tx=tx,
        draft=make_draft(secrecy=Secrecy.SECRET),
        clearance=Clearance.TOP_SECRET,
        registered_by="c",
        now=NOW,
    )
    with pytest.raises(InvalidArgumentError) as refused:
        await register_incoming(
            tx=tx,
            draft=make_draft(
                secrecy=Secrecy.NONE,
                relations=(Relation(RelationKind.RECALLS, document_id=secret.id),),
            ),
            clearance=Clearance.NONE,
            registered_by="c",
            now=NOW,
        )
    assert {v.field: v.description for v in refused.value.violations} == {
        "relations[0].document_id": "is not a document of this registry"
    }
    assert tx.links.recalled == {}
    assert len(tx.registers.taken) == 1


async def test_a_recall_names_documents_of_its_own_direction_only() -> None:
    tx = FakeTransaction()
    ours = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    await issue_outgoing(
        tx=tx,
        document_id=ours.id,
        expected_version=None,
        issuer=ISSUER,
        reader=CLERK,
        approvals=APPROVED,
        now=NOW,
    )
    theirs = await register_incoming(
        tx=tx,
        draft=make_draft(secrecy=Secrecy.NONE),
        clearance=Clearance.TOP_SECRET,
        registered_by="c",
        now=NOW,
    )
    with pytest.raises(InvalidArgumentError) as incoming_refused:
        await register_incoming(
            tx=tx,
            draft=make_draft(relations=(Relation(RelationKind.RECALLS, document_id=ours.id),)),
            clearance=Clearance.TOP_SECRET,
            registered_by="c",
            now=NOW,
        )
    with pytest.raises(InvalidArgumentError) as outgoing_refused:
        await draft_outgoing(
            tx=tx,
            draft=outgoing_draft(
                relations=(Relation(RelationKind.RECALLS, document_id=theirs.id),)
            ),
            author="cv-an",
            now=NOW,
            clearance=Clearance.NONE,
        )
    assert [v.description for v in incoming_refused.value.violations] == [
        "an incoming document recalls incoming documents only"
    ]
    assert [v.description for v in outgoing_refused.value.violations] == [
        "an outgoing document recalls outgoing documents only"
    ]
    # Answering (response_for) a document of the other direction is what replies do.
    reply = await draft_outgoing(
        tx=tx,
        draft=outgoing_draft(
            relations=(Relation(RelationKind.RESPONSE_FOR, document_id=theirs.id),)
        ),
        author="cv-an",
        now=NOW,
        clearance=Clearance.NONE,
    )
    assert reply.relations[0].document_id == theirs.id
    assert tx.links.recalled == {}


async def test_a_duplicate_above_the_readers_clearance_is_not_told_of() -> None:
    tx = FakeTransaction()
    secret = await register_incoming(
        tx=tx,
        draft=make_draft(secrecy=Secrecy.SECRET),
        clearance=Clearance.TOP_SECRET,
        registered_by="c",
        now=NOW,
    )
    copy = await register_incoming(
        tx=tx,
        draft=make_draft(secrecy=Secrecy.NONE),
        clearance=Clearance.CONFIDENTIAL,
        registered_by="c",
        now=NOW,
    )

    # The clerk below the secret document is not told it exists; the warning is kept all the same.
    assert copy.duplicates == ()
    assert tx.incoming.duplicates == {copy.id: [Duplicate(secret.id, "identifier", Secrecy.SECRET)]}
    for clearance, expected in (
        (Clearance.CONFIDENTIAL, ()),
        (Clearance.SECRET, (Duplicate(secret.id, "identifier", Secrecy.SECRET),)),
    ):
        reader = Reader(roles=frozenset({"clerk"}), clearance=clearance)
        assert (await get_incoming(tx=tx, document_id=copy.id, reader=reader)).duplicates == (
            expected
        )
    service_reader = Reader(roles=frozenset(), clearance=Clearance.NONE, is_service=True)
    assert (await get_incoming(tx=tx, document_id=copy.id, reader=service_reader)).duplicates


async def test_another_agency_cannot_recall_a_document_it_did_not_send() -> None:
    tx = FakeTransaction()
    sent = await register_incoming(
        tx=tx, draft=make_draft(), clearance=Clearance.TOP_SECRET, registered_by="c", now=NOW
    )
    with pytest.raises(InvalidArgumentError) as refused:
        await register_incoming(
            tx=tx,
            draft=make_draft(
                issuer_code="000.00.00.G01",
                code_number="07",
                relations=(Relation(RelationKind.RECALLS, document_id=sent.id),),
            ),
            clearance=Clearance.TOP_SECRET,
            registered_by="c",
            now=NOW,
        )
    assert [v.field for v in refused.value.violations] == ["relations[0].document_id"]
    assert tx.links.recalled == {}


async def test_a_specialist_drafts_for_their_own_unit_only() -> None:
    tx = FakeTransaction()
    with pytest.raises(InvalidArgumentError) as refused:
        await draft_outgoing(
            tx=tx,
            draft=outgoing_draft(drafting_unit="PTH"),
            author="cv-an",
            now=NOW,
            clearance=Clearance.NONE,
            drafter_units=("VP",),
        )
    assert [v.field for v in refused.value.violations] == ["drafting_unit"]
    # Naming none, a drafter of one unit drafts for it.
    draft = await draft_outgoing(
        tx=tx,
        draft=outgoing_draft(drafting_unit=""),
        author="cv-an",
        now=NOW,
        clearance=Clearance.NONE,
        drafter_units=("VP",),
    )
    assert draft.drafting_unit == "VP" and "unit:VP" in draft.reach


async def _issued(tx: FakeTransaction) -> OutgoingDocument:
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    return await issue_outgoing(
        tx=tx,
        document_id=draft.id,
        expected_version=None,
        issuer=ISSUER,
        reader=CLERK,
        approvals=APPROVED,
        now=NOW,
    )


async def test_a_cancelled_number_stays_taken_with_its_reason() -> None:
    tx = FakeTransaction()
    issued = await _issued(tx)
    later = NOW + timedelta(hours=2)

    cancelled = await cancel_outgoing(
        tx=tx, document_id=issued.id, reason="  Sai trích yếu  ", reader=CLERK, now=later
    )

    assert cancelled.status is DocumentStatus.CANCELLED
    assert cancelled.issue == issued.issue
    assert cancelled.cancellation == CancelledNumber(
        register_id="outgoing",
        year=2025,
        number=1,
        reason="Sai trích yếu",
        cancelled_by="vt-lan",
        at=later,
    )
    assert tx.registers.cancelled == {("outgoing", 2025, 1): cancelled.cancellation}
    assert tx.outgoing.documents[issued.id].status is DocumentStatus.CANCELLED
    assert tx.events[-1] == ("updated", issued.id, "outgoing", ("status",))
    assert tx.audits[-1]["action"] == "outgoing.cancel"
    assert tx.audits[-1]["before"] == {"status": "issued"}
    assert tx.audits[-1]["after"]["reason"] == "Sai trích yếu"
    # The counter is untouched: the next issue takes number 2, never the cancelled 1.
    assert tx.registers.last_numbers["outgoing", 2025] == 1
    following = await _issued(tx)
    assert following.issue is not None and following.issue.number == 2


async def test_only_an_issued_document_is_cancelled_and_only_once() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    with pytest.raises(FailedPreconditionError) as not_issued:
        await cancel_outgoing(tx=tx, document_id=draft.id, reason="x", reader=CLERK, now=NOW)
    assert not_issued.value.reason == "DOCUMENT_NOT_ISSUED"

    issued = await _issued(tx)
    await cancel_outgoing(tx=tx, document_id=issued.id, reason="Hủy", reader=CLERK, now=NOW)
    audits, events = len(tx.audits), len(tx.events)
    with pytest.raises(FailedPreconditionError) as again:
        await cancel_outgoing(tx=tx, document_id=issued.id, reason="Lại", reader=CLERK, now=NOW)
    assert again.value.reason == "ALREADY_CANCELLED"
    assert (len(tx.audits), len(tx.events)) == (audits, events)
    assert tx.registers.cancelled[("outgoing", 2025, 1)].reason == "Hủy"
    assert not tx.registers.cancelled.keys() - {("outgoing", 2025, 1)}


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        ("", "is required"),
        ("   ", "is required: say why the number is cancelled"),
        ("a" * 501, "must be at most 500 characters"),
        ("sai\nsố", "must not contain control characters"),
    ],
)
async def test_a_cancellation_needs_a_reason(reason: str, problem: str) -> None:
    tx = FakeTransaction()
    issued = await _issued(tx)
    with pytest.raises(InvalidArgumentError) as refused:
        await cancel_outgoing(tx=tx, document_id=issued.id, reason=reason, reader=CLERK, now=NOW)
    assert refused.value.reason == "INVALID_CANCELLATION"
    assert [(v.field, v.description) for v in refused.value.violations] == [("reason", problem)]
    assert tx.registers.cancelled == {}
    assert tx.outgoing.documents[issued.id].status is DocumentStatus.ISSUED


async def test_cancelling_is_the_clerks_who_may_open_the_document() -> None:
    tx = FakeTransaction()
    issued = await _issued(tx)
    with pytest.raises(PermissionDeniedError) as role:
        await cancel_outgoing(
            tx=tx, document_id=issued.id, reason="Hủy", reader=UNIT_SPECIALIST, now=NOW
        )
    assert role.value.reason == "ROLE_REQUIRED"
    low_clerk = replace(CLERK, clearance=Clearance.NONE)
    secret = await draft_outgoing(
        tx=tx,
        draft=outgoing_draft(secrecy=Secrecy.SECRET),
        author="cv-an",
        now=NOW,
        clearance=Clearance.TOP_SECRET,
    )
    secret = await issue_outgoing(
        tx=tx,
        document_id=secret.id,
        expected_version=None,
        issuer=ISSUER,
        reader=CLERK,
        approvals=APPROVED,
        now=NOW,
    )
    for document_id in (secret.id, "not-a-uuid"):
        with pytest.raises(NotFoundError) as missing:
            await cancel_outgoing(
                tx=tx, document_id=document_id, reason="Hủy", reader=low_clerk, now=NOW
            )
        assert missing.value.reason == "OUTGOING_NOT_FOUND"
    assert tx.registers.cancelled == {}


def leader_signature(document: OutgoingDocument, **overrides: Any) -> Signature:
    """The leader's signature on the document's current version, as the signing service makes
    it."""
    signature = Signature(
        id="sig-leader-1",
        version=document.current.version,
        kind=SignatureKind.LEADER,
        file=FileRef(
            sha256="5e" * 32, size=12, content_type="application/pdf", file_name="d-signed.pdf"
        ),
        source_sha256=document.current.file.sha256,
        signed_by="ld-hung",
        signed_at=NOW,
        certificate_subject="CN=Trần Văn Hùng, O=Ủy ban nhân dân tỉnh Demo",
    )
    return replace(signature, **overrides)


async def test_a_signature_is_recorded_once_with_its_event_and_audit_entry() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    commits, events = tx.commits, len(tx.events)
    signature = leader_signature(draft)

    signed = await record_signature(tx=tx, document_id=draft.id, signature=signature, now=NOW)
    again = await record_signature(tx=tx, document_id=draft.id, signature=signature, now=NOW)

    assert signed.signatures == again.signatures == (signature,)
    assert signed.signed_file == signature.file
    assert tx.outgoing.documents[draft.id].signatures == (signature,)
    assert tx.outgoing.locked == [draft.id, draft.id]
    # Written, published and audited once; the second call committed nothing.
    assert tx.commits == commits + 1
    assert tx.events[events:] == [("updated", draft.id, "outgoing", ("signatures",))]
    assert tx.audits[-1]["action"] == "outgoing.sign"
    assert tx.audits[-1]["after"]["signed_file"] == signature.file.sha256
    assert [a["action"] for a in tx.audits].count("outgoing.sign") == 1


async def test_a_refused_signature_writes_nothing() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    commits = tx.commits
    with pytest.raises(FailedPreconditionError) as refused:
        await record_signature(
            tx=tx,
            document_id=draft.id,
            signature=leader_signature(draft, source_sha256="0f" * 32),
            now=NOW,
        )
    assert refused.value.reason == "SIGNATURE_OUT_OF_ORDER"
    for document_id in ("not-a-uuid", "0b7a1c1e-1111-4b5a-9a63-2f0e3d9c8a11"):
        with pytest.raises(NotFoundError) as missing:
            await record_signature(
                tx=tx, document_id=document_id, signature=leader_signature(draft), now=NOW
            )
        assert missing.value.reason == "OUTGOING_NOT_FOUND"
    assert tx.commits == commits
    assert tx.outgoing.documents[draft.id].signatures == ()


async def test_where_the_chain_is_in_force_only_a_version_the_leader_signed_is_numbered() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    gate = ApprovalsFake(leader_signature=True)

    async def issue() -> OutgoingDocument:
        return await issue_outgoing(
            tx=tx,
            document_id=draft.id,
            expected_version=None,
            issuer=ISSUER,
            reader=CLERK,
            approvals=gate,
            now=NOW,
        )

    with pytest.raises(FailedPreconditionError) as unsigned:
        await issue()
    assert unsigned.value.reason == "LEADER_SIGNATURE_REQUIRED"
    # Refused under the lock, once the workflow said the chain was passed, before any number
    # is taken.
    assert tx.outgoing.locked == [draft.id]
    assert gate.asked == [(draft.id, 1)]
    assert tx.registers.taken == []

    # A signature of version 1 does not sign version 2.
    await record_signature(tx=tx, document_id=draft.id, signature=leader_signature(draft), now=NOW)
    revised = await add_version(
        tx=tx,
        document_id=draft.id,
        file=FileRef(sha256="7a" * 32, size=9, content_type="application/pdf", file_name="v2.pdf"),
        note="",
        expected_version=None,
        reader=CLERK,
        now=NOW,
    )
    with pytest.raises(FailedPreconditionError) as stale:
        await issue()
    assert stale.value.reason == "LEADER_SIGNATURE_REQUIRED"
    assert tx.registers.taken == []

    await record_signature(
        tx=tx,
        document_id=draft.id,
        signature=leader_signature(revised, id="sig-leader-2"),
        now=NOW,
    )
    issued = await issue()
    assert issued.status is DocumentStatus.ISSUED and issued.issue is not None
    assert gate.asked == [(draft.id, 1), (draft.id, 2), (draft.id, 2)]
    assert len(tx.registers.taken) == 1


async def test_without_the_chain_an_unsigned_draft_is_numbered() -> None:
    tx = FakeTransaction()
    draft = await draft_outgoing(
        tx=tx, draft=outgoing_draft(), author="cv-an", now=NOW, clearance=Clearance.NONE
    )
    issued = await issue_outgoing(
        tx=tx,
        document_id=draft.id,
        expected_version=None,
        issuer=ISSUER,
        reader=CLERK,
        approvals=ApprovalsFake(leader_signature=False),
        now=NOW,
    )
    assert issued.status is DocumentStatus.ISSUED and issued.signatures == ()
