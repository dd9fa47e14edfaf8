"""The one wiring place of the notify service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from vanban.contracts.notify.v1 import notify_pb2, notify_pb2_grpc
from vanban.notify.adapters.db.tables import platform_tables
from vanban.notify.adapters.directory import DirectoryPeople
from vanban.notify.adapters.events.incoming import incoming_registered_consumer
from vanban.notify.adapters.grpc.servicer import NotifyServicer
from vanban.notify.settings import NotifySettings
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name


def build(settings: NotifySettings) -> ServiceHost:
    host = ServiceHost(settings, service="notify", tables=platform_tables, migrations=MIGRATIONS)
    people = DirectoryPeople(host.channel("directory"))
    host.add_consumer(
        lambda js: incoming_registered_consumer(
            js=js,
            uow_factory=host.uow,
            people=people,
            max_deliver=settings.consumer_max_deliver,
        )
    )
    host.grpc.add_service(
        notify_pb2_grpc.add_NotifyServiceServicer_to_server,
        NotifyServicer(uow_factory=host.uow),
        SERVICE_NAME,
    )
    return host


async def main(settings: NotifySettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
