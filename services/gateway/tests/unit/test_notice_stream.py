"""The live stream's rules: resume after a sequence, catch up on a gap, never repeat, never show
what the person is not cleared for, end when it must. The store is a list here; the e2e tests
run the same stream against notify and NATS."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sse_starlette import ServerSentEvent

from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.notify.v1 import events_pb2, notify_pb2
from vanban.gateway.adapters.events.notices import NoticeHub
from vanban.gateway.api.notice_stream import NoticeStream, parse_last_event_id
from vanban.platform.clearance import Clearance
from vanban.platform.errors import InvalidArgumentError, ResourceExhaustedError

PERSON = "clerk-1"


def notice(sequence: int, secrecy: int = documents_pb2.SECRECY_NONE) -> notify_pb2.Notification:
    return notify_pb2.Notification(
        id=f"n-{sequence}",
        recipient_id=PERSON,
        title=f"Văn bản đến mới: số đến {sequence}/2026",
        resource=f"incoming-documents/d-{sequence}",
        sequence=sequence,
        secrecy=secrecy,  # type: ignore[arg-type]
    )


class Store:
    """notify's store as the stream reads it: after a sequence, oldest first, only what a
    person without clearance may see."""

    def __init__(self) -> None:
        self.notices: list[notify_pb2.Notification] = []
        self.reads: list[int] = []

    async def after(self, sequence: int, limit: int) -> list[notify_pb2.Notification]:
        self.reads.append(sequence)
        visible = [
            n
            for n in self.notices
            if n.sequence > sequence
            and n.secrecy in (documents_pb2.SECRECY_UNSPECIFIED, documents_pb2.SECRECY_NONE)
        ]
        return visible[:limit]


def stream(
    hub: NoticeHub, store: Store, *, clearance: Clearance = Clearance.NONE, seconds: float = 30
) -> NoticeStream:
    return NoticeStream(
        hub=hub,
        listener=hub.open(PERSON),
        fetch_after=store.after,
        clearance=clearance,
        ends_at=asyncio.get_running_loop().time() + seconds,
        still_signed_in=lambda: True,
        check_every=0.05,
    )


async def take(events: AsyncIterator[ServerSentEvent], count: int) -> list[str | None]:
    """The ids of the next `count` notification events."""
    ids: list[str | None] = []
    while len(ids) < count:
        event = await asyncio.wait_for(anext(events), timeout=5)
        if event.event == "notification":
            ids.append(event.id)
    return ids


async def test_a_reconnect_resumes_after_the_last_id_then_goes_live() -> None:
    hub, store = NoticeHub(max_streams=10, max_streams_per_person=5), Store()
    store.notices = [notice(n) for n in range(1, 6)]
    events = stream(hub, store).events(after=2, unread=5)
    first = await asyncio.wait_for(anext(events), timeout=5)
    assert (first.event, json.loads(str(first.data))) == ("unread", {"unread": 5})
    assert await take(events, 3) == ["3", "4", "5"]
    for n in (6, 7):
        store.notices.append(notice(n))
        hub._listeners[PERSON].copy().pop().offer(notice(n))
    assert await take(events, 2) == ["6", "7"]
    # The catch-up read after 2, then after 5 (nothing more); live notices in order were not
    # read from the store again.
    assert store.reads == [2, 5]
    await events.aclose()
    assert hub.open_streams == 0


async def test_a_gap_is_filled_from_the_store_and_late_copies_are_not_repeated() -> None:
    hub, store = NoticeHub(max_streams=10, max_streams_per_person=5), Store()
    events = stream(hub, store).events(after=0, unread=0)
    await anext(events)
    [listener] = hub._listeners[PERSON]
    store.notices = [notice(n) for n in (1, 2, 3)]
    # 3 arrives first (another replica's relay was quicker); 1 and 2 are read from the store.
    listener.offer(notice(3))
    assert await take(events, 3) == ["1", "2", "3"]
    listener.offer(notice(1))
    listener.offer(notice(2))
    store.notices.append(notice(4))
    listener.offer(notice(4))
    assert await take(events, 1) == ["4"]
    await events.aclose()


async def test_after_nats_was_away_every_stream_reads_the_store() -> None:
    hub, store = NoticeHub(max_streams=10, max_streams_per_person=5), Store()
    events = stream(hub, store).events(after=0, unread=0)
    await anext(events)
    store.notices = [notice(1)]
    # Published while the subscription was away: nobody heard it.
    hub.catch_up_all()
    assert await take(events, 1) == ["1"]
    await events.aclose()


async def test_a_slow_stream_is_told_to_catch_up_instead_of_queueing_without_end() -> None:
    hub = NoticeHub(max_streams=10, max_streams_per_person=5)
    listener = hub.open(PERSON)
    for n in range(1, 200):
        listener.offer(notice(n))
    assert listener.queue.qsize() <= listener.queue.maxsize
    assert listener.queue.get_nowait() is None


async def test_a_notice_above_the_persons_clearance_is_never_sent() -> None:
    hub, store = NoticeHub(max_streams=10, max_streams_per_person=5), Store()
    events = stream(hub, store, clearance=Clearance.NONE).events(after=0, unread=0)
    await anext(events)
    waiting = asyncio.ensure_future(take(events, 1))
    # The first catch-up (of an empty store) is over; what follows comes live, in order.
    await asyncio.sleep(0.1)
    [listener] = hub._listeners[PERSON]
    listener.offer(notice(1, documents_pb2.SECRECY_SECRET))
    listener.offer(notice(2))
    assert await waiting == ["2"]
    assert store.reads == [0]
    await events.aclose()


@dataclass
class Message:
    """A NATS message as the hub's subscription hands it over."""

    data: bytes


async def test_the_hub_hands_each_notice_to_its_recipients_streams_only() -> None:
    hub = NoticeHub(max_streams=10, max_streams_per_person=5)
    mine, also_mine, theirs = hub.open(PERSON), hub.open(PERSON), hub.open("clerk-2")
    recorded = events_pb2.NotificationRecorded(notification=notice(1))
    await hub._received(Message(recorded.SerializeToString()))  # type: ignore[arg-type]
    await hub._received(Message(b"\xff not a notice"))  # type: ignore[arg-type]
    assert mine.queue.get_nowait() == notice(1)
    assert also_mine.queue.get_nowait() == notice(1)
    assert theirs.queue.empty() and mine.queue.empty()


async def test_the_stream_ends_when_its_time_is_up_or_the_gateway_stops() -> None:
    hub, store = NoticeHub(max_streams=10, max_streams_per_person=5), Store()
    short = stream(hub, store, seconds=0.2).events(after=0, unread=0)
    await anext(short)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(short), timeout=5)
    endless = stream(hub, store).events(after=0, unread=0)
    await anext(endless)
    await hub.stop()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(endless), timeout=5)
    assert hub.open_streams == 0


async def test_streams_are_limited_per_person_and_in_all() -> None:
    hub = NoticeHub(max_streams=3, max_streams_per_person=2)
    hub.open(PERSON)
    hub.open(PERSON)
    with pytest.raises(ResourceExhaustedError):
        hub.open(PERSON)
    hub.open("clerk-2")
    with pytest.raises(ResourceExhaustedError):
        hub.open("clerk-3")


@pytest.mark.parametrize("value", ["-1", "abc", "1e3", "٣", "9" * 19, "12 3"])
def test_a_last_event_id_that_is_no_sequence_is_refused(value: str) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_last_event_id(value)


def test_a_last_event_id_is_a_sequence() -> None:
    assert parse_last_event_id(None) is None
    assert parse_last_event_id("") is None
    assert parse_last_event_id(" 42 ") == 42
