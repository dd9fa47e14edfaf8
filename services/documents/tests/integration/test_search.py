"""Search and lists over a Vietnamese fixture set, through the DocumentRegistry gRPC API.

About 200 documents are written straight into `documents` with the search columns made by
`adapters/db/indexing.py`, as registration makes them; every expectation is computed from the
fixture rows in Python, so a wrong filter, order, page or visibility rule shows as a difference.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.documents.adapters.db import search as search_sql
from vanban.documents.adapters.db.indexing import (
    number_key,
    search_head,
    search_vector,
)
from vanban.documents.adapters.db.tables import documents as documents_table
from vanban.documents.adapters.db.tables import incoming_duplicates
from vanban.documents.domain import search as search_domain
from vanban.documents.domain.search import Filter, Viewer, make_query
from vanban.documents.domain.search_text import search_terms
from vanban.platform.errors import ErrorCode
from vanban.platform.grpc.status import remote_error
from vanban.platform.paging import decode_token
from vanban.platform.testing import metadata

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
RANKS = {"none": 0, "confidential": 1, "secret": 2, "top_secret": 3}
SPECIALIST = "5b0f1c1e-0000-4000-8000-000000000001"
SPECIALIST_UNIT = "PTH"

TOPICS = (
    "chuyển đổi số",
    "cải cách hành chính",
    "phòng, chống thiên tai",
    "giải phóng mặt bằng",
    "xây dựng nông thôn mới",
    "an toàn giao thông",
    "tuyển sinh đầu cấp",
    "đầu tư công",
)
PLACES = ("huyện Quỳnh Lưu", "thị xã Cửa Lò", "huyện Đô Lương", "thành phố Vinh", "xã Nghi Phong")
TYPES = (
    ("Công văn", None),
    ("Quyết định", "QĐ"),
    ("Báo cáo", "BC"),
    ("Kế hoạch", "KH"),
    ("Thông báo", "TB"),
    ("Giấy mời", "GM"),
)
UNITS = ("PTH", "PKT", "PNC", "VP", "STC")
PRIORITIES = ("normal", "urgent", "very_urgent", "flash")


@dataclass
class Doc:
    id: str
    direction: str
    status: str
    document_type: str
    subject: str
    priority: str
    secrecy: str
    registered_at: datetime | None
    code_number: str | None = None
    code_notation: str | None = None
    issuer_code: str | None = None
    issuer_name: str | None = None
    issued_date: date | None = None
    register_id: str | None = None
    reg_year: int | None = None
    reg_number: int | None = None
    unit_code: str | None = None
    reach: list[str] = field(default_factory=list)
    duplicate_of: str | None = None

    def row(self) -> dict[str, Any]:
        head = search_head(
            subject=self.subject,
            code_number=self.code_number,
            code_notation=self.code_notation,
            issuer_name=self.issuer_name,
        )
        created = self.registered_at or datetime(2025, 11, 1, tzinfo=UTC)
        values: dict[str, Any] = {
            "id": self.id,
            "direction": self.direction,
            "status": self.status,
            "document_type": self.document_type,
            "subject": self.subject,
            "priority": self.priority,
            "secrecy": self.secrecy,
            "secrecy_rank": RANKS[self.secrecy],
            "code_number": self.code_number,
            "code_notation": self.code_notation,
            "number_key": number_key(self.code_number, self.code_notation),
            "issuer_code": self.issuer_code,
            "issuer_name": self.issuer_name,
            "issued_date": self.issued_date,
            "register_id": self.register_id,
            "reg_year": self.reg_year,
            "reg_number": self.reg_number,
            "registered_at": self.registered_at,
            "unit_code": self.unit_code,
            "reach": self.reach,
            "search_head": head,
            "search_tsv": search_vector(head),
            "created_by": "fixture",
            "created_at": created,
            "updated_at": created,
        }
        incoming = self.direction == "incoming"
        values["received_via"] = "electronic" if incoming else None
        values["current_version"] = None if incoming else 1
        return values


class Fixture:
    """The ~200 documents, and the counters that numbered them."""

    def __init__(self) -> None:
        self.docs: list[Doc] = []
        self._numbers: dict[tuple[str, int], int] = {}

    def number(self, register: str, year: int) -> int:
        self._numbers[(register, year)] = self._numbers.get((register, year), 0) + 1
        return self._numbers[(register, year)]

    def incoming(
        self,
        *,
        at: datetime,
        subject: str,
        document_type: str = "Công văn",
        code: tuple[str, str] = ("12", "UBND-VP"),
        secrecy: str = "none",
        priority: str = "normal",
        status: str = "registered",
        issuer: tuple[str, str] = ("000.00.00.H40", "Ủy ban nhân dân tỉnh Nghệ An"),
        unit: str | None = None,
        reach: list[str] | None = None,
        duplicate_of: str | None = None,
    ) -> Doc:
        register = "incoming" if secrecy == "none" else f"incoming-{secrecy}"
        year = at.astimezone(VIETNAM).year
        doc = Doc(
            id=str(uuid.uuid4()),
            direction="incoming",
            status=status,
            document_type=document_type,
            subject=subject,
            priority=priority,
            secrecy=secrecy,
            registered_at=at,
            code_number=code[0],
            code_notation=code[1],
            issuer_code=issuer[0],
            issuer_name=issuer[1],
            issued_date=at.astimezone(VIETNAM).date() - timedelta(days=2),
            register_id=register,
            reg_year=year,
            reg_number=self.number(register, year),
            unit_code=unit,
            reach=reach if reach is not None else ([f"unit:{unit}"] if unit else []),
            duplicate_of=duplicate_of,
        )
        self.docs.append(doc)
        return doc

    def outgoing(
        self,
        *,
        at: datetime | None,
        subject: str,
        document_type: str = "Kế hoạch",
        abbreviation: str | None = "KH",
        secrecy: str = "none",
        priority: str = "normal",
        status: str = "issued",
        unit: str = "VP",
        author: str = "author-1",
    ) -> Doc:
        register = "outgoing" if secrecy == "none" else f"outgoing-{secrecy}"
        doc = Doc(
            id=str(uuid.uuid4()),
            direction="outgoing",
            status=status,
            document_type=document_type,
            subject=subject,
            priority=priority,
            secrecy=secrecy,
            registered_at=at,
            unit_code=unit,
            reach=[f"unit:{unit}", f"person:{author}"],
        )
        if at is not None:
            year = at.astimezone(VIETNAM).year
            doc.reg_year, doc.register_id = year, register
            doc.reg_number = self.number(register, year)
            doc.code_number = f"{doc.reg_number:02d}"
            doc.code_notation = f"{abbreviation}-UBND" if abbreviation else f"UBND-{unit}"
            doc.issuer_code, doc.issuer_name = "000.00.00.H99", "Ủy ban nhân dân tỉnh Demo"
            doc.issued_date = at.astimezone(VIETNAM).date()
        self.docs.append(doc)
        return doc


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


@dataclass
class Named:
    decision: Doc
    road: Doc
    secret_pth: Doc
    plan: Doc
    draft: Doc
    original: Doc
    copy: Doc
    end_of_march: Doc
    start_of_april: Doc


def build_fixture() -> tuple[Fixture, Named]:
    f = Fixture()
    rng = random.Random(8)
    named = Named(
        decision=f.incoming(
            at=vn(2025, 3, 10, 10),
            document_type="Quyết định",
            code=("05", "QĐ-UBND"),
            subject="Quyết định phê duyệt kế hoạch chuyển đổi số năm 2025",
            priority="urgent",
            unit="VP",
        ),
        road=f.incoming(
            at=vn(2025, 3, 11, 9),
            subject="V/v đề nghị hỗ trợ làm đường giao thông xã Đồng Văn",
            code=("231", "UBND-KT"),
            unit="PKT",
        ),
        secret_pth=f.incoming(
            at=vn(2025, 3, 12, 9),
            subject="V/v phương án bảo vệ mục tiêu trọng điểm Quỳnh Lưu",
            secrecy="confidential",
            unit=SPECIALIST_UNIT,
            code=("07", "CV-CAT"),
        ),
        plan=f.outgoing(
            at=vn(2025, 3, 13, 15), subject="Kế hoạch tổ chức hội nghị tổng kết năm 2024"
        ),
        draft=f.outgoing(
            at=None,
            subject="Dự thảo kế hoạch chuyển đổi số năm 2026",
            status="draft",
            unit=SPECIALIST_UNIT,
            author=SPECIALIST,
        ),
        original=f.incoming(
            at=vn(2025, 4, 2, 8),
            subject="V/v mời dự lễ khởi công cầu Bến Thủy 3",
            code=("88", "GM-SXD"),
            document_type="Giấy mời",
            issuer=("000.00.05.H99", "Sở Xây dựng tỉnh Demo"),
        ),
        copy=f.incoming(
            at=vn(2025, 4, 3, 8),
            subject="V/v mời dự lễ khởi công cầu Bến Thủy 3",
            code=("88", "GM-SXD"),
            document_type="Giấy mời",
            issuer=("000.00.05.H99", "Sở Xây dựng tỉnh Demo"),
        ),
        # The date range is Vietnam's: 23:30 +07 on 31 March is 31 March, 00:10 +07 on 1 April
        # (still 31 March in UTC) is April.
        end_of_march=f.incoming(at=vn(2025, 3, 31, 23, 30), subject="V/v báo cáo cuối quý I"),
        start_of_april=f.incoming(at=vn(2025, 4, 1, 0, 10), subject="V/v kế hoạch quý II"),
    )
    named.copy.duplicate_of = named.original.id
    # The person, not the unit: the specialist was assigned this one by name.
    f.incoming(
        at=vn(2025, 5, 5, 9),
        subject="V/v xử lý đơn kiến nghị của công dân",
        unit="PNC",
        reach=["unit:PNC", f"person:{SPECIALIST}"],
    )
    start = vn(2024, 1, 2, 8)
    for _i in range(188):
        at = start + timedelta(hours=rng.randrange(0, 2 * 365 * 24))
        type_name, abbreviation = rng.choice(TYPES)
        topic, place = rng.choice(TOPICS), rng.choice(PLACES)
        subject = f"{type_name} về {topic} tại {place}"
        priority = rng.choices(PRIORITIES, (70, 20, 7, 3))[0]
        if rng.random() < 0.7:
            unit = rng.choice(UNITS) if rng.random() < 0.9 else None
            f.incoming(
                at=at,
                subject=subject,
                document_type=type_name,
                priority=priority,
                code=(f"{rng.randrange(1, 400):02d}", f"{abbreviation or 'UBND'}-SNV"),
                secrecy="confidential" if rng.random() < 0.05 else "none",
                unit=unit,
                status="recalled" if rng.random() < 0.03 else "registered",
            )
        else:
            f.outgoing(
                at=at,
                subject=subject,
                document_type=type_name,
                abbreviation=abbreviation,
                priority=priority,
                unit=rng.choice(UNITS),
                secrecy="confidential" if rng.random() < 0.05 else "none",
                status=rng.choice(("issued", "issued", "issued", "cancelled")),
            )
    return f, named


@pytest.fixture(scope="module")
async def fixture_set(documents: Any) -> tuple[Fixture, Named]:
    f, named = build_fixture()
    async with documents.engine.begin() as connection:
        for doc in f.docs:  # one by one: search_tsv is an SQL expression
            await connection.execute(insert(documents_table).values(doc.row()))
        await connection.execute(
            insert(incoming_duplicates),
            [
                {
                    "document_id": d.id,
                    "duplicate_of": d.duplicate_of,
                    "rule": "number",
                    "detected_at": d.registered_at,
                }
                for d in f.docs
                if d.duplicate_of
            ],
        )
    return f, named


# ---- expectations, computed in Python from the fixture ------------------------------------------


@dataclass(frozen=True)
class Who:
    token: str
    reads_all: bool
    rank: int
    principals: frozenset[str]

    def sees(self, doc: Doc) -> bool:
        return RANKS[doc.secrecy] <= self.rank and (
            self.reads_all or bool(self.principals.intersection(doc.reach))
        )


@pytest.fixture(scope="module")
def clerk(documents: Any) -> Who:
    return Who(
        documents.mint.person("clerk-1", roles=("clerk",), clearance="confidential"),
        True,
        1,
        frozenset(),
    )


@pytest.fixture(scope="module")
def specialist(documents: Any) -> Who:
    token = documents.mint.person(SPECIALIST, roles=("specialist",), units=(SPECIALIST_UNIT,))
    return Who(token, False, 0, frozenset({f"unit:{SPECIALIST_UNIT}", f"person:{SPECIALIST}"}))


def ordered(docs: list[Doc], sort: str = "registered_at", ascending: bool = False) -> list[str]:
    """The order the API promises: the key (documents without one last ascending, first
    descending, as PostgreSQL orders NULLs), then the id."""

    def key(d: Doc) -> tuple[Any, ...]:
        value = {
            "registered_at": (d.registered_at,),
            "issued_date": (d.issued_date,),
            "number": (d.reg_year, d.reg_number),
        }[sort]
        return (value[0] is None, value if value[0] is not None else (), d.id)

    if ascending:
        return [d.id for d in sorted(docs, key=key)]
    # Descending: NULL keys first, then the keys and ids descending.
    with_key = sorted((d for d in docs if key(d)[0] is False), key=key, reverse=True)
    without = sorted((d for d in docs if key(d)[0] is True), key=lambda d: d.id, reverse=True)
    return [d.id for d in without + with_key]


async def all_pages(
    call: Callable[..., Any], request: Any, token: str
) -> tuple[list[str], list[Any]]:
    ids: list[str] = []
    answers = []
    while True:
        answer = await call(request, metadata=metadata(token))
        answers.append(answer)
        ids += [d.id for d in answer.documents]
        if not answer.next_page_token:
            return ids, answers
        request.page_token = answer.next_page_token


@contextlib.contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL the documents service (in this process) sends meanwhile."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def search_ids(
    stub: DocumentRegistryServiceStub, who: Who, q: str, **filter_: Any
) -> tuple[set[str], Any]:
    request = pb.SearchDocumentsRequest(q=q, page_size=100, filter=pb.DocumentFilter(**filter_))
    ids, answers = await all_pages(stub.SearchDocuments, request, who.token)
    assert len(ids) == len(set(ids))
    return set(ids), answers[0]


def head_terms(d: Doc) -> list[str]:
    return search_head(
        subject=d.subject,
        code_number=d.code_number,
        code_notation=d.code_notation,
        issuer_name=d.issuer_name,
    ).split()


def matching(f: Fixture, q: str) -> set[str]:
    """Documents the words of `q` find: every term, the last as a prefix (no numbers here)."""
    *whole, last = search_terms(q)
    return {
        d.id
        for d in f.docs
        if set(whole) <= set(head_terms(d)) and any(t.startswith(last) for t in head_terms(d))
    }


# ---- search: Vietnamese text and numbers --------------------------------------------------------


async def test_words_without_diacritics_find_them_with(stub, fixture_set, clerk) -> None:
    f, named = fixture_set
    plain, answer = await search_ids(stub, clerk, "quyet dinh")
    marked, _ = await search_ids(stub, clerk, "quyết định")
    assert named.decision.id in plain
    assert plain == marked
    expected = {d.id for d in f.docs if clerk.sees(d)} & matching(f, "quyet dinh")
    assert plain == expected
    assert (answer.total, answer.total_exact) == (len(expected), True)


async def test_d_with_stroke_is_d(stub, fixture_set, clerk) -> None:
    _, named = fixture_set
    for q in ("đường Đồng Văn", "duong dong van", "ĐƯỜNG đồng văn", "Ðồng"):  # U+00D0 too
        found, _ = await search_ids(stub, clerk, q)
        assert named.road.id in found, q


async def test_a_number_in_another_order_finds_the_document(stub, fixture_set, clerk) -> None:
    _, named = fixture_set
    # With a number every term is whole (ADR 0009): "ubnd" last is not a prefix here.
    for q in ("QD-UBND 5", "5/QD-UBND", "05/QĐ-UBND", "qđ ubnd 05", "5 QĐ-UBND"):
        found, _ = await search_ids(stub, clerk, q)
        assert named.decision.id in found, q


async def test_a_mistyped_notation_with_its_number_still_finds_it(stub, fixture_set, clerk) -> None:
    _, named = fixture_set
    found, _ = await search_ids(stub, clerk, "QD-UBN 5")
    assert named.decision.id in found
    # The number is taken as written: another number does not bring it, nor another notation
    # with the same number.
    for q in ("QD-UBN 6", "XYZ-ABC 5"):
        found, _ = await search_ids(stub, clerk, q)
        assert named.decision.id not in found, q


async def test_a_notation_typed_right_is_not_guessed_at_outside_the_filters(
    stub, fixture_set, clerk, specialist
) -> None:
    """ "05/QĐ-UBND" sought among Công văn finds nothing, and since the caller can open it
    outside that filter it was typed right: no near notation is offered. A mangled one under
    a filter is still guessed at; and a caller who cannot open the document is answered as if
    it were not there (the guess runs), never told of it."""
    _, named = fixture_set
    assert named.decision.document_type == "Quyết định"
    assert clerk.sees(named.decision) and not specialist.sees(named.decision)

    async def search(who: Who, q: str, types: list[str]) -> tuple[set[str], bool]:
        with recorded_statements() as sent:
            found, _ = await search_ids(stub, who, q, document_types=types)
        return found, any("word_similarity" in statement for statement in sent)

    assert await search(clerk, "QD-UBND 5", ["Công văn"]) == (set(), False)
    # Two slips in a short word: no correction reaches it, so the trigram branch is asked.
    _, guessed = await search(clerk, "QD-UNBX 5", ["Quyết định"])
    assert guessed
    found, guessed = await search(specialist, "QD-UBND 5", ["Công văn"])
    assert named.decision.id not in found and guessed


@pytest.mark.parametrize("words", [50, 1], ids=["the words it begins", "a prefix"])
async def test_the_last_word_is_a_prefix(
    stub, fixture_set, clerk, specialist, monkeypatch, words
) -> None:
    """Sought as the vocabulary's words it begins when they are few, else (and a letter that
    begins any) tested on the rows the other words find: the same documents either way; a
    prefix no word begins finds nothing, and a letter no word begins is sought as itself."""
    monkeypatch.setattr(search_sql, "PREFIX_WORDS", words)
    f, named = fixture_set
    for who in (clerk, specialist):
        for q in ("chuyen doi s", "quyet d", "thi xa cu", "ke hoach"):
            with recorded_statements() as sent:
                found, answer = await search_ids(stub, who, q)
            expected = {d.id for d in f.docs if who.sees(d)} & matching(f, q)
            assert found == expected and expected, (who, q)
            assert (answer.total, answer.total_exact) == (len(expected), True), (who, q)
            # A letter that begins words always; else past PREFIX_WORDS ("hoach" begins one).
            off_index = len(q.split()[-1]) == 1 or (words == 1 and q != "ke hoach")
            assert any("ts_match_vq" in s for s in sent) == off_index, (who, q)
        # A letter no word begins is sought whole, by the index: no row is read for it.
        with recorded_statements() as sent:
            found, _ = await search_ids(stub, who, "quyet w")
        assert found == set()
        assert not any("ts_match_vq" in s for s in sent), who
    found, _ = await search_ids(stub, clerk, "chuyen doi s")
    assert named.decision.id in found
    with recorded_statements() as sent:
        found, _ = await search_ids(stub, clerk, "chuyen doi sqz")
    assert found == set()
    # Known to match nothing from the vocabulary: no statement over the documents.
    assert not any("FROM documents" in statement for statement in sent)


async def test_words_with_a_number_take_the_last_word_as_a_prefix_when_whole_finds_nothing(
    stub, fixture_set, clerk
) -> None:
    """ "2025 chuyen doi s": with a number every term is whole first ("s" finds nothing), then
    the last word is taken as a prefix, on every page of it."""
    f, named = fixture_set
    for q in ("2025 chuyen doi s", "1 nha"):
        expected = {d.id for d in f.docs if clerk.sees(d)} & matching(f, q)
        ids, pages = await all_pages(
            stub.SearchDocuments, pb.SearchDocumentsRequest(q=q, page_size=2), clerk.token
        )
        # Exactly the documents with every term, the last as a prefix, and the same total on
        # every page.
        assert set(ids) == expected and len(ids) == len(expected), q
        assert {(p.total, p.total_exact) for p in pages} == {(len(expected), True)}, q
    assert named.decision.id in matching(f, "2025 chuyen doi s")
    # The pages of "1 nha" came from the prefix retry, not from the trigram fallback.
    assert len(pages) > 1
    token = decode_token(pages[0].next_page_token)
    assert token.get("p") == "1" and "z" not in token


async def test_a_typo_is_corrected_against_the_vocabulary(stub, fixture_set, clerk) -> None:
    """A word not in the vocabulary is sought as the words of it within an edit ("vaan" is
    "van"), numbers as written, on every page of it (the token says so)."""
    f, named = fixture_set
    found, _ = await search_ids(stub, clerk, "dong vaan")
    assert named.road.id in found
    assert found == {d.id for d in f.docs if clerk.sees(d)} & matching(f, "dong van")
    # A mistyped ký hiệu with its number: "ubnf" is "ubnd", 5 stays 5.
    found, _ = await search_ids(stub, clerk, "QD-UBNF 5")
    assert named.decision.id in found
    first = await stub.SearchDocuments(
        pb.SearchDocumentsRequest(q="xa cuaa", page_size=2), metadata=metadata(clerk.token)
    )
    assert first.next_page_token and decode_token(first.next_page_token).get("c") == "1"
    ids, _ = await all_pages(
        stub.SearchDocuments, pb.SearchDocumentsRequest(q="xa cuaa", page_size=2), clerk.token
    )
    assert set(ids) == {d.id for d in f.docs if clerk.sees(d)} & matching(f, "xa cua")


async def test_nothing_found_is_an_empty_exact_page(stub, fixture_set, clerk) -> None:
    found, answer = await search_ids(stub, clerk, "xyzzy plugh")
    assert found == set()
    assert (answer.total, answer.total_exact, answer.next_page_token) == (0, True, "")


# ---- filters ------------------------------------------------------------------------------------


FILTERS: dict[str, tuple[dict[str, Any], Callable[[Doc], bool], tuple[str, ...]]] = {
    "document_types": (
        {"document_types": ["Quyết định", "Giấy mời"]},
        lambda d: d.document_type in ("Quyết định", "Giấy mời"),
        ("incoming", "outgoing"),
    ),
    "date range": (
        {"registered_from": "2025-03-10", "registered_to": "2025-03-31"},
        lambda d: (
            d.registered_at is not None
            and date(2025, 3, 10) <= d.registered_at.astimezone(VIETNAM).date() <= date(2025, 3, 31)
        ),
        ("incoming", "outgoing"),
    ),
    "priorities": (
        {"priorities": [pb.PRIORITY_URGENT, pb.PRIORITY_FLASH]},
        lambda d: d.priority in ("urgent", "flash"),
        ("incoming", "outgoing"),
    ),
    "incoming statuses": (
        {"statuses": [pb.DOCUMENT_STATUS_RECALLED]},
        lambda d: d.status == "recalled",
        ("incoming",),
    ),
    "outgoing statuses": (
        {"statuses": [pb.DOCUMENT_STATUS_CANCELLED, pb.DOCUMENT_STATUS_DRAFT]},
        lambda d: d.status in ("cancelled", "draft"),
        ("outgoing",),
    ),
    "unit": ({"unit": "PKT"}, lambda d: d.unit_code == "PKT", ("incoming", "outgoing")),
    "secrecy": (
        {"secrecy": [pb.SECRECY_CONFIDENTIAL]},
        lambda d: d.secrecy == "confidential",
        ("incoming", "outgoing"),
    ),
    "duplicates": ({"duplicates_only": True}, lambda d: d.duplicate_of is not None, ("incoming",)),
    # The lists fix the direction: a filter's direction changes nothing.
    "direction ignored": (
        {"direction": pb.DIRECTION_OUTGOING},
        lambda d: True,
        ("incoming",),
    ),
}
LISTS = {
    "incoming": ("ListIncomingDocuments", pb.ListIncomingDocumentsRequest),
    "outgoing": ("ListOutgoingDocuments", pb.ListOutgoingDocumentsRequest),
}


@pytest.mark.parametrize("name", FILTERS)
async def test_each_filter_of_the_lists(stub, fixture_set, clerk, name) -> None:
    f, _ = fixture_set
    filter_, keep, directions = FILTERS[name]
    for direction in directions:
        method, request_type = LISTS[direction]
        request = request_type(page_size=50, filter=pb.DocumentFilter(**filter_))
        ids, answers = await all_pages(getattr(stub, method), request, clerk.token)
        expected = ordered(
            [d for d in f.docs if d.direction == direction and clerk.sees(d) and keep(d)]
        )
        assert expected, "a filter test needs documents to find"
        assert ids == expected, (name, direction)
        assert (answers[0].total, answers[0].total_exact) == (len(expected), True)


async def test_search_filters_by_direction(stub, fixture_set, clerk) -> None:
    f, _ = fixture_set
    found, _ = await search_ids(stub, clerk, "ke hoach", direction=pb.DIRECTION_OUTGOING)
    expected = {d.id for d in f.docs if d.direction == "outgoing" and clerk.sees(d)} & matching(
        f, "ke hoach"
    )
    assert expected and found == expected


async def test_search_filters_combine_with_the_text(stub, fixture_set, clerk) -> None:
    _f, named = fixture_set
    found, answer = await search_ids(
        stub, clerk, "moi khoi cong", direction=pb.DIRECTION_INCOMING, duplicates_only=True
    )
    assert found == {named.copy.id}
    assert answer.documents[0].duplicate_count == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2025, 3, 31), date(2025, 4, 1)),
        (date(2024, 12, 1), date(2025, 1, 31)),
    ],
    ids=["a year", "two days", "across new year"],
)
async def test_a_search_within_dates_finds_what_its_vietnam_days_hold(
    stub, fixture_set, clerk, specialist, start, end
) -> None:
    """Within one year the search asks that year's text index (its registration year is the
    Vietnam year of registered_at); across years it does not: the same documents either way,
    by the days in Vietnam time (ADR 0009)."""
    f, _ = fixture_set
    found = matching(f, "ve")
    seen = 0
    for who in (clerk, specialist):
        expected = {
            d.id
            for d in f.docs
            if who.sees(d)
            and d.id in found
            and d.registered_at is not None
            and start <= d.registered_at.astimezone(VIETNAM).date() <= end
        }
        ids, _ = await search_ids(
            stub,
            who,
            "ve",
            registered_from=start.isoformat(),
            registered_to=end.isoformat(),
        )
        assert ids == expected, (who, start, end)
        seen += len(expected)
    assert seen


@pytest.mark.parametrize(
    ("cap", "gather"),
    [(1_000, 2_000), (3, 2_000), (3, 3)],
    ids=["gathered", "more than the cap", "more than a gathering"],
)
async def test_a_reader_by_reach_within_a_year_gets_the_newest_first(
    stub, fixture_set, specialist, monkeypatch, cap, gather
) -> None:
    """Within one year a reader by reach's matches are gathered from that year's text index
    before any walk: up to YEAR_GATHER of them give the page and the total (exact up to the
    cap); beyond that the page comes from the walk and the total is "more than"."""
    monkeypatch.setattr(search_domain, "SEARCH_TOTAL_CAP", cap)
    monkeypatch.setattr(search_sql, "YEAR_GATHER", gather)
    f, _ = fixture_set
    found = matching(f, "ve")
    docs = [
        d
        for d in f.docs
        if specialist.sees(d)
        and d.id in found
        and d.registered_at is not None
        and d.registered_at.astimezone(VIETNAM).year == 2025
    ]
    assert len(docs) > 3
    with recorded_statements() as sent:
        answer = await stub.SearchDocuments(
            pb.SearchDocumentsRequest(
                q="ve",
                page_size=2,
                filter=pb.DocumentFilter(registered_from="2025-01-01", registered_to="2025-12-31"),
            ),
            metadata=metadata(specialist.token),
        )
    assert [d.id for d in answer.documents] == ordered(docs)[:2]
    over = len(docs) > cap
    assert (answer.total, answer.total_exact) == ((cap, False) if over else (len(docs), True))
    reads = [s for s in sent if "FROM documents" in s]
    assert "gathered" in reads[0], "gathered before any walk"
    walked = len(docs) > gather
    assert any("recent" in s for s in reads) == walked, "walked only past the gathering"
    assert len(reads) == (2 if walked else 1), "no count: the gathering settled the total"


async def test_each_row_carries_its_own_duplicate_count(stub, fixture_set, clerk) -> None:
    """The warning count belongs to the row: the copy warns of one document, every other row of
    none, on a page the list builds and on one the search's walk builds alike."""
    f, named = fixture_set
    request = pb.ListIncomingDocumentsRequest(page_size=100)
    _, answers = await all_pages(stub.ListIncomingDocuments, request, clerk.token)
    listed = {d.id: d.duplicate_count for answer in answers for d in answer.documents}
    expected = {
        d.id: int(d.duplicate_of is not None)
        for d in f.docs
        if d.direction == "incoming" and clerk.sees(d)
    }
    assert listed == expected
    assert sum(listed.values()) == 1
    # Pages of 2 of "V/v" (in 7 subjects): the walk builds every page that has a page and one
    # more after it, the copy's among them.
    with recorded_statements() as sent:
        _, pages = await all_pages(
            stub.SearchDocuments, pb.SearchDocumentsRequest(q="V/v", page_size=2), clerk.token
        )
    assert any("row_number()" in statement for statement in sent), "the walk did not run"
    found = {d.id: d.duplicate_count for page in pages for d in page.documents}
    assert {named.copy.id, named.original.id} <= set(found)
    assert found == {i: int(i == named.copy.id) for i in found}


