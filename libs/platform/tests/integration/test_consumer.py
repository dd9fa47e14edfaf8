"""Durable, idempotent consumers: each event's effect happens once, failures retry then dead-letter."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError
from sqlalchemy import Table, func, insert, select

from vanban.platform.db import UnitOfWork
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.nats import DLQ_STREAM, ensure_dlq_stream, ensure_service_stream

SOURCE = "consumertest"
STREAM = "VANBAN_CONSUMERTEST"


@pytest.fixture(scope="module", autouse=True)
async def streams(js: JetStreamContext) -> None:
    await ensure_service_stream(js, SOURCE)
    await ensure_dlq_stream(js)


@dataclass
class Probe:
    """A handler that writes a note per event and fails when `fails(value, delivery)` says so."""

    notes: Table
    fails: Callable[[str, int], bool] = lambda _value, _delivery: False
    calls: list[tuple[str, int]] = field(default_factory=list)

    async def handle(self, uow: UnitOfWork, event: StringValue, context: EventContext) -> None:
        self.calls.append((event.value, context.delivery))
        # Written before failing: a failure must roll this back together with the claim.
        await uow.session.execute(insert(self.notes).values(id=context.event_id, text=event.value))
        if self.fails(event.value, context.delivery):
            raise RuntimeError(f"{event.value} refused")


@pytest.fixture
def names() -> tuple[str, str]:
    """A subject and a durable of this test's own."""
    tag = uuid.uuid4().hex[:8]
    return f"vanban.{SOURCE}.t{tag}.happened", f"test-{tag}"


def make_consumer(schema, js, names, handler, **kwargs: Any) -> EventConsumer[StringValue]:
    subject, durable = names
    return EventConsumer(
        js=js,
        source_service=SOURCE,
        durable=durable,
        subject=subject,
        message_type=StringValue,
        handler=handler,
        uow_factory=schema.uow,
        **kwargs,
    )


@contextlib.asynccontextmanager
async def consuming(consumer: EventConsumer[StringValue]) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.ensure_future(consumer.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def publish(js: JetStreamContext, subject: str, value: str) -> str:
    event_id = str(uuid.uuid4())
    await js.publish(
        subject,
        StringValue(value=value).SerializeToString(),
        headers={"Nats-Msg-Id": event_id, "ce-id": event_id},
    )
    return event_id


async def notes_for(schema, event_ids: list[str]) -> dict[str, str]:
    async with schema.sessions() as session:
        rows = await session.execute(
            select(schema.notes.c.id, schema.notes.c.text).where(schema.notes.c.id.in_(event_ids))
        )
        return {row.id: row.text for row in rows}


async def processed_count(schema, durable: str, event_ids: list[str]) -> int:
    processed = schema.tables.processed
    async with schema.sessions() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(processed)
                .where(processed.c.consumer == durable, processed.c.event_id.in_(event_ids))
            )
        ).scalar_one()


async def consumer_info(js: JetStreamContext, durable: str) -> ConsumerInfo | None:
    try:
        return await js.consumer_info(STREAM, durable)
    except NotFoundError:  # the consumer task has not created it yet
        return None


def settled(js: JetStreamContext, durable: str) -> Callable[[], object]:
    """True once the consumer has nothing left to deliver and nothing awaiting an ack."""

    async def check() -> bool:
        info = await consumer_info(js, durable)
        return info is not None and info.num_pending == 0 and info.num_ack_pending == 0

    return check


async def test_a_handler_that_fails_twice_then_succeeds_has_its_effect_once_and_is_acked(
    schema, js, names, eventually
) -> None:
    subject, durable = names
    probe = Probe(schema.notes, fails=lambda _value, delivery: delivery <= 2)
    consumer = make_consumer(schema, js, names, probe.handle)
    await consumer.setup()
    event_id = await publish(js, subject, "ba lần")

    async with consuming(consumer):
        await eventually(lambda: notes_for(schema, [event_id]), within=15, what="the effect")
        await eventually(settled(js, durable), what="the message to be acknowledged")

    assert probe.calls == [("ba lần", 1), ("ba lần", 2), ("ba lần", 3)]
    assert await notes_for(schema, [event_id]) == {event_id: "ba lần"}
    assert await processed_count(schema, durable, [event_id]) == 1


async def test_events_delivered_again_are_recognised_and_not_handled_twice(
    schema, js, names, eventually
) -> None:
    subject, durable = names
    probe = Probe(schema.notes)
    ids = [await publish(js, subject, f"sự kiện {i}") for i in range(3)]

    async with consuming(make_consumer(schema, js, names, probe.handle)):
        await eventually(lambda: _has_all(schema, ids), what="the first deliveries")
        await eventually(settled(js, durable))
    assert len(probe.calls) == 3

    # Forget the durable's position: the stream delivers every message again from the start.
    await js.delete_consumer(STREAM, durable)
    async with consuming(make_consumer(schema, js, names, probe.handle)):
        await eventually(
            lambda: _delivered(js, durable, 3), what="the messages to be delivered again"
        )
        await eventually(settled(js, durable), what="the duplicates to be acknowledged")

    assert len(probe.calls) == 3
    assert await notes_for(schema, ids) == {i: f"sự kiện {n}" for n, i in enumerate(ids)}
    assert await processed_count(schema, durable, ids) == 3


