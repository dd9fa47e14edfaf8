"""Assignments reach the registry: workflow's `incoming.assigned` events, through a real NATS,
decide which units' specialists see an incoming document in lists and search."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.workflow.v1 import events_pb2 as wfevents
from vanban.contracts.workflow.v1 import workflow_pb2 as wf
from vanban.documents.adapters.db.indexing import (
    number_key,
    search_head,
    search_vector,
)
from vanban.documents.adapters.db.tables import documents as documents_table
from vanban.documents.adapters.db.tables import platform_tables
from vanban.platform.events.nats import ensure_service_stream
from vanban.platform.testing import metadata

SUBJECT = "vanban.workflow.incoming.assigned"


async def add_incoming(documents: Any, subject: str, number: int) -> str:
    document_id = str(uuid.uuid4())
    head = search_head(
        subject=subject, code_number="17", code_notation="UBND-VP", issuer_name="Bộ Nội vụ"
    )
    now = datetime.now(UTC)
    async with documents.engine.begin() as connection:
        await connection.execute(
            insert(documents_table).values(
                id=document_id,
                direction="incoming",
                status="registered",
                document_type="Công văn",
                subject=subject,
                priority="normal",
                secrecy="none",
                secrecy_rank=0,
                code_number="17",
                code_notation="UBND-VP",
                number_key=number_key("17", "UBND-VP"),
                issuer_code="000.00.00.G22",
                issuer_name="Bộ Nội vụ",
                issued_date=date(2025, 6, 1),
                register_id="incoming",
                reg_year=2097,
                reg_number=number,
                registered_at=now,
                search_head=head,
                search_tsv=search_vector(head),
                created_by="clerk-1",
                created_at=now,
                updated_at=now,
                received_via="paper",
            )
        )
    return document_id


async def publish(nc: Any, document_id: str, *, lead: str, coordinating=(), informed=()) -> str:
    event_id = str(uuid.uuid4())
    event = wfevents.IncomingDocumentAssigned(
        assignment=wf.Assignment(
            id=str(uuid.uuid4()),
            document_id=document_id,
            lead_unit=lead,
            coordinating_units=list(coordinating),
            informed_units=list(informed),
            assigned_by="leader-1",
        )
    )
    await nc.jetstream().publish(
        SUBJECT, event.SerializeToString(), headers={"Nats-Msg-Id": event_id}
    )
    return event_id


async def visible_to(stub: Any, documents: Any, unit: str, q: str) -> list[pb.DocumentSummary]:
    token = documents.mint.person(f"specialist-{unit}", roles=("specialist",), units=(unit,))
    answer = await stub.SearchDocuments(pb.SearchDocumentsRequest(q=q), metadata=metadata(token))
    return list(answer.documents)


async def eventually(check: Any, seconds: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def workflow_stream(nc: Any) -> None:
    await ensure_service_stream(nc.jetstream(), "workflow")


async def test_an_assignment_lets_its_units_see_the_document(
    stub, documents, nc, workflow_stream
) -> None:
    document_id = await add_incoming(documents, "V/v kiểm kê rừng phòng hộ Kỳ Sơn", 1)
    assert await visible_to(stub, documents, "PKT", "kiem ke rung") == []

    await publish(nc, document_id, lead="PKT", coordinating=["PNC"], informed=["VP"])

    seen = await eventually(lambda: visible_to(stub, documents, "PKT", "kiem ke rung"))
    assert [d.id for d in seen] == [document_id]
    assert seen[0].unit == "PKT"  # the lead unit, for the unit filter
    for unit in ("PNC", "VP"):
        assert [d.id for d in await visible_to(stub, documents, unit, "kiem ke rung")] == [
            document_id
        ]
    assert await visible_to(stub, documents, "STC", "kiem ke rung") == []
    # The change is audited, as the documents service.
    async with documents.engine.connect() as connection:
        audit = platform_tables.audit
        rows = (
            await connection.execute(
                select(audit.c.actor, audit.c.action).where(
                    audit.c.resource == f"incoming-documents/{document_id}"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [("service:documents", "incoming.reach")]


async def test_a_later_assignment_widens_the_reach_and_moves_the_lead(
    stub, documents, nc, workflow_stream
) -> None:
    document_id = await add_incoming(documents, "V/v sửa chữa trạm bơm Nam Đàn", 2)
    first = await publish(nc, document_id, lead="PKT")
    await eventually(lambda: visible_to(stub, documents, "PKT", "tram bom nam dan"))
    # The same event again (a redelivery, a relay resend): nothing changes twice.
    await nc.jetstream().publish(
        SUBJECT,
        wfevents.IncomingDocumentAssigned(
            assignment=wf.Assignment(document_id=document_id, lead_unit="XXX")
        ).SerializeToString(),
        headers={"Nats-Msg-Id": first},
    )
    await publish(nc, document_id, lead="SXD")

    seen = await eventually(lambda: visible_to(stub, documents, "SXD", "tram bom nam dan"))
    assert seen[0].unit == "SXD"
    assert [d.id for d in await visible_to(stub, documents, "PKT", "tram bom nam dan")] == [
        document_id
    ]
    assert await visible_to(stub, documents, "XXX", "tram bom nam dan") == []
    async with documents.engine.connect() as connection:
        reach = (
            await connection.execute(
                select(documents_table.c.reach).where(documents_table.c.id == document_id)
            )
        ).scalar_one()
    assert reach == ["unit:PKT", "unit:SXD"]
