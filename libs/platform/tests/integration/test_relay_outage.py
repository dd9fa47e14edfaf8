"""A NATS outage delays events but loses none, and does not stop the relay.

A module of its own: it stops this module's NATS server.
"""

from __future__ import annotations

import asyncio

from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext

from vanban.platform.events.nats import ensure_service_stream
from vanban.platform.events.relay import OutboxRelay

STREAM = "VANBAN_OUTAGE"
SUBJECT = "vanban.outage.note.written"


async def test_events_committed_while_nats_is_down_are_published_when_it_returns(
    schema, js: JetStreamContext, nats_server, eventually, stream_messages
) -> None:
    await ensure_service_stream(js, "outage")
    relay = OutboxRelay(sessions=schema.sessions, tables=schema.tables, js=js, poll_interval=0.1)
    stop = asyncio.Event()
    running = asyncio.ensure_future(relay.run(stop))

    async def commit(text: str) -> str:
        async with schema.uow(on_commit=relay.wake) as uow:
            event_id = uow.record_event(SUBJECT, StringValue(value=text))
            await uow.commit()
        return event_id

    async def outbox_empty() -> bool:
        return await schema.count(schema.tables.outbox) == 0

    try:
        before = await commit("before the outage")
        await eventually(outbox_empty, what="the first event to leave")

        await nats_server.astop()
        during = [await commit(f"during the outage {i}") for i in range(3)]
        await asyncio.sleep(1.5)  # several relay attempts fail meanwhile
        assert await schema.count(schema.tables.outbox) == 3, "the events wait in the outbox"
        assert not running.done(), "the relay keeps running through the outage"

        await nats_server.astart()
        await eventually(outbox_empty, within=25, what="the outbox to empty after NATS returns")
        after = await commit("after the outage")
        await eventually(outbox_empty, what="a later event to leave promptly")
        assert not running.done()
    finally:
        stop.set()
        relay.wake()
        await asyncio.wait_for(running, timeout=15)

    stored = await stream_messages(js, STREAM, SUBJECT)
    # Each exactly once, even if a publish sent during the outage reached the server later.
    assert sorted(m.headers["Nats-Msg-Id"] for m in stored) == sorted([before, *during, after])
    assert StringValue.FromString(stored[0].data).value == "before the outage"
