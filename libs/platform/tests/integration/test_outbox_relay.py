"""The transactional outbox: what is committed is published once; what is rolled back never is."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from opentelemetry import trace
from sqlalchemy import insert, select

from vanban.platform.events.nats import ensure_service_stream
from vanban.platform.events.relay import OutboxRelay

STREAM = "VANBAN_RELAYTEST"


@pytest.fixture(scope="module", autouse=True)
async def stream(js: JetStreamContext) -> None:
    await ensure_service_stream(js, "relaytest")


def fresh_subject() -> str:
    return f"vanban.relaytest.t{uuid.uuid4().hex[:8]}.written"


def msg_id(message: Msg) -> str:
    assert message.headers is not None, "the relay sends every event with headers"
    return message.headers["Nats-Msg-Id"]


def make_relay(schema, js: JetStreamContext, **kwargs: Any) -> OutboxRelay:
    return OutboxRelay(sessions=schema.sessions, tables=schema.tables, js=js, **kwargs)


async def drain(sub) -> list[Msg]:
    """Every message a core subscription has received so far."""
    received: list[Msg] = []
    while True:
        try:
            received.append(await sub.next_msg(timeout=0.2))
        except (TimeoutError, NatsTimeoutError):
            return received


async def write_notes(schema, subject: str, texts: list[str]) -> list[str]:
    """One unit of work: a note row and its event for each text."""
    async with schema.uow() as uow:
        ids = []
        for text in texts:
            event_id = uow.record_event(subject, StringValue(value=text))
            await uow.session.execute(insert(schema.notes).values(id=event_id, text=text))
            ids.append(event_id)
        await uow.commit()
    return ids


async def test_two_relays_running_at_once_publish_every_committed_event_exactly_once(
    schema, nc: Client, js: JetStreamContext, eventually, stream_messages
) -> None:
    subject = fresh_subject()
    # A core subscriber sees every publish, including those JetStream would drop as duplicates.
    wire = await nc.subscribe(subject)
    ids: list[str] = []
    for batch in range(12):
        ids += await write_notes(schema, subject, [f"{batch}-{i}" for i in range(10)])

    relays = [make_relay(schema, js, batch_size=7, poll_interval=0.05) for _ in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(relay.run(stop)) for relay in relays]
    await eventually(
        lambda: _empty(schema), within=20, what="the outbox to be emptied by the two relays"
    )
    stop.set()
    for relay in relays:
        relay.wake()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    await nc.flush()

    published = [msg_id(m) for m in await drain(wire)]
    await wire.unsubscribe()
    assert sorted(published) == sorted(ids)
    stored = await stream_messages(js, STREAM, subject)
    assert sorted(m.headers["Nats-Msg-Id"] for m in stored) == sorted(ids)


async def _empty(schema) -> bool:
    return await schema.count(schema.tables.outbox) == 0


async def test_a_rolled_back_unit_of_work_leaves_neither_its_state_nor_its_event(
    schema, nc: Client, js: JetStreamContext, stream_messages
) -> None:
    subject = fresh_subject()
    wire = await nc.subscribe(subject)

    with pytest.raises(RuntimeError):
        async with schema.uow() as uow:
            event_id = uow.record_event(subject, StringValue(value="never"))
            await uow.session.execute(insert(schema.notes).values(id=event_id, text="never"))
            raise RuntimeError("the work failed before commit")
    async with schema.uow() as uow:
        forgotten = uow.record_event(subject, StringValue(value="not committed either"))
        await uow.session.execute(insert(schema.notes).values(id=forgotten, text="forgotten"))
        # leaving the block without commit() rolls back

    assert await make_relay(schema, js).publish_pending() == 0
    await nc.flush()
    assert await drain(wire) == []
    await wire.unsubscribe()
    assert await stream_messages(js, STREAM, subject) == []
    async with schema.sessions() as session:
        rows = (
            await session.execute(
                select(schema.notes.c.id).where(schema.notes.c.id.in_([event_id, forgotten]))
            )
        ).all()
    assert rows == []


async def test_published_events_carry_their_id_cloudevents_headers_and_the_trace_of_the_work(
    schema, js: JetStreamContext, stream_messages
) -> None:
    subject = fresh_subject()
    woken: list[bool] = []
    tracer = trace.get_tracer("test")
    before = datetime.now(UTC)
    with tracer.start_as_current_span("register") as span:
        async with schema.uow(on_commit=lambda: woken.append(True)) as uow:
            ids = [uow.record_event(subject, StringValue(value=f"văn bản {i}")) for i in range(3)]
            await uow.commit()
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert woken == [True], "the relay is woken once after a commit that recorded events"

    assert await make_relay(schema, js).publish_pending() == 3
    assert await schema.count(schema.tables.outbox) == 0

    stored = await stream_messages(js, STREAM, subject)
    assert [m.headers["Nats-Msg-Id"] for m in stored] == ids  # in the order they were recorded
    assert [StringValue.FromString(m.data).value for m in stored] == [
        "văn bản 0",
        "văn bản 1",
        "văn bản 2",
    ]
    for message, event_id in zip(stored, ids, strict=True):
        headers = message.headers
        assert headers["ce-id"] == event_id
        assert headers["ce-specversion"] == "1.0"
        assert headers["ce-type"] == "google.protobuf.StringValue"
        assert headers["ce-source"] == schema.source
        assert headers["content-type"] == "application/protobuf"
        ce_time = datetime.fromisoformat(headers["ce-time"])
        assert before - timedelta(seconds=1) <= ce_time <= datetime.now(UTC)
        version, traced, _parent, _flags = headers["traceparent"].split("-")
        assert (version, traced) == ("00", trace_id)


async def test_a_relay_restarted_after_a_crash_between_publish_and_delete_creates_no_duplicate(
    schema, js: JetStreamContext, stream_messages
) -> None:
    subject = fresh_subject()
    [event_id] = await write_notes(schema, subject, ["once"])
    # A first relay published it but died before its delete committed: the row is still there.
    await js.publish(
        subject, StringValue(value="once").SerializeToString(), headers={"Nats-Msg-Id": event_id}
    )
    assert await schema.count(schema.tables.outbox) == 1

    assert await make_relay(schema, js).publish_pending() == 1

    stored = await stream_messages(js, STREAM, subject)
    assert [m.headers["Nats-Msg-Id"] for m in stored] == [event_id]
