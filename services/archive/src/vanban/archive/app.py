"""The one wiring place of the archive service."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from vanban.archive.adapters.db.tables import platform_tables
from vanban.archive.adapters.events.claims import CLAIM_SOURCES, claim_consumer
from vanban.archive.adapters.grpc.records_servicer import RecordsServicer
from vanban.archive.adapters.grpc.servicer import ArchiveServicer
from vanban.archive.adapters.peers import GrpcPeers
from vanban.archive.adapters.records_io import PdfRenderer, StoredRecordFiles, verified_reader
from vanban.archive.adapters.records_jobs import FixityAlarm, RecordsJobs
from vanban.archive.adapters.s3.store import S3ObjectStore
from vanban.archive.adapters.sweeper import UnclaimedSweeper
from vanban.archive.demo import seed_demo_list
from vanban.archive.domain.keeping import LockPolicy
from vanban.archive.settings import ArchiveSettings
from vanban.contracts.archive.v1 import (
    archive_pb2,
    archive_pb2_grpc,
    records_pb2,
    records_pb2_grpc,
)
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = archive_pb2.DESCRIPTOR.services_by_name["ArchiveService"].full_name
RECORDS_SERVICE_NAME = records_pb2.DESCRIPTOR.services_by_name["RecordsService"].full_name
SWEEPER = "unclaimed-sweeper"
FIXITY = "fixity-check"
HANDOVER_WARNINGS = "handover-warnings"


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
    timezone = ZoneInfo(settings.timezone)
    documents = GrpcPeers(channel=host.channel, service_token=lambda: host.identity.token())
    alarm = FixityAlarm()
    host.grpc.add_service(
        records_pb2_grpc.add_RecordsServiceServicer_to_server,
        RecordsServicer(
            uow_factory=host.uow,
            sessions=lambda: host.sessions,
            agency_code=settings.agency_code,
            documents=documents,
            store=store,
            read=verified_reader(host.uow, store),
            vault=store,
            files=StoredRecordFiles(
                uow_factory=host.uow, store=store, spool_dir=settings.spool_dir
            ),
            renderer=PdfRenderer(agency_code=settings.agency_code),
            policy=LockPolicy(
                modes=dict(settings.lock_modes),
                permanent_until=settings.permanent_lock_until,
                timezone=timezone,
            ),
            timezone=timezone,
            spool_dir=settings.spool_dir,
            on_fixity_failure=alarm.failed,
        ),
        RECORDS_SERVICE_NAME,
    )
    jobs = RecordsJobs(
        uow_factory=host.uow,
        store=store,
        alarm=alarm,
        timezone=timezone,
        fixity_share=settings.fixity_share,
        fixity_interval=settings.fixity_interval_seconds,
        handover_check_interval=settings.handover_check_interval_seconds,
    )
    host.add_background(FIXITY, jobs.run_fixity)
    host.add_background(HANDOVER_WARNINGS, jobs.run_handover_warnings)
    if settings.demo_list:

        async def seed() -> None:
            await seed_demo_list(uow_factory=host.uow, timezone=timezone)

        host.on_start(seed)
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
