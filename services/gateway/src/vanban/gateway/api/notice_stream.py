"""The live notification stream of one person (Server-Sent Events).

Every event carries the notice's sequence as its id. The browser's EventSource sends the last
one back as `Last-Event-ID` when it reconnects, and the stream resumes right after it: first
from notify's store, then live. A person's sequence has no gaps and grows in commit order, so
"after n" misses nothing and repeats nothing, whichever replica recorded the notice, whatever
NATS dropped, and whichever gateway process the client reconnects to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from sse_starlette import ServerSentEvent

from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.adapters.events.notices import CATCH_UP, Listener, NoticeHub, Pushed
from vanban.gateway.api.convert.notifications import notification_out
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.convert import secrecy_from_pb
from vanban.platform.errors import InvalidArgumentError

# How many notices one catch-up call reads; it asks again while pages come back full.
CATCH_UP_PAGE = 200
# Last-Event-ID as we give it out: a sequence, a whole number.
MAX_SEQUENCE_DIGITS = 18


class _End:
    """The stream is over (its time is up, its session ended, or the gateway stops)."""


_END = _End()

FetchAfter = Callable[[int, int], Awaitable[list[notify_pb2.Notification]]]


def parse_last_event_id(value: str | None) -> int | None:
    """The sequence a reconnecting client saw last; None for a first connection."""
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > MAX_SEQUENCE_DIGITS:
        raise InvalidArgumentError(
            "Last-Event-ID must be the id of an event this stream sent (a whole number)",
            reason="INVALID_SEQUENCE",
        )
    return int(value)


def notice_event(notice: notify_pb2.Notification) -> ServerSentEvent:
    body = notification_out(notice).model_dump_json()
    return ServerSentEvent(data=body, event="notification", id=str(notice.sequence))


@dataclass
class NoticeStream:
    """What one open stream needs: the hub's listener it reads, how to read the store after a
    sequence, what the person may see, and when to end (token expiry, sign-out, shutdown)."""

    hub: NoticeHub
    listener: Listener
    fetch_after: FetchAfter
    clearance: Clearance
    ends_at: float
    still_signed_in: Callable[[], bool]
    check_every: float = 15.0

    async def events(self, *, after: int, unread: int) -> AsyncGenerator[ServerSentEvent]:
        try:
            yield ServerSentEvent(data=f'{{"unread": {unread}}}', event="unread")
            last = after
            # Whatever was committed before the listener was open is in the store.
            item: Pushed = CATCH_UP
            while True:
                if item is CATCH_UP or item.sequence > last + 1:
                    async for notice in self._catch_up(last):
                        yield notice_event(notice)
                        last = notice.sequence
                    if item is not CATCH_UP and item.sequence > last and not self._may_see(item):
                        last = item.sequence
                elif item.sequence == last + 1:
                    if self._may_see(item):
                        yield notice_event(item)
                    last = item.sequence
                # Anything at or below `last` was sent already.
                waited = await self._next()
                if isinstance(waited, _End):
                    return
                item = waited
        finally:
            self.hub.close(self.listener)

    def _may_see(self, notice: notify_pb2.Notification) -> bool:
        # An unknown (newer) level is treated as the highest: shown to nobody rather than leaked.
        secrecy = secrecy_from_pb(notice.secrecy) or Secrecy.TOP_SECRET
        return self.clearance.covers(secrecy)

    async def _catch_up(self, last: int) -> AsyncIterator[notify_pb2.Notification]:
        # Until a page brings nothing new (notify may give fewer than asked for).
        while True:
            page = await self.fetch_after(last, CATCH_UP_PAGE)
            newer = [notice for notice in page if notice.sequence > last]
            if not newer:
                return
            for notice in newer:
                last = notice.sequence
                yield notice

    async def _next(self) -> Pushed | _End:
        loop = asyncio.get_running_loop()
        while True:
            remaining = self.ends_at - loop.time()
            if remaining <= 0 or self.hub.closing.is_set() or not self.still_signed_in():
                return _END
            got = asyncio.ensure_future(self.listener.queue.get())
            closing = asyncio.ensure_future(self.hub.closing.wait())
            try:
                done, _ = await asyncio.wait(
                    (got, closing),
                    timeout=min(self.check_every, remaining),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                for waiter in (got, closing):
                    if not waiter.done():
                        waiter.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await waiter
            if got in done:
                return got.result()
