"""Registers, document types and register books through the real documents gRPC server, with
documents written straight into its database (as registration and issue would)."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import openpyxl
import pypdfium2
import pytest
from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.documents.tests.integration.conftest import run_documents
from vanban.contracts.directory.v1 import directory_pb2, directory_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.documents.adapters.db.tables import (
    cancelled_numbers,
    counters,
    document_recipients,
    documents,
)
from vanban.platform.errors import ErrorCode
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import DEMO_AGENCY, channel, metadata

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RANKS = {"none": 0, "confidential": 1, "secret": 2, "top_secret": 3}
XLSX = pb.RenderRegisterBookRequest.FORMAT_XLSX
PDF = pb.RenderRegisterBookRequest.FORMAT_PDF


def document_row(
    register_id: str, number: int, registered_at: datetime, **overrides: Any
) -> dict[str, Any]:
    """A numbered document as the registry stores it; incoming unless the register is not."""
    outgoing = register_id.startswith("outgoing")
    secrecy = register_id.split("-", 1)[1] if "-" in register_id else "none"
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "direction": "outgoing" if outgoing else "incoming",
        "status": "issued" if outgoing else "registered",
        "document_type": "Quyết định",
        "subject": f"Về việc phê duyệt dự toán ngân sách đợt {number}",
        "priority": "normal",
        "secrecy": secrecy,
        "secrecy_rank": RANKS[secrecy],
        "code_number": f"{number:02d}",
        "code_notation": "QĐ-UBND",
        "issued_date": registered_at.astimezone(VN).date(),
        "issuer_code": "000.00.00.H41",
        "issuer_name": "Ủy ban nhân dân tỉnh Nghệ An",
        "register_id": register_id,
        "reg_year": registered_at.astimezone(VN).year,
        "reg_number": number,
        "registered_at": registered_at,
        "unit_code": "VP",
        "created_by": "tests",
        "created_at": now,
        "updated_at": now,
        "received_via": None if outgoing else "electronic",
        "current_version": 1 if outgoing else None,
        "issued_amount": 5 if outgoing else None,
    }
    return values | overrides


async def insert_documents(engine: Any, *rows: dict[str, Any]) -> None:
    async with engine.begin() as connection:
        for row in rows:
            await connection.execute(
                pg_insert(counters)
                .values(
                    series=row["register_id"], year=row["reg_year"], last_number=row["reg_number"]
                )
                .on_conflict_do_update(
                    index_elements=[counters.c.series, counters.c.year],
                    set_={"last_number": row["reg_number"]},
                )
            )
            await connection.execute(insert(documents).values(**row))


def at(text: str) -> datetime:
    """An instant written in Vietnam time."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


async def book(
    stub: Any, token: str, **fields: Any
) -> tuple[list[pb.RenderRegisterBookResponse], bytes]:
    values: dict[str, Any] = {
        "register_id": "incoming",
        "from_date": "2026-01-01",
        "to_date": "2026-03-31",
        "format": XLSX,
    } | fields
    messages = [
        message
        async for message in stub.RenderRegisterBook(
            pb.RenderRegisterBookRequest(**values), metadata=metadata(token)
        )
    ]
    return messages, b"".join(m.chunk for m in messages)


async def refusal(stub: Any, token: str, **fields: Any) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await book(stub, token, **fields)
    return remote_error(caught.value)


def body_rows(data: bytes) -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(min_row=8, values_only=True)]


@pytest.fixture(scope="module")
async def first_quarter(documents: Any) -> dict[str, str]:
    """The incoming register of 2026 around the first quarter, out of order, with one number
    cancelled and arrivals on both sides of each Vietnam midnight that bounds the quarter."""
    rows = {
        "new_year_eve": document_row("incoming", 1, at("2025-12-31T23:30")),
        "first": document_row("incoming", 1, at("2026-01-01T00:10")),  # 31 Dec 17:10 UTC
        "third": document_row("incoming", 3, at("2026-02-10T09:00"), issuer_name="Bộ Tài chính"),
        "second": document_row("incoming", 2, at("2026-01-15T14:00")),
        "last": document_row("incoming", 4, at("2026-03-31T23:50")),  # 31 Mar 16:50 UTC
        "april": document_row("incoming", 5, at("2026-04-01T00:05")),
        "secret": document_row("incoming-secret", 1, at("2026-02-01T08:00")),
    }
    await insert_documents(documents.engine, *rows.values())
    async with documents.engine.begin() as connection:
        await connection.execute(
            insert(cancelled_numbers).values(
                register_id="incoming",
                year=2026,
                number=2,
                reason="Vào sổ nhầm văn bản của đơn vị khác",
                cancelled_by="vanthu",
                cancelled_at=at("2026-01-15T15:00"),
            )
        )
    return {name: row["id"] for name, row in rows.items()}


