"""The one wiring place of the notify service."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from vanban.contracts.notify.v1 import notify_pb2, notify_pb2_grpc
from vanban.notify.adapters.db.tables import platform_tables
from vanban.notify.adapters.directory import DirectoryPeople
from vanban.notify.adapters.email.sender import EmailSender, SmtpRelay
from vanban.notify.adapters.events.handling import handling_consumers
from vanban.notify.adapters.events.incoming import incoming_registered_consumer
from vanban.notify.adapters.grpc.servicer import NotifyServicer
from vanban.notify.adapters.grpc.webhooks import WebhookServicer
from vanban.notify.adapters.webhooks.guard import DnsUrlGuard
from vanban.notify.adapters.webhooks.sender import WebhookSender
from vanban.notify.domain.webhooks import RetryPolicy
from vanban.notify.settings import NotifySettings
from vanban.platform.service import ServiceHost

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name
WEBHOOK_SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name


def build(settings: NotifySettings) -> ServiceHost:
    host = ServiceHost(settings, service="notify", tables=platform_tables, migrations=MIGRATIONS)
    people = DirectoryPeople(host.channel("directory"), cache_seconds=settings.people_cache_seconds)
    # Someone changed in the directory: the cached people are forgotten at once.
    host.on_start(lambda: people.follow(host.nc))
    host.on_nats_reconnect(people.forget)
    host.add_consumer(
        lambda js: incoming_registered_consumer(
            js=js,
            uow_factory=host.uow,
            people=people,
            max_deliver=settings.consumer_max_deliver,
            email=settings.email_enabled,
        )
    )
    for factory in handling_consumers(
        uow_factory=host.uow,
        people=people,
        max_deliver=settings.consumer_max_deliver,
        email=settings.email_enabled,
    ):
        host.add_consumer(factory)
    host.grpc.add_service(
        notify_pb2_grpc.add_NotifyServiceServicer_to_server,
        NotifyServicer(uow_factory=host.uow),
        SERVICE_NAME,
    )
    guard = DnsUrlGuard(
        allow_private=settings.webhook_allow_private, allow_http=settings.webhook_allow_http
    )
    host.grpc.add_service(
        notify_pb2_grpc.add_WebhookServiceServicer_to_server,
        WebhookServicer(uow_factory=host.uow, guard=guard, max_webhooks=settings.webhooks_max),
        WEBHOOK_SERVICE_NAME,
    )
    sender = WebhookSender(
        uow_factory=host.uow,
        guard=guard,
        policy=RetryPolicy(
            first=timedelta(seconds=settings.webhook_retry_first_seconds),
            longest=timedelta(seconds=settings.webhook_retry_longest_seconds),
            give_up_after=timedelta(seconds=settings.webhook_give_up_after_seconds),
        ),
        timeout=settings.webhook_timeout_seconds,
        max_endpoints=settings.webhook_max_endpoints_at_once,
        poll_seconds=settings.webhook_poll_seconds,
    )
    host.add_background("webhook-deliveries", sender.run)
    if settings.email_enabled:
        mailer = EmailSender(
            uow_factory=host.uow,
            relay=SmtpRelay(
                host=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password.get_secret_value(),
                starttls=settings.smtp_starttls,
                implicit_tls=settings.smtp_implicit_tls,
                sender=settings.smtp_sender,
                timeout=settings.smtp_timeout_seconds,
                ca_file=settings.smtp_ca_file,
            ),
            link_base=settings.link_base,
            max_attempts=settings.email_max_attempts,
            retry_first=timedelta(seconds=settings.email_retry_first_seconds),
            poll_seconds=settings.email_poll_seconds,
        )
        host.add_background("email", mailer.run)
    return host


async def main(settings: NotifySettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)
