"""The one wiring place of the archive service."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from pathlib import Path

from vanban.archive.adapters.db.tables import platform_tables
from vanban.archive.adapters.events.claims import CLAIM_SOURCES, claim_consumer
from vanban.archive.adapters.grpc.servicer import ArchiveServicer
from vanban.archive.adapters.s3.store import S3ObjectStore
from vanban.archive.adapters.sweeper import UnclaimedSweeper
from vanban.archive.settings import ArchiveSettings
from vanban.contracts.archive.v1 import archive_pb2, archive_pb2_grpc
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = archive_pb2.DESCRIPTOR.services_by_name["ArchiveService"].full_name
SWEEPER = "unclaimed-sweeper"


def build(settings: ArchiveSettings) -> ServiceHost:
    host = ServiceHost(settings, service="archive", tables=platform_tables, migrations=MIGRATIONS)
    store = S3ObjectStore.connect(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        bucket=settings.bucket,
    )
    host.on_start(store.ensure_bucket)
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
    for source in CLAIM_SOURCES:
        host.add_consumer(functools.partial(claim_consumer, source=source, uow_factory=host.uow))
    sweeper = UnclaimedSweeper(
        uow_factory=host.uow,
        store=store,
        ttl=timedelta(seconds=settings.unclaimed_ttl_seconds),
        interval=settings.sweep_interval_seconds,
        orphan_scan_interval=settings.orphan_scan_interval_seconds,
    )
    host.add_background(SWEEPER, sweeper.run)
    return host


async def main(settings: ArchiveSettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
