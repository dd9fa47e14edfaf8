"""The one wiring place of the documents service."""

from __future__ import annotations

import asyncio
from pathlib import Path
from zoneinfo import ZoneInfo

from vanban.contracts.documents.v1 import documents_pb2, documents_pb2_grpc
from vanban.documents.adapters.db.tables import platform_tables
from vanban.documents.adapters.events.reach import forwarded_consumer, reach_consumer
from vanban.documents.adapters.events.signed import signed_consumer
from vanban.documents.adapters.grpc.servicer import DocumentRegistryServicer
from vanban.documents.adapters.peers import GrpcApprovals, GrpcDirectory, NoApprovals
from vanban.documents.settings import DocumentsSettings
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = documents_pb2.DESCRIPTOR.services_by_name["DocumentRegistryService"].full_name


def build(settings: DocumentsSettings) -> ServiceHost:
    if settings.approval_required:
        settings.peer("workflow")  # no address: refuse to start, not to number every draft
    host = ServiceHost(settings, service="documents", tables=platform_tables, migrations=MIGRATIONS)
    host.add_consumer(
        lambda js: reach_consumer(
            js=js, uow_factory=host.uow, max_deliver=settings.consumer_max_deliver
        )
    )
    host.add_consumer(
        lambda js: forwarded_consumer(
            js=js, uow_factory=host.uow, max_deliver=settings.consumer_max_deliver
        )
    )
    host.add_consumer(
        lambda js: signed_consumer(
            js=js,
            uow_factory=host.uow,
            agency_code=settings.agency_code,
            max_deliver=settings.consumer_max_deliver,
        )
    )
    host.grpc.add_service(
        documents_pb2_grpc.add_DocumentRegistryServiceServicer_to_server,
        DocumentRegistryServicer(
            uow_factory=host.uow,
            timezone=ZoneInfo(settings.timezone),
            directory=GrpcDirectory(lambda: host.channel("directory")),
            approvals=(
                GrpcApprovals(
                    lambda: host.channel("workflow"), service_token=lambda: host.identity.token()
                )
                if settings.approval_required
                else NoApprovals()
            ),
            books_in_parallel=settings.books_in_parallel,
        ),
        SERVICE_NAME,
    )
    return host


async def main(settings: DocumentsSettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
