"""New notices, pushed to the live streams this gateway process holds.

One plain NATS subscription per process (`GATEWAY_NOTICES`) fans each `NotificationRecorded`
out to the streams of its recipient. It is at most once: a stream that misses something (the
subscription was away, its queue overflowed, notify's relays published out of order) sees a
gap in its recipient's sequence, or is told to, and catches up from notify's store. Nothing
here is the record of anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry import metrics

from vanban.contracts.notify.v1 import events_pb2, notify_pb2
from vanban.platform.errors import ResourceExhaustedError
from vanban.platform.events.durables import GATEWAY_NOTICES

logger = logging.getLogger(__name__)

# What a stream is handed: a notice, or CATCH_UP (read the store after your last sequence).
CATCH_UP = None
Pushed = notify_pb2.Notification | None


@dataclass(eq=False)
class Listener:
    """One open stream of one person. Its queue is small: a stream that cannot keep up is told
    to catch up from the store instead of holding notices in memory."""

    recipient_id: str
    queue: asyncio.Queue[Pushed] = field(default_factory=lambda: asyncio.Queue(maxsize=32))

    def offer(self, item: Pushed) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Everything queued is in the store too: one catch-up replaces it all.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(CATCH_UP)


class NoticeHub:
    def __init__(self, *, max_streams: int, max_streams_per_person: int) -> None:
        self._listeners: dict[str, set[Listener]] = defaultdict(set)
        self._count = 0
        self._max = max_streams
        self._max_per_person = max_streams_per_person
        self._subscription: Subscription | None = None
        self._open = metrics.get_meter("vanban.gateway").create_up_down_counter(
            "vanban.notifications.streams", description="Live notification streams held open"
        )
        # Set when the gateway stops: every stream ends, so the HTTP server can drain.
        self.closing = asyncio.Event()

    @property
    def open_streams(self) -> int:
        return self._count

    async def start(self, nc: Client | None) -> None:
        if nc is None:
            raise RuntimeError("the gateway follows new notices over NATS")
        self._subscription = await nc.subscribe(GATEWAY_NOTICES.subject, cb=self._received)

    async def stop(self) -> None:
        self.closing.set()
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None

    def open(self, recipient_id: str) -> Listener:
        if self._count >= self._max:
            raise ResourceExhaustedError(
                "this gateway holds as many notification streams as it may; try again shortly",
                reason="TOO_MANY_STREAMS",
            )
        if len(self._listeners[recipient_id]) >= self._max_per_person:
            raise ResourceExhaustedError(
                f"at most {self._max_per_person} notification streams per person at once: "
                "close one first",
                reason="TOO_MANY_STREAMS",
                metadata={"limit": str(self._max_per_person)},
            )
        listener = Listener(recipient_id)
        self._listeners[recipient_id].add(listener)
        self._count += 1
        self._open.add(1)
        return listener

    def close(self, listener: Listener) -> None:
        mine = self._listeners.get(listener.recipient_id)
        if mine is None or listener not in mine:
            return
        mine.discard(listener)
        self._count -= 1
        self._open.add(-1)
        if not mine:
            del self._listeners[listener.recipient_id]

    def catch_up_all(self) -> None:
        """After the subscription was away (NATS reconnected): whatever came meanwhile was
        not heard here, so every stream reads the store."""
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.offer(CATCH_UP)

    async def _received(self, message: Msg) -> None:
        try:
            notice = events_pb2.NotificationRecorded.FromString(message.data).notification
        except DecodeError:
            logger.warning("undecodable notice event ignored", extra={"bytes": len(message.data)})
            return
        for listener in self._listeners.get(notice.recipient_id, ()):
            listener.offer(notice)
