"""The one wiring place of the archive service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from vanban.archive.adapters.db.tables import metadata, platform_tables
from vanban.archive.adapters.events.claims import incoming_registered_consumer
from vanban.archive.adapters.grpc.servicer import ArchiveServicer
from vanban.archive.adapters.s3.store import S3ObjectStore
from vanban.archive.adapters.sweeper import UnclaimedSweeper
from vanban.archive.settings import ArchiveSettings
from vanban.contracts.archive.v1 import archive_pb2, archive_pb2_grpc
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = archive_pb2.DESCRIPTOR.services_by_name["ArchiveService"].full_name
SWEEPER = "unclaimed-sweeper"


class ArchiveHost(ServiceHost):
    """The platform host plus what the archive needs around it.

    `start()` also prepares the bucket and adds the claim consumer (which needs the JetStream
    context that only exists once started); `serve()` always runs the sweeper, so hosts started
    by `vanban.platform.testing.running` behave like the real process.
    """

    def __init__(self, settings: ArchiveSettings, *, store: S3ObjectStore) -> None:
        super().__init__(
            settings,
            service="archive",
            metadata=metadata,
            tables=platform_tables,
            migrations=MIGRATIONS,
            database_url=settings.database_url,
        )
        self.store = store
        self.sweeper = UnclaimedSweeper(
            uow_factory=self.uow,
            store=store,
            ttl=timedelta(seconds=settings.unclaimed_ttl_seconds),
            interval=settings.sweep_interval_seconds,
            orphan_scan_interval=settings.orphan_scan_interval_seconds,
        )

    async def start(self) -> None:
        await super().start()
        await self.store.ensure_bucket()
        assert self.js is not None
        self.add_consumer(incoming_registered_consumer(js=self.js, uow_factory=self.uow))

    async def serve(
        self,
        stop: asyncio.Event,
        *,
        background: dict[str, Callable[[asyncio.Event], Awaitable[None]]] | None = None,
    ) -> None:
        await super().serve(stop, background={SWEEPER: self.sweeper.run, **(background or {})})


def build(settings: ArchiveSettings) -> ArchiveHost:
    store = S3ObjectStore.connect(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        bucket=settings.bucket,
    )
    host = ArchiveHost(settings, store=store)
    host.grpc.add_service(
        archive_pb2_grpc.add_ArchiveServiceServicer_to_server,
        ArchiveServicer(
            uow_factory=host.uow,
            store=store,
            max_object_bytes=settings.max_object_bytes,
            spool_dir=settings.spool_dir,
        ),
        SERVICE_NAME,
    )
    return host


async def main(settings: ArchiveSettings, stop: asyncio.Event) -> None:
    host = build(settings)
    await host.start()
    await host.serve(stop)
