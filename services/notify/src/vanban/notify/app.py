"""The one wiring place of the notify service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from vanban.contracts.notify.v1 import notify_pb2, notify_pb2_grpc
from vanban.notify.adapters.db.tables import metadata, platform_tables
from vanban.notify.adapters.directory import DirectoryPeople
from vanban.notify.adapters.events.incoming import incoming_registered_consumer
from vanban.notify.adapters.grpc.servicer import NotifyServicer
from vanban.notify.settings import NotifySettings
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name


class NotifyHost(ServiceHost):
    """Adds the consumers once NATS is connected.

    `EventConsumer` needs the JetStream context, which `ServiceHost` only has after `start()`,
    while tests and `main` both go build → start → serve; so the consumers join in `start()`.
    """

    def __init__(self, settings: NotifySettings) -> None:
        super().__init__(
            settings,
            service="notify",
            metadata=metadata,
            tables=platform_tables,
            migrations=MIGRATIONS,
            database_url=settings.database_url,
        )
        self._max_deliver = settings.consumer_max_deliver

    async def start(self) -> None:
        await super().start()
        assert self.js is not None
        self.add_consumer(
            incoming_registered_consumer(
                js=self.js,
                uow_factory=self.uow,
                people=DirectoryPeople(self.channel("directory")),
                max_deliver=self._max_deliver,
            )
        )


def build(settings: NotifySettings) -> ServiceHost:
    host = NotifyHost(settings)
    host.grpc.add_service(
        notify_pb2_grpc.add_NotifyServiceServicer_to_server,
        NotifyServicer(uow_factory=host.uow),
        SERVICE_NAME,
    )
    return host


async def main(settings: NotifySettings, stop: asyncio.Event) -> None:
    host = build(settings)
    await host.start()
    await host.serve(stop)
