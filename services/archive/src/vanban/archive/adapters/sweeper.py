"""The background loop that collects bytes nobody claimed ("no object left behind")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from vanban.archive.adapters.transaction import SERVICE_ACTOR, ArchiveTransaction
from vanban.archive.domain import service
from vanban.archive.domain.ports import ObjectStore
from vanban.platform.db import UnitOfWork

logger = logging.getLogger(__name__)

SWEEP_BATCH = 100


class UnclaimedSweeper:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        store: ObjectStore,
        ttl: timedelta,
        interval: float,
        orphan_scan_interval: float,
    ) -> None:
        self._transactions = ArchiveTransaction.factory(uow_factory, actor=SERVICE_ACTOR)
        self._store = store
        self._ttl = ttl
        self._interval = interval
        self._orphan_interval = orphan_scan_interval

    async def sweep(self) -> list[str]:
        return await service.collect_unclaimed(
            transactions=self._transactions,
            store=self._store,
            now=datetime.now(UTC),
            ttl=self._ttl,
            limit=SWEEP_BATCH,
        )

    async def scan_orphans(self) -> int:
        removed = await service.collect_orphans(
            transactions=self._transactions,
            store=self._store,
            now=datetime.now(UTC),
            ttl=self._ttl,
        )
        return len(removed)

    async def run(self, stop: asyncio.Event) -> None:
        """Sweeps every `interval` seconds until `stop` is set; scans for orphans at start and
        then every `orphan_scan_interval` seconds."""
        next_orphan_scan = time.monotonic()
        while not stop.is_set():
            # A failed round (store or database briefly away) is logged and retried next
            # round; letting it escape would stop the whole service.
            try:
                while len(await self.sweep()) >= SWEEP_BATCH and not stop.is_set():
                    pass  # a full batch: more may be waiting
            except Exception:
                logger.exception("sweeping unclaimed objects failed; retrying next round")
            if time.monotonic() >= next_orphan_scan and not stop.is_set():
                next_orphan_scan = time.monotonic() + self._orphan_interval
                try:
                    await self.scan_orphans()
                except Exception:
                    logger.exception("scanning for orphaned objects failed; retrying next round")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
