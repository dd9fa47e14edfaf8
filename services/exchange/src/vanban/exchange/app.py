"""The one wiring place of the exchange service (ADR 0012): the axis transport, the consumer
that sends issued documents, the delivery and receiving loops, and the server."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from pathlib import Path

from vanban.contracts.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from vanban.exchange.adapters.axis import NatsAxis
from vanban.exchange.adapters.db.tables import platform_tables
from vanban.exchange.adapters.events import PROGRESS_SOURCES, progress_consumer, signed_consumer
from vanban.exchange.adapters.grpc.servicer import ExchangeServicer
from vanban.exchange.adapters.peers import GrpcPeers
from vanban.exchange.service import ExchangeService, Options
from vanban.exchange.settings import ExchangeSettings
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = exchange_pb2.DESCRIPTOR.services_by_name["ExchangeService"].full_name


def build(settings: ExchangeSettings) -> ServiceHost:
    host = ServiceHost(settings, service="exchange", tables=platform_tables, migrations=MIGRATIONS)
    transport = NatsAxis(settings.axis_url.get_secret_value(), agency_code=settings.agency_code)
    service = ExchangeService(
        peers=GrpcPeers(channel=host.channel, service_token=lambda: host.identity.token()),
        transport=transport,
        uow_factory=host.uow,
        options=Options(
            agency_code=settings.agency_code,
            max_package_bytes=settings.max_package_bytes,
            receive_batch=settings.receive_batch,
            send_batch=settings.send_batch,
            retry_max_delay=settings.retry_max_delay,
            give_up_after=timedelta(hours=settings.give_up_after_hours),
        ),
    )

    async def start() -> None:
        await transport.start()

    async def exchange(stop: asyncio.Event) -> None:
        """Sends and receives until shutdown, then closes the axis connection (after the
        arrival in hand is settled)."""
        try:
            await asyncio.gather(service.deliver_loop(stop), service.receive_loop(stop))
        finally:
            await transport.close()

    host.on_start(start)
    host.grpc.add_service(
        exchange_pb2_grpc.add_ExchangeServiceServicer_to_server,
        ExchangeServicer(service),
        SERVICE_NAME,
    )
    host.add_consumer(
        lambda js: signed_consumer(
            js=js,
            uow_factory=host.uow,
            max_deliver=settings.consumer_max_deliver,
            send=service.send_signed,
        )
    )
    for source in PROGRESS_SOURCES:
        host.add_consumer(
            functools.partial(
                progress_consumer,
                source=source,
                uow_factory=host.uow,
                max_deliver=settings.consumer_max_deliver,
                report=service.report_progress,
            )
        )
    host.add_background("exchange", exchange)
    return host


async def main(settings: ExchangeSettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
