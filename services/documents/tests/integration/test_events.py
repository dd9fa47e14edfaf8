"""What other services and auditors see of a registration: its event and its audit entry."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy import select

from services.documents.tests.integration.conftest import without_digitization
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.events_pb2 import IncomingDocumentRegistered
from vanban.documents.adapters.db.tables import platform_tables
from vanban.platform.testing import DEMO_AGENCY, metadata

SUBJECT = "vanban.documents.incoming.registered"


async def find_event(js: JetStreamContext, document_id: str, *, within: float = 10) -> Msg:
    """The registered event of one document, read from the service's stream."""
    sub = await js.pull_subscribe(SUBJECT, stream="VANBAN_DOCUMENTS")
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            try:
                batch = await sub.fetch(50, timeout=0.5)
            except TimeoutError:
                continue
            for msg in batch:
                if IncomingDocumentRegistered.FromString(msg.data).document.id == document_id:
                    return msg
    finally:
        await sub.unsubscribe()
    raise AssertionError(f"no {SUBJECT} event for {document_id} within {within} s")


async def test_a_registration_publishes_its_event_with_cloudevents_and_trace_headers(
    documents, stub, nc, registration
) -> None:
    before = datetime.now(UTC)
    response = await stub.RegisterIncomingDocument(
        registration(subject="Về việc tổ chức hội nghị"),
        metadata=metadata(documents.mint.person("clerk-hoa")),
    )
    document = response.document

    msg = await find_event(nc.jetstream(), document.id)

    event = IncomingDocumentRegistered.FromString(msg.data)
    assert event.document == without_digitization(document)
    assert document.digitization.state == pb.Digitization.STATE_QUEUED
    assert event.document.arrival_number == document.arrival_number
    assert event.agency_code == DEMO_AGENCY
    assert msg.subject == SUBJECT
    headers = msg.headers or {}
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["Nats-Msg-Id"])
    assert headers["ce-type"] == "vanban.documents.v1.IncomingDocumentRegistered"
    assert headers["ce-source"] == f"/agencies/{DEMO_AGENCY}/documents"
    ce_time = datetime.fromisoformat(headers["ce-time"])
    assert before - timedelta(seconds=1) <= ce_time <= datetime.now(UTC)
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}", headers["traceparent"])


async def test_a_registration_is_audited_under_the_callers_name_and_trace(
    documents, stub, nc, registration
) -> None:
    response = await stub.RegisterIncomingDocument(
        registration(secrecy=pb.SECRECY_CONFIDENTIAL),
        metadata=metadata(documents.mint.person("clerk-minh", clearance="confidential")),
    )
    document = response.document
    msg, rows = await asyncio.gather(
        find_event(nc.jetstream(), document.id), audit_rows(documents, document.id)
    )

    [entry] = rows
    assert entry.actor == "clerk-minh"
    assert entry.action == "incoming.register"
    assert entry.after["arrival_number"] == document.arrival_number
    assert entry.after["arrival_year"] == document.arrival_year
    assert entry.occurred_at <= datetime.now(UTC)
    # One trace ties the request, its audit entry and the event other services receive.
    assert entry.trace_id and entry.trace_id != "0" * 32
    assert (msg.headers or {})["traceparent"].split("-")[1] == entry.trace_id


async def audit_rows(documents, document_id: str) -> list:
    audit = platform_tables.audit
    async with documents.engine.connect() as connection:
        return list(
            await connection.execute(
                select(audit).where(audit.c.resource == f"incoming-documents/{document_id}")
            )
        )
