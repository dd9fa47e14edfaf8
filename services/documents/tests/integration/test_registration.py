"""Registering incoming documents through the DocumentRegistry gRPC API."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import grpc
import pytest
from sqlalchemy import func, select

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.documents.adapters.db.tables import (
    counters,
    document_files,
    document_relations,
    incoming_duplicates,
    platform_tables,
    text_jobs,
)
from vanban.documents.adapters.db.tables import documents as documents_table
from vanban.platform.errors import ErrorCode
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import channel, metadata


def this_year() -> int:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year


async def register(
    stub, token: str, request: pb.RegisterIncomingDocumentRequest
) -> pb.IncomingDocument:
    response = await stub.RegisterIncomingDocument(request, metadata=metadata(token))
    return response.document


WRITTEN_TABLES = (
    documents_table,
    document_files,
    document_relations,
    incoming_duplicates,
    text_jobs,
    platform_tables.audit,
)


async def row_counts(service, nc) -> dict[str, int]:
    """What a registration leaves behind: rows, numbers taken, events published.

    Waits for the outbox to drain first, so an event written by mistake cannot hide in transit.
    """
    outbox = platform_tables.outbox
    async with service.engine.connect() as connection:
        for _ in range(200):
            if not (await connection.execute(select(func.count()).select_from(outbox))).scalar():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the outbox did not drain")
        counts = {
            table.name: (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in WRITTEN_TABLES
        }
        counts["numbers taken"] = (
            await connection.execute(select(func.coalesce(func.sum(counters.c.last_number), 0)))
        ).scalar_one()
    counts["events"] = (await nc.jetstream().stream_info("VANBAN_DOCUMENTS")).state.messages
    return counts


async def test_a_fresh_register_numbers_its_first_documents_1_then_2(
    fresh_documents, registration
) -> None:
    async with fresh_documents() as documents, channel(documents.address) as ch:
        stub = DocumentRegistryServiceStub(ch)
        clerk = documents.mint.person("clerk-lan", roles=("clerk",))

        first = await register(stub, clerk, registration())
        second = await register(stub, clerk, registration(code_number="06"))

    assert (first.arrival_number, second.arrival_number) == (1, 2)
    assert first.arrival_year == second.arrival_year == this_year()
    assert first.id != second.id
    assert first.registered_by == "clerk-lan"
    assert first.subject == "Về việc hướng dẫn công tác văn thư năm 2025"
    assert first.issued_date == "2024-12-30"
    assert first.priority == pb.PRIORITY_URGENT
    assert second.code_number == "06"


async def test_each_secrecy_level_has_a_register_of_its_own(fresh_documents, registration) -> None:
    """A reader sees the numbers of the registers within their clearance only; gaps in them
    would count the secret documents between."""
    async with fresh_documents() as documents, channel(documents.address) as ch:
        stub = DocumentRegistryServiceStub(ch)
        clerk = documents.mint.person("clerk-lan", roles=("clerk",), clearance="top_secret")
        numbers = [
            (level, (await register(stub, clerk, registration(secrecy=level))).arrival_number)
            for level in (
                pb.SECRECY_NONE,
                pb.SECRECY_CONFIDENTIAL,
                pb.SECRECY_NONE,
                pb.SECRECY_SECRET,
                pb.SECRECY_CONFIDENTIAL,
                pb.SECRECY_NONE,
                pb.SECRECY_TOP_SECRET,
            )
        ]
    assert numbers == [
        (pb.SECRECY_NONE, 1),
        (pb.SECRECY_CONFIDENTIAL, 1),
        (pb.SECRECY_NONE, 2),
        (pb.SECRECY_SECRET, 1),
        (pb.SECRECY_CONFIDENTIAL, 2),
        (pb.SECRECY_NONE, 3),
        (pb.SECRECY_TOP_SECRET, 1),
    ]


async def test_fifty_clerks_registering_at_once_get_a_gap_free_duplicate_free_run(
    documents, stub, registration
) -> None:
    clerk = documents.mint.person("clerk-busy")

    results = await asyncio.gather(
        *(
            register(stub, clerk, registration(code_number=str(i), subject=f"Công văn số {i}"))
            for i in range(50)
        )
    )

    numbers = sorted(d.arrival_number for d in results)
    assert numbers == list(range(numbers[0], numbers[0] + 50))
    # And the ordinary register as stored holds every number from 1 up, each once.
    async with documents.engine.connect() as connection:
        stored = (
            (
                await connection.execute(
                    select(documents_table.c.reg_number)
                    .where(
                        documents_table.c.direction == "incoming",
                        documents_table.c.register_id == "incoming",
                        documents_table.c.reg_year == this_year(),
                    )
                    .order_by(documents_table.c.reg_number)
                )
            )
            .scalars()
            .all()
        )
    assert stored == list(range(1, len(stored) + 1))


async def test_invalid_input_names_every_field_and_writes_nothing(
    documents, stub, registration, nc
) -> None:
    clerk = documents.mint.person("clerk-careless")
    before_number = (await register(stub, clerk, registration())).arrival_number
    before = await row_counts(documents, nc)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await register(
            stub,
            clerk,
            registration(
                subject="   ",
                issued_date="2999-01-01",
                code_notation="QĐ-" + "X" * 28,
                file=pb.FileRef(sha256="ABC", size=10, content_type="application/pdf"),
            ),
        )

    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    error = remote_error(caught.value)
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_INCOMING_DOCUMENT"
    assert {v.field for v in error.violations} == {
        "subject",
        "issued_date",
        "code_notation",
        "file.sha256",
    }
    assert await row_counts(documents, nc) == before
    # The refused attempt took no arrival number: the next document continues the run.
    after = await register(stub, clerk, registration())
    assert after.arrival_number == before_number + 1


async def test_a_registration_without_its_file_is_refused(
    documents, stub, registration, nc
) -> None:
    request = registration()
    request.ClearField("file")
    before = await row_counts(documents, nc)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await register(stub, documents.mint.person(), request)

    error = remote_error(caught.value)
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert [v.field for v in error.violations] == ["file"]
    assert await row_counts(documents, nc) == before


async def test_a_specialist_may_not_register_incoming_documents(
    documents, stub, registration, nc
) -> None:
    before = await row_counts(documents, nc)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await register(
            stub, documents.mint.person("chuyen-vien", roles=("specialist",)), registration()
        )

    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert remote_error(caught.value).reason == "ROLE_REQUIRED"
    assert await row_counts(documents, nc) == before


async def test_a_call_without_a_caller_token_is_unauthenticated(
    documents, stub, registration, nc
) -> None:
    before = await row_counts(documents, nc)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RegisterIncomingDocument(registration())

    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert remote_error(caught.value).reason == "CALLER_MISSING"
    assert await row_counts(documents, nc) == before


async def get(stub, token: str, document_id: str) -> pb.IncomingDocument:
    response = await stub.GetIncomingDocument(
        pb.GetIncomingDocumentRequest(id=document_id), metadata=metadata(token)
    )
    return response.document


async def test_a_secret_document_is_invisible_below_secret_clearance(
    documents, stub, registration
) -> None:
    mint = documents.mint
    secret = await register(
        stub, mint.person("clerk-mat", clearance="secret"), registration(secrecy=pb.SECRECY_SECRET)
    )

    for clearance in ("none", "confidential"):
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await get(
                stub,
                mint.person("reader", roles=("agency_leader",), clearance=clearance),
                secret.id,
            )
        assert hidden.value.code() is grpc.StatusCode.NOT_FOUND, clearance
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await get(stub, mint.person("reader", clearance="none"), str(uuid.uuid4()))
    # Hidden and missing look the same: the answer does not reveal that the document exists.
    assert remote_error(hidden.value) == remote_error(missing.value)
    assert remote_error(missing.value).reason == "INCOMING_NOT_FOUND"

    for clearance in ("secret", "top_secret"):
        found = await get(
            stub, mint.person("reader", roles=("agency_leader",), clearance=clearance), secret.id
        )
        assert found == secret, clearance
    assert await get(stub, mint.service("workflow"), secret.id) == secret


async def test_an_overlong_content_type_is_invalid_argument_not_an_internal_error(
    documents, stub, registration, nc
) -> None:
    request = registration()
    request.file.content_type = "application/" + "x" * 120
    before = await row_counts(documents, nc)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await register(stub, documents.mint.person(), request)

    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert [v.field for v in remote_error(caught.value).violations] == ["file.content_type"]
    assert await row_counts(documents, nc) == before