async def test_everyone_lists_the_registers_their_clearance_covers(
    stub: Any, documents: Any
) -> None:
    uncleared = await stub.ListRegisters(
        pb.ListRegistersRequest(),
        metadata=metadata(documents.mint.person(roles=("specialist",))),
    )
    assert [r.id for r in uncleared.registers] == ["incoming", "outgoing"]
    incoming = uncleared.registers[0]
    assert incoming.direction == pb.DIRECTION_INCOMING
    assert list(incoming.secrecy_levels) == [pb.SECRECY_NONE]
    cleared = await stub.ListRegisters(
        pb.ListRegistersRequest(),
        metadata=metadata(documents.mint.person(roles=("clerk",), clearance="top_secret")),
    )
    assert {r.id for r in cleared.registers} >= {
        "incoming-confidential",
        "incoming-top_secret",
        "outgoing-secret",
    }
    assert len(cleared.registers) == 8


async def test_everyone_lists_the_document_types(stub: Any, documents: Any) -> None:
    answer = await stub.ListDocumentTypes(
        pb.ListDocumentTypesRequest(),
        metadata=metadata(documents.mint.person(roles=("specialist",))),
    )
    types = {t.name: t.abbreviation for t in answer.document_types}
    assert types["Quyết định"] == "QĐ"
    assert types["Quy định"] == "QyĐ"
    assert types["Công văn"] == ""
    assert answer.document_types[0].name == "Nghị quyết"  # the decree's order


async def test_the_book_holds_the_quarter_by_vietnam_date_in_number_order(
    stub: Any, documents: Any, first_quarter: dict[str, str]
) -> None:
    messages, data = await book(stub, documents.mint.person(roles=("clerk",)))
    first = messages[0]
    assert first.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert first.file_name == "so-dang-ky-incoming-2026-01-01-2026-03-31.xlsx"
    assert first.chunk == b""
    rows = body_rows(data)
    # 1 Jan 00:10 (still 31 Dec in UTC) is in; 31 Dec 23:30 and 1 Apr 00:05 are out.
    assert [r[1] for r in rows] == [1, 2, 3, 4]
    assert [r[0].date() for r in rows] == [
        date(2026, 1, 1),
        date(2026, 1, 15),
        date(2026, 2, 10),
        date(2026, 3, 31),
    ]
    assert rows[2][2] == "Bộ Tài chính"
    assert rows[1][8] == "Đã hủy số: Vào sổ nhầm văn bản của đơn vị khác"
    assert rows[0][8] is None  # nothing to remark


async def test_a_book_of_one_day_holds_that_day_only(
    stub: Any, documents: Any, first_quarter: dict[str, str]
) -> None:
    token = documents.mint.person(roles=("archivist",))
    _, data = await book(stub, token, from_date="2026-03-31", to_date="2026-03-31")
    assert [r[1] for r in body_rows(data)] == [4]