async def _has_all(schema, ids: list[str]) -> bool:
    return len(await notes_for(schema, ids)) == len(ids)


async def _delivered(js: JetStreamContext, durable: str, count: int) -> bool:
    info = await consumer_info(js, durable)
    return (
        info is not None
        and info.delivered is not None
        and (info.delivered.consumer_seq or 0) >= count
    )


async def test_a_message_that_always_fails_is_dead_lettered_and_the_next_one_is_handled(
    schema, js, names, eventually, stream_messages
) -> None:
    subject, durable = names
    probe = Probe(schema.notes, fails=lambda value, _delivery: value == "độc")
    dlq_subject = f"vanban.dlq.{durable}"
    poison = await publish(js, subject, "độc")
    good = await publish(js, subject, "lành")

    async with consuming(make_consumer(schema, js, names, probe.handle, max_deliver=2)):
        await eventually(
            lambda: _count(stream_messages(js, DLQ_STREAM, dlq_subject), 1),
            within=15,
            what="the poison message on the dead-letter subject",
        )
        await eventually(settled(js, durable), what="nothing left pending")

    assert [call for call in probe.calls if call[0] == "độc"] == [("độc", 1), ("độc", 2)]
    # The consumer went on while the poison message waited for its retry.
    assert probe.calls.index(("lành", 1)) < probe.calls.index(("độc", 2))
    assert await notes_for(schema, [poison, good]) == {good: "lành"}
    [dead] = await stream_messages(js, DLQ_STREAM, dlq_subject)
    assert StringValue.FromString(dead.data).value == "độc"
    assert dead.headers["vanban-dlq-error"] == "RuntimeError: độc refused"
    assert dead.headers["vanban-dlq-subject"] == subject
    assert dead.headers["vanban-dlq-consumer"] == durable
    assert dead.headers["ce-id"] == poison


async def _count(messages, expected: int) -> bool:
    return len(await messages) >= expected


async def test_messages_it_cannot_read_go_straight_to_the_dead_letter_subject(
    schema, js, names, eventually, stream_messages
) -> None:
    subject, durable = names
    probe = Probe(schema.notes)
    dlq_subject = f"vanban.dlq.{durable}"
    await js.publish(subject, b"\x0a\x05ab", headers={"Nats-Msg-Id": str(uuid.uuid4())})
    await js.publish(subject, StringValue(value="không có id").SerializeToString())

    async with consuming(make_consumer(schema, js, names, probe.handle)):
        await eventually(
            lambda: _count(stream_messages(js, DLQ_STREAM, dlq_subject), 2),
            what="both messages dead-lettered",
        )
        await eventually(settled(js, durable))

    assert probe.calls == []
    errors = sorted(
        m.headers["vanban-dlq-error"] for m in await stream_messages(js, DLQ_STREAM, dlq_subject)
    )
    assert errors[0] == "the message has no Nats-Msg-Id"
    assert errors[1].startswith("undecodable payload")


async def test_a_consumer_stopped_mid_message_finishes_and_commits_it(
    schema, js, names, eventually
) -> None:
    subject, durable = names
    started, release = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def slow(uow: UnitOfWork, event: StringValue, context: EventContext) -> None:
        calls.append(event.value)
        started.set()
        await release.wait()
        await uow.session.execute(
            insert(schema.notes).values(id=context.event_id, text=event.value)
        )

    consumer = make_consumer(schema, js, names, slow, ack_wait=1.0)
    await consumer.setup()
    first = await publish(js, subject, "đang xử lý")
    second = await publish(js, subject, "chưa bắt đầu")

    stop = asyncio.Event()
    running = asyncio.ensure_future(consumer.run(stop))
    await asyncio.wait_for(started.wait(), timeout=10)
    stop.set()
    await asyncio.sleep(0.2)
    assert not running.done(), "the consumer waits for the message in hand"
    release.set()
    await asyncio.wait_for(running, timeout=10)

    assert calls == ["đang xử lý"]
    assert await notes_for(schema, [first, second]) == {first: "đang xử lý"}
    assert await processed_count(schema, durable, [first]) == 1
    info = await js.consumer_info(STREAM, durable)
    assert info.ack_floor is not None and info.ack_floor.consumer_seq == 1, "the first is acked"

    # The message it had not started is not lost: the next run handles it.
    async with consuming(make_consumer(schema, js, names, slow, ack_wait=1.0)):
        await eventually(lambda: _has_all(schema, [first, second]), what="the second message")
        await eventually(settled(js, durable))
    assert calls == ["đang xử lý", "chưa bắt đầu"]
