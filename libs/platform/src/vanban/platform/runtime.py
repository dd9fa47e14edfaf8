"""Process life cycle: signals, the background tasks of a service, ordered shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


def run(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Runs `main(stop)`; SIGTERM or SIGINT sets `stop`, and `main` winds down in order."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


def settle_memory() -> None:
    """Called once a process has started and before it serves: what it allocated to start
    (modules, tables, clients) is moved out of the collector's sight.

    Why: a full collection walks every object the process holds, most of them never garbage
    (imported modules, SQLAlchemy's metadata, grpc and NATS clients); in a documents process it
    paused a search for 30-90 ms now and then (ADR 0009, "Python's collector"). `gc.freeze()` is
    CPython's own remedy for this (its documentation: call it before serving); collecting
    first keeps startup garbage out of the frozen generation. The thresholds stay CPython's:
    collecting the youngest generation every 10 000 allocations instead of 700 made each pause
    longer (5-9 ms) and changed no percentile of the search bench.
    """
    gc.collect()
    gc.freeze()


class TaskGroup:
    """Long-running loops of a service; the first one to crash stops the service."""

    def __init__(self, stop: asyncio.Event) -> None:
        self._stop = stop
        self._tasks: list[asyncio.Task[None]] = []
        self.failed: BaseException | None = None

    def start(self, name: str, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        task.add_done_callback(self._done)
        self._tasks.append(task)

    def _done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("background task crashed", extra={"task": task.get_name()}, exc_info=exc)
            self.failed = exc
            self._stop.set()

    async def wait(self, grace: float) -> None:
        """Waits for the loops to finish their work in hand, then cancels stragglers."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