async def test_the_date_range_is_vietnam_time(stub, fixture_set, clerk) -> None:
    _, named = fixture_set
    request = pb.ListIncomingDocumentsRequest(
        page_size=100,
        filter=pb.DocumentFilter(registered_from="2025-03-31", registered_to="2025-03-31"),
    )
    ids, _ = await all_pages(stub.ListIncomingDocuments, request, clerk.token)
    assert named.end_of_march.id in ids
    assert named.start_of_april.id not in ids


# ---- order and pages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "name"),
    [
        (pb.DOCUMENT_SORT_UNSPECIFIED, "registered_at"),
        (pb.DOCUMENT_SORT_REGISTERED_AT, "registered_at"),
        (pb.DOCUMENT_SORT_ISSUED_DATE, "issued_date"),
        (pb.DOCUMENT_SORT_NUMBER, "number"),
    ],
)
@pytest.mark.parametrize("ascending", [False, True])
async def test_pages_follow_the_order_without_duplicates_or_gaps(
    stub, fixture_set, clerk, sort, name, ascending
) -> None:
    f, _ = fixture_set
    request = pb.ListOutgoingDocumentsRequest(page_size=7, sort=sort, ascending=ascending)
    ids, answers = await all_pages(stub.ListOutgoingDocuments, request, clerk.token)
    expected = ordered(
        [d for d in f.docs if d.direction == "outgoing" and clerk.sees(d)], name, ascending
    )
    assert ids == expected
    assert len(answers) == -(-len(expected) // 7)
    assert {(a.total, a.total_exact) for a in answers} == {(len(expected), True)}


async def test_search_pages_across_both_directions(stub, fixture_set, clerk) -> None:
    f, _ = fixture_set
    request = pb.SearchDocumentsRequest(q="ve", page_size=9)
    ids, _ = await all_pages(stub.SearchDocuments, request, clerk.token)
    found = matching(f, "ve")
    expected = ordered([d for d in f.docs if clerk.sees(d) and d.id in found])
    assert len(expected) > 20 and ids == expected


@pytest.mark.parametrize(
    ("sort", "name"),
    [
        (pb.DOCUMENT_SORT_REGISTERED_AT, "registered_at"),
        (pb.DOCUMENT_SORT_NUMBER, "number"),
    ],
)
@pytest.mark.parametrize("cap", [1_000, 10], ids=["all gathered", "more than the cap"])
async def test_a_search_the_walk_cannot_serve_pages_in_order_with_its_total(
    stub, fixture_set, clerk, specialist, monkeypatch, sort, name, cap
) -> None:
    """When the walk finds no page (one row of it), the first page is sorted from the matches
    gathered with its total when they are at most the cap, else taken by the index; another
    order takes it by the index: either way the pages are the order and the total is exact or
    the cap (ADR 0009)."""
    monkeypatch.setattr(search_sql, "WALK_ROWS", 1)
    monkeypatch.setattr(search_domain, "SEARCH_TOTAL_CAP", cap)
    f, _ = fixture_set
    found = matching(f, "ve")  # once: it reads every document (seconds, per document)
    for who in (clerk, specialist):
        expected = ordered([d for d in f.docs if who.sees(d) and d.id in found], name)
        request = pb.SearchDocumentsRequest(q="ve", page_size=4, sort=sort)
        with recorded_statements() as sent:
            ids, answers = await all_pages(stub.SearchDocuments, request, who.token)
        assert len(expected) > 10 and ids == expected, who
        total = (len(expected), True) if cap > len(expected) else (cap, False)
        assert {(a.total, a.total_exact) for a in answers} == {total}, who
        # Gathered when the walk found no page; another order is not walked, nor gathered.
        gathered = any("gathered" in statement for statement in sent)
        assert gathered == (name == "registered_at")


async def test_a_document_added_between_pages_moves_nothing(
    stub, fixture_set, clerk, documents
) -> None:
    f, _ = fixture_set
    first = await stub.ListIncomingDocuments(
        pb.ListIncomingDocumentsRequest(page_size=10), metadata=metadata(clerk.token)
    )
    late = Doc(
        id=str(uuid.uuid4()),
        direction="incoming",
        status="registered",
        document_type="Công văn",
        subject="V/v đến muộn",
        priority="normal",
        secrecy="none",
        registered_at=datetime.now(UTC),
        code_number="1",
        code_notation="UBND-VP",
        issuer_code="000.00.00.H40",
        issuer_name="Ủy ban nhân dân tỉnh Nghệ An",
        issued_date=date.today(),
        register_id="incoming",
        reg_year=2099,
        reg_number=1,
    )
    async with documents.engine.begin() as connection:
        await connection.execute(insert(documents_table).values(late.row()))
    try:
        second = await stub.ListIncomingDocuments(
            pb.ListIncomingDocumentsRequest(page_size=10, page_token=first.next_page_token),
            metadata=metadata(clerk.token),
        )
        expected = ordered([d for d in f.docs if d.direction == "incoming" and clerk.sees(d)])
        assert [d.id for d in second.documents] == expected[10:20]
    finally:
        async with documents.engine.begin() as connection:
            await connection.execute(
                documents_table.delete().where(documents_table.c.id == late.id)
            )


# ---- visibility ---------------------------------------------------------------------------------


async def test_a_specialist_sees_only_their_reach_and_clearance(
    stub, fixture_set, specialist
) -> None:
    f, named = fixture_set
    expected = [d for d in f.docs if specialist.sees(d)]
    assert named.secret_pth not in expected and named.draft in expected
    for call, request_type, direction in (
        (stub.ListIncomingDocuments, pb.ListIncomingDocumentsRequest, "incoming"),
        (stub.ListOutgoingDocuments, pb.ListOutgoingDocumentsRequest, "outgoing"),
    ):
        ids, answers = await all_pages(call, request_type(page_size=5), specialist.token)
        mine = ordered([d for d in expected if d.direction == direction])
        assert ids == mine
        assert answers[0].total == len(mine)


async def test_not_even_totals_count_what_a_specialist_may_not_see(
    stub, fixture_set, specialist, clerk
) -> None:
    f, named = fixture_set
    found, answer = await search_ids(stub, specialist, "muc tieu trong diem")
    assert found == set() and answer.total == 0
    found, answer = await search_ids(stub, clerk, "muc tieu trong diem")
    assert found == {named.secret_pth.id} and answer.total == 1
    # A broad search: the total is what they may open, no more.
    found, answer = await search_ids(stub, specialist, "ve")
    expected = {d.id for d in f.docs if specialist.sees(d)} & matching(f, "ve")
    assert (
        len(expected) >= 10
        and len(matching(f, "ve")) > 2 * len(expected)
        and found == expected
        and answer.total == len(expected)
    )


async def test_a_clerk_without_clearance_misses_confidential_ones(
    stub, fixture_set, documents
) -> None:
    f, named = fixture_set
    token = documents.mint.person("clerk-2", roles=("clerk",))
    ids, answers = await all_pages(
        stub.ListIncomingDocuments, pb.ListIncomingDocumentsRequest(page_size=100), token
    )
    assert named.secret_pth.id not in ids
    assert answers[0].total == len(
        [d for d in f.docs if d.direction == "incoming" and d.secrecy == "none"]
    )


# ---- totals -------------------------------------------------------------------------------------


async def test_a_total_above_the_cap_is_a_lower_bound(
    stub, fixture_set, clerk, monkeypatch
) -> None:
    monkeypatch.setattr(search_domain, "TOTAL_CAP", 10)
    answer = await stub.ListIncomingDocuments(
        pb.ListIncomingDocumentsRequest(page_size=5), metadata=metadata(clerk.token)
    )
    assert (answer.total, answer.total_exact) == (10, False)
    following = await stub.ListIncomingDocuments(
        pb.ListIncomingDocumentsRequest(page_size=5, page_token=answer.next_page_token),
        metadata=metadata(clerk.token),
    )
    assert (following.total, following.total_exact) == (10, False)


async def test_a_search_total_is_exact_to_100_and_a_list_total_to_1000(
    stub, fixture_set, clerk
) -> None:
    """A search's total reads the rows of its words, so it stops at 100; a list's is the
    index's, to 1 000 (ADR 0009). A token claiming more than its kind's cap is forged."""
    f, _ = fixture_set
    found = matching(f, "ve")
    assert len({d.id for d in f.docs if clerk.sees(d)} & found) > 100
    answer = await stub.SearchDocuments(
        pb.SearchDocumentsRequest(q="ve", page_size=5), metadata=metadata(clerk.token)
    )
    assert (answer.total, answer.total_exact) == (100, False)
    listed = await stub.ListIncomingDocuments(
        pb.ListIncomingDocumentsRequest(page_size=5), metadata=metadata(clerk.token)
    )
    incoming = [d for d in f.docs if d.direction == "incoming" and clerk.sees(d)]
    assert 100 < len(incoming) < 1000
    assert (listed.total, listed.total_exact) == (len(incoming), True)
    data = decode_token(answer.next_page_token)
    data["t"] = "500"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    error = await refusal(
        stub.SearchDocuments,
        pb.SearchDocumentsRequest(q="ve", page_size=5, page_token=forged),
        clerk.token,
    )
    assert error.reason == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize("window", [40_000, 30], ids=["rows read", "index counts"])
async def test_the_total_of_a_broad_search_is_what_the_caller_may_open(
    stub, fixture_set, clerk, specialist, monkeypatch, window
) -> None:
    """A page of 5 that the walk finds among the newest rows: a clerk's total is counted by
    reading the visible, filtered rows (ADR 0009), or by the index when the walk's density says
    that many rows would not settle it; a reader by reach's year by year, each year by its own
    text index; each gives what the caller may open, exactly."""
    monkeypatch.setattr(search_sql, "COUNT_ROWS", window)
    monkeypatch.setattr(search_domain, "SEARCH_TOTAL_CAP", 1_000)
    f, _ = fixture_set
    for who in (clerk, specialist):
        for direction, name in (
            (pb.DIRECTION_UNSPECIFIED, None),
            (pb.DIRECTION_INCOMING, "incoming"),
        ):
            expected = {
                d.id for d in f.docs if who.sees(d) and name in (None, d.direction)
            } & matching(f, "ve")
            with recorded_statements() as sent:
                answer = await stub.SearchDocuments(
                    pb.SearchDocumentsRequest(
                        q="ve", page_size=5, filter=pb.DocumentFilter(direction=direction)
                    ),
                    metadata=metadata(who.token),
                )
            assert len(expected) > 5
            assert (answer.total, answer.total_exact) == (len(expected), True), (who, name)
            read = any(" AS there" in statement for statement in sent)
            by_year = any("UNION ALL" in statement for statement in sent)
            if who is clerk:
                assert (read, by_year) == (window > 30, False), "which count ran"
            else:
                assert (read, by_year) == (False, True), "which count ran"
    monkeypatch.setattr(search_domain, "SEARCH_TOTAL_CAP", 10)
    answer = await stub.SearchDocuments(
        pb.SearchDocumentsRequest(q="ve", page_size=5), metadata=metadata(clerk.token)
    )
    assert (answer.total, answer.total_exact) == (10, False)


@pytest.mark.parametrize(("q", "read"), [("ve", False), ("ke h", True)], ids=["words", "a prefix"])
async def test_a_clerks_total_within_a_year(stub, fixture_set, clerk, monkeypatch, q, read) -> None:
    """Within one year a clerk's total of whole words is counted by the year's text index;
    with a prefix, by reading the year's filtered rows: what the clerk may open, exactly."""
    monkeypatch.setattr(search_domain, "SEARCH_TOTAL_CAP", 1_000)
    f, _ = fixture_set
    found = matching(f, q)
    expected = {
        d.id
        for d in f.docs
        if clerk.sees(d)
        and d.id in found
        and d.registered_at is not None
        and d.registered_at.astimezone(VIETNAM).year == 2025
    }
    assert len(expected) > 2
    with recorded_statements() as sent:
        answer = await stub.SearchDocuments(
            pb.SearchDocumentsRequest(
                q=q,
                page_size=2,
                filter=pb.DocumentFilter(registered_from="2025-01-01", registered_to="2025-12-31"),
            ),
            metadata=metadata(clerk.token),
        )
    assert (answer.total, answer.total_exact) == (len(expected), True)
    assert any(" AS there" in statement for statement in sent) == read, "which count ran"


async def test_a_gathering_past_the_cap_settles_the_total(
    stub, fixture_set, clerk, monkeypatch
) -> None:
    """A số is gathered, not walked: more matches than the cap make the total "more than",
    and no count runs after the gathering (its rows already told)."""
    monkeypatch.setattr(search_domain, "SEARCH_TOTAL_CAP", 1)
    _, named = fixture_set
    with recorded_statements() as sent:
        answer = await stub.SearchDocuments(
            pb.SearchDocumentsRequest(q="88 GM-SXD", page_size=1), metadata=metadata(clerk.token)
        )
    assert [d.id for d in answer.documents] == [named.copy.id]  # the newer of the two
    assert (answer.total, answer.total_exact) == (1, False)
    reads = [s for s in sent if "FROM documents" in s]
    assert len(reads) == 2 and "gathered" in reads[0], "the gathering, then the page"


async def test_a_reader_by_reach_has_every_year_counted(
    stub, documents, fixture_set, specialist, monkeypatch
) -> None:
    """A reader by reach's total is counted year by year (each year's text index holds the
    reach); the rows no year's index holds are counted too: a draft (no registration year
    yet) and a year before the indexed ones."""
    monkeypatch.setattr(search_domain, "SEARCH_TOTAL_CAP", 1_000)
    f, named = fixture_set
    old = Doc(
        id=str(uuid.uuid4()),
        direction="incoming",
        status="registered",
        document_type="Công văn",
        subject="V/v kế hoạch chuyển đổi số của năm 2010",
        priority="normal",
        secrecy="none",
        registered_at=vn(2010, 6, 1, 9),
        code_number="12",
        code_notation="UBND-VP",
        issuer_code="000.00.00.H40",
        issuer_name="Ủy ban nhân dân tỉnh Nghệ An",
        issued_date=date(2010, 5, 30),
        register_id="incoming",
        reg_year=2010,
        reg_number=1,
        unit_code=SPECIALIST_UNIT,
        reach=[f"unit:{SPECIALIST_UNIT}"],
    )
    # And one registered in a year after this one (a clock set wrong, or a year to come).
    later_year = datetime.now(VIETNAM).year + 1
    later = replace(
        old,
        id=str(uuid.uuid4()),
        registered_at=vn(later_year, 1, 5, 9),
        issued_date=date(later_year, 1, 4),
        reg_year=later_year,
    )
    expected = {d.id for d in f.docs if specialist.sees(d)} & matching(f, "ke hoach")
    assert named.draft.id in expected and named.draft.reg_year is None
    async with documents.engine.begin() as connection:
        await connection.execute(insert(documents_table).values([old.row(), later.row()]))
    try:
        with recorded_statements() as sent:
            answer = await stub.SearchDocuments(
                pb.SearchDocumentsRequest(q="ke hoach", page_size=2),
                metadata=metadata(specialist.token),
            )
        assert any("UNION ALL" in statement for statement in sent), "counted by year"
        assert (answer.total, answer.total_exact) == (len(expected) + 2, True)
    finally:
        async with documents.engine.begin() as connection:
            await connection.execute(
                documents_table.delete().where(documents_table.c.id.in_([old.id, later.id]))
            )


async def test_rows_read_that_do_not_settle_the_total_leave_it_to_the_index(
    documents, fixture_set, clerk, monkeypatch
) -> None:
    """Reading COUNT_ROWS of more visible rows than that finds fewer matches than the cap: the
    total is then counted by the index, not taken from the rows read."""
    f, _ = fixture_set
    viewer = Viewer(clearance_rank=1, reads_all=True, principals=())
    query = make_query(filter=Filter(), q="ve")
    expected = {d.id for d in f.docs if clerk.sees(d)} & matching(f, "ve")
    visible = [d for d in f.docs if clerk.sees(d)]
    monkeypatch.setattr(search_sql, "COUNT_ROWS", 50)
    monkeypatch.setattr(search_domain, "SEARCH_TOTAL_CAP", 1_000)
    # A walk that found 21 matches in 1 row: the density says 1 001 are within 50 rows.
    walked = search_sql.Walked(rows=[None] * 21, depth=1)
    assert len(visible) > 50 and len(expected) > 21
    async with AsyncSession(documents.engine) as session, session.begin():
        where = [search_sql.visible_to(viewer), *search_sql.filters(query, VIETNAM, viewer)]
        match = search_sql.text_match(query)
        read = await search_sql._count_by_reading(session, query, where, viewer)
        counted = await search_sql._count(session, query, where, match, walked, viewer, VIETNAM)
    assert read is None  # the 50 rows held fewer than the cap, and there were more to see
    assert counted == len(expected)


# ---- bad input ----------------------------------------------------------------------------------


# ---- bad input ----------------------------------------------------------------------------------


async def refusal(call: Any, request: Any, token: str) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(request, metadata=metadata(token))
    return remote_error(caught.value)


@pytest.mark.parametrize(
    ("request_", "reason", "field"),
    [
        (pb.SearchDocumentsRequest(q=""), "INVALID_QUERY", "q"),
        (pb.SearchDocumentsRequest(q="--- ///"), "INVALID_QUERY", "q"),
        (pb.SearchDocumentsRequest(q="a" * 501), "INVALID_QUERY", "q"),
        (
            pb.SearchDocumentsRequest(q="x", page_token="not a token"),
            "INVALID_PAGE_TOKEN",
            "page_token",
        ),
        (pb.SearchDocumentsRequest(q="x", page_size=-1), "INVALID_PAGE", "page_size"),
        (
            pb.SearchDocumentsRequest(
                q="x", filter=pb.DocumentFilter(registered_from="2025-13-01")
            ),
            "INVALID_FILTER",
            "filter.registered_from",
        ),
        (
            pb.SearchDocumentsRequest(
                q="x",
                filter=pb.DocumentFilter(registered_from="2025-05-01", registered_to="2025-04-01"),
            ),
            "INVALID_FILTER",
            "filter.registered_to",
        ),
        (
            pb.SearchDocumentsRequest(
                q="x", filter=pb.DocumentFilter(priorities=[pb.Priority.ValueType(42)])
            ),
            "INVALID_FILTER",
            "filter.priorities",
        ),
        (
            pb.SearchDocumentsRequest(q="x", sort=pb.DocumentSort.ValueType(42)),
            "INVALID_FILTER",
            "sort",
        ),
    ],
)
async def test_bad_input_names_the_field(stub, fixture_set, clerk, request_, reason, field) -> None:
    error = await refusal(stub.SearchDocuments, request_, clerk.token)
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert error.reason == reason
    assert field in {v.field for v in error.violations}


async def test_a_status_of_the_other_direction_is_refused(stub, fixture_set, clerk) -> None:
    error = await refusal(
        stub.ListIncomingDocuments,
        pb.ListIncomingDocumentsRequest(
            filter=pb.DocumentFilter(statuses=[pb.DOCUMENT_STATUS_DRAFT])
        ),
        clerk.token,
    )
    assert (error.reason, [v.field for v in error.violations]) == (
        "INVALID_FILTER",
        ["filter.statuses"],
    )


async def test_a_token_of_another_query_is_refused(stub, fixture_set, clerk) -> None:
    first = await stub.SearchDocuments(
        pb.SearchDocumentsRequest(q="ve", page_size=2), metadata=metadata(clerk.token)
    )
    assert first.next_page_token
    error = await refusal(
        stub.SearchDocuments,
        pb.SearchDocumentsRequest(q="quyet", page_size=2, page_token=first.next_page_token),
        clerk.token,
    )
    assert error.reason == "INVALID_PAGE_TOKEN"
    error = await refusal(
        stub.ListIncomingDocuments,
        pb.ListIncomingDocumentsRequest(page_size=2, page_token=first.next_page_token),
        clerk.token,
    )
    assert error.reason == "INVALID_PAGE_TOKEN"
