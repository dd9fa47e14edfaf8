"""The records' scheduled work: the fixity check (a share of the kept objects re-hashed each
run, so every object is checked once every 1/share runs) and the warnings of dossiers due for
handover. A failure is reported by a log line, the counter `vanban.archive.fixity.failures`
and the event `archive.fixity.failed`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from opentelemetry import metrics

from vanban.archive.adapters.transaction import SERVICE_ACTOR, ArchiveTransaction
from vanban.archive.domain import dossiers, keeping
from vanban.archive.domain.keeping import FixityResult, ObjectReader
from vanban.platform.db import UnitOfWork

logger = logging.getLogger(__name__)


class FixityAlarm:
    """Counts fixity failures for Prometheus (by problem)."""

    def __init__(self) -> None:
        meter = metrics.get_meter("vanban.archive")
        self._failures = meter.create_counter(
            "vanban.archive.fixity.failures",
            unit="{object}",
            description="Stored objects whose bytes no longer match their SHA-256 (or are gone)",
        )
        self._checked = meter.create_counter(
            "vanban.archive.fixity.checked",
            unit="{object}",
            description="Stored objects re-read and compared with their SHA-256",
        )

    def failed(self, result: FixityResult) -> None:
        self._failures.add(1, {"problem": result.problem or "unknown"})

    def checked(self, count: int) -> None:
        self._checked.add(count)


class RecordsJobs:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        store: ObjectReader,
        alarm: FixityAlarm,
        timezone: ZoneInfo,
        fixity_share: float,
        fixity_interval: float,
        handover_check_interval: float,
    ) -> None:
        self._transactions = ArchiveTransaction.factory(uow_factory, actor=SERVICE_ACTOR)
        self._store = store
        self._alarm = alarm
        self._timezone = timezone
        self._share = fixity_share
        self._fixity_interval = fixity_interval
        self._handover_interval = handover_check_interval

    async def check_fixity(self) -> list[FixityResult]:
        results = await keeping.scheduled_fixity(
            transactions=self._transactions,
            store=self._store,
            share=self._share,
            now=datetime.now(UTC),
            on_failure=self._alarm.failed,
        )
        self._alarm.checked(len(results))
        return results

    async def warn_handovers(self) -> int:
        now = datetime.now(UTC)
        async with self._transactions() as tx:
            return await dossiers.warn_handover_due(
                tx=tx, today=now.astimezone(self._timezone).date(), now=now
            )

    async def run_fixity(self, stop: asyncio.Event) -> None:
        await _every(self._fixity_interval, stop, self.check_fixity, "the fixity check")

    async def run_handover_warnings(self, stop: asyncio.Event) -> None:
        await _every(self._handover_interval, stop, self.warn_handovers, "handover warnings")


async def _every(
    interval: float, stop: asyncio.Event, work: Callable[[], Awaitable[object]], what: str
) -> None:
    """Runs `work` now and every `interval` seconds until `stop`; a failed round is logged and
    tried again next round (letting it escape would stop the whole service)."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            logger.exception(
                "a scheduled records job failed; retrying next round", extra={"job": what}
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