async def test_the_pdf_comes_in_chunks_of_at_most_64_kib(stub: Any, documents: Any) -> None:
    start = at("2026-06-01T08:00")
    await insert_documents(
        documents.engine,
        *(
            document_row(
                "outgoing",
                n,
                start.replace(minute=n % 60, hour=8 + n // 60),
                subject=f"Về việc triển khai chuyển đổi số trong cơ quan hành chính, đợt {n}",
            )
            for n in range(1, 301)
        ),
    )
    async with documents.engine.begin() as connection:
        first_id = (
            await connection.exec_driver_sql(
                "SELECT id FROM documents WHERE register_id = 'outgoing' AND reg_number = 1 AND reg_year = 2026"
            )
        ).scalar_one()
        await connection.execute(
            insert(document_recipients).values(
                document_id=first_id,
                position=1,
                organ_id="000.00.00.G22",
                organ_name="Văn phòng Chính phủ",
            )
        )
    token = documents.mint.person(roles=("agency_leader",))
    messages, data = await book(
        stub,
        token,
        register_id="outgoing",
        from_date="2026-06-01",
        to_date="2026-06-30",
        format=PDF,
    )
    assert messages[0].content_type == "application/pdf"
    assert messages[0].file_name.endswith(".pdf")
    assert len(messages) >= 3  # the file needed more than one chunk
    assert all(len(m.chunk) <= 64 * 1024 for m in messages)
    pdf = pypdfium2.PdfDocument(data)
    text = " ".join(" ".join(page.get_textpage().get_text_range() for page in pdf).split())
    pdf.close()
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in text
    # No directory runs beside this service: the agency code stands in for its name.
    assert DEMO_AGENCY in text
    assert "Văn phòng Chính phủ" in text
    assert text.index("299/QĐ-UBND") < text.index("300/QĐ-UBND")


async def test_a_specialist_may_not_print_a_book(stub: Any, documents: Any) -> None:
    error = await refusal(
        stub, documents.mint.person(roles=("specialist",), clearance="top_secret")
    )
    assert error.code is ErrorCode.PERMISSION_DENIED
    assert error.reason == "ROLE_REQUIRED"


async def test_a_register_above_the_clearance_is_not_found(
    stub: Any, documents: Any, first_quarter: dict[str, str]
) -> None:
    token = documents.mint.person(roles=("clerk",), clearance="confidential")
    error = await refusal(stub, token, register_id="incoming-secret")
    assert error.code is ErrorCode.NOT_FOUND
    assert error.reason == "REGISTER_NOT_FOUND"
    # The same answer as for a register that does not exist at all.
    unknown = await refusal(stub, token, register_id="no-such-register")
    assert (unknown.code, unknown.reason) == (error.code, error.reason)
    cleared = documents.mint.person(roles=("clerk",), clearance="secret")
    _, data = await book(stub, cleared, register_id="incoming-secret")
    assert [r[1] for r in body_rows(data)] == [1]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"from_date": "2026-04-01", "to_date": "2026-03-01"}, "to"),
        ({"from_date": "2025-01-01", "to_date": "2026-03-01"}, "to"),
        ({"from_date": "2026-02-30"}, "from"),
        ({"to_date": ""}, "to"),
        ({"format": pb.RenderRegisterBookRequest.FORMAT_UNSPECIFIED}, "format"),
    ],
)
async def test_a_bad_request_names_its_field(
    stub: Any, documents: Any, fields: dict[str, Any], field: str
) -> None:
    error = await refusal(stub, documents.mint.person(roles=("clerk",)), **fields)
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_BOOK_REQUEST"
    assert field in {v.field for v in error.violations}


class GatedDirectory(directory_pb2_grpc.DirectoryServiceServicer):
    """A directory that answers the agency's name only once the test opens its gate."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.gate = asyncio.Event()

    async def GetAgency(self, request: Any, context: Any) -> directory_pb2.GetAgencyResponse:
        self.asked.set()
        await self.gate.wait()
        return directory_pb2.GetAgencyResponse(
            agency=directory_pb2.Agency(code=DEMO_AGENCY, name="Ủy ban nhân dân tỉnh Demo")
        )


async def test_a_book_asked_while_every_slot_renders_is_refused_at_once(
    tmp_path_factory: pytest.TempPathFactory, make_database: Any, nats_server: Any
) -> None:
    directory = GatedDirectory()  # type: ignore[abstract]  # serves GetAgency only
    server = grpc.aio.server()
    directory_pb2_grpc.add_DirectoryServiceServicer_to_server(directory, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with (
            run_documents(
                tmp_path_factory.mktemp("keys"),
                make_database("documents_books_busy"),
                nats_server.url,
                peers={"directory": f"127.0.0.1:{port}"},
                books_in_parallel=1,
            ) as service,
            channel(service.address) as ch,
        ):
            stub = DocumentRegistryServiceStub(ch)
            token = service.mint.person(roles=("clerk",))
            first = asyncio.create_task(book(stub, token))
            await asyncio.wait_for(directory.asked.wait(), timeout=30)

            # The one slot is taken: the next book is refused now, not queued behind it.
            error = await asyncio.wait_for(refusal(stub, token), timeout=5)
            assert error.code is ErrorCode.RESOURCE_EXHAUSTED
            assert error.reason == "BOOKS_BUSY"
            # The directory is asked before the database: no connection waits on it inside a
            # transaction.
            async with service.engine.connect() as connection:
                waiting = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND state LIKE 'idle in transaction%'"
                    )
                )
            assert waiting == 0

            directory.gate.set()
            messages, data = await asyncio.wait_for(first, timeout=60)
            assert messages[0].file_name.endswith(".xlsx")
            sheet = openpyxl.load_workbook(io.BytesIO(data)).active
            assert sheet is not None
            assert "ỦY BAN NHÂN DÂN TỈNH DEMO" in {
                str(cell) for row in sheet.iter_rows(max_row=7, values_only=True) for cell in row
            }
            # The slot is free again once the book is made.
            again, _ = await book(stub, token)
            assert again[0].file_name.endswith(".xlsx")
    finally:
        await server.stop(None)
