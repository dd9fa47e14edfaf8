"""The shared host of a service process: the one place where the common parts are wired.

A service's `app.py` creates a `ServiceHost`, adds its servicers and consumers, and awaits
`run(stop)` (`vanban.platform.command` calls it). Shutdown runs in order: stop answering health as serving, let in-flight RPCs
finish, let consumers finish the message in hand, flush the outbox, close NATS and the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from vanban.platform.caller import CallerTokenIssuer, CallerTokenVerifier
from vanban.platform.db import UnitOfWork, create_engine, session_factory
from vanban.platform.events.consumer import EventConsumer
from vanban.platform.events.nats import (
    connect,
    ensure_dlq_stream,
    ensure_service_stream,
    inbox_prefix,
)
from vanban.platform.events.relay import OutboxRelay
from vanban.platform.events.tables import EventTables
from vanban.platform.grpc.client import ServiceIdentity, open_channel
from vanban.platform.grpc.server import GrpcServer
from vanban.platform.migrations import upgrade_async
from vanban.platform.runtime import TaskGroup, settle_memory
from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings

logger = logging.getLogger(__name__)

ConsumerFactory = Callable[[JetStreamContext], EventConsumer[Any]]


class ServiceHost:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        service: str,
        tables: EventTables | None = None,
        migrations: Path | None = None,
        uses_nats: bool = True,
    ) -> None:
        self.settings = settings
        self.service = service
        self._tables = tables
        self._migrations = migrations
        # A service whose settings name a database has one.
        self._database_url = (
            settings.database_url if isinstance(settings, DatabaseSettingsMixin) else None
        )
        self._pool_size = (
            settings.database_pool_size if isinstance(settings, DatabaseSettingsMixin) else 1
        )
        self._uses_nats = uses_nats
        self.verifier = CallerTokenVerifier.from_keys_dir(
            settings.keys_dir, agency_code=settings.agency_code
        )
        self._identity: ServiceIdentity | None = None
        self.grpc = GrpcServer(
            verifier=self.verifier, host=settings.grpc_host, port=settings.grpc_port
        )
        self.engine: AsyncEngine | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.relay: OutboxRelay | None = None
        self._consumers: list[EventConsumer[Any] | ConsumerFactory] = []
        self._background: dict[str, Callable[[asyncio.Event], Awaitable[None]]] = {}
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self._on_reconnect: list[Callable[[], None]] = []
        self._channels: dict[str, Any] = {}
        self._consumer_stop = asyncio.Event()
        self._relay_stop = asyncio.Event()
        self._cleanups: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        if self._database_url:
            if self._migrations:
                await upgrade_async(self._database_url, self._migrations)
            self.engine = create_engine(self._database_url, pool_size=self._pool_size)
            self.sessions = session_factory(self.engine)
        if self._uses_nats:
            self.nc = await connect(
                self.settings.nats_url,
                name=f"vanban-{self.service}",
                inbox=inbox_prefix(self.service),
                reconnected=self._reconnected,
            )
            self.js = self.nc.jetstream()
            replicas = self.settings.nats_stream_replicas
            await ensure_service_stream(self.js, self.service, replicas=replicas)
            await ensure_dlq_stream(self.js, replicas=replicas)
            if self.sessions is not None and self._tables is not None:
                self.relay = OutboxRelay(sessions=self.sessions, tables=self._tables, js=self.js)
        for hook in self._on_start:
            await hook()

    def uow(self) -> UnitOfWork:
        if self.sessions is None or self._tables is None:
            raise RuntimeError(f"{self.service} has no database")
        return UnitOfWork(
            self.sessions,
            tables=self._tables,
            source=f"/agencies/{self.settings.agency_code}/{self.service}",
            on_commit=self.relay.wake if self.relay else None,
        )

    @property
    def identity(self) -> ServiceIdentity:
        """This service's own identity for background work; needs the signing key, so only
        services that call peers on their own behalf load it."""
        if self._identity is None:
            self._identity = ServiceIdentity(
                CallerTokenIssuer.from_keys_dir(self.settings.keys_dir),
                agency_code=self.settings.agency_code,
                service=self.service,
            )
        return self._identity

    def channel(self, peer: str, *, background: bool = True) -> Any:
        """A shared channel to a peer service. Calls carry the caller of the call being served;
        outside one they carry this service's identity when `background`, else nothing (so a
        forgotten caller fails closed as UNAUTHENTICATED instead of acting as the service)."""
        if peer not in self._channels:
            fallback = (lambda: self.identity.token()) if background else None
            self._channels[peer] = open_channel(self.settings.peer(peer), fallback_token=fallback)
        return self._channels[peer]

    def add_consumer(self, consumer: EventConsumer[Any] | ConsumerFactory) -> None:
        """A consumer, or a factory given the JetStream context once the host has started."""
        self._consumers.append(consumer)

    def add_background(self, name: str, loop: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """A loop run beside the server until shutdown (its argument is set when it must stop)."""
        self._background[name] = loop

    def on_start(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Work to do once the database and NATS are connected, before the server answers."""
        self._on_start.append(hook)

    def on_nats_reconnect(self, hook: Callable[[], None]) -> None:
        """Called each time the NATS connection is back after it was lost."""
        self._on_reconnect.append(hook)

    def _reconnected(self) -> None:
        for hook in self._on_reconnect:
            hook()

    def on_shutdown(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Stops another server of the process (HTTP); runs while gRPC drains."""
        self._cleanups.append(cleanup)

    async def run(self, stop: asyncio.Event) -> None:
        """Starts, then serves until `stop` is set: what a service's `main` does."""
        await self.start()
        settle_memory()
        await self.serve(stop)

    async def serve(self, stop: asyncio.Event) -> None:
        consumers = TaskGroup(stop)
        relay = TaskGroup(stop)
        if self.relay is not None:
            relay.start("outbox-relay", self.relay.run(self._relay_stop))
        for entry in self._consumers:
            if isinstance(entry, EventConsumer):
                consumer = entry
            else:
                if self.js is None:
                    raise RuntimeError(f"{self.service} has consumers but no NATS connection")
                consumer = entry(self.js)
            consumers.start(f"consumer-{consumer.durable}", consumer.run(self._consumer_stop))
        for name, loop in self._background.items():
            consumers.start(name, loop(self._consumer_stop))
        await self.grpc.start()
        logger.info("service ready", extra={"grpc_port": self.grpc.port})
        try:
            await stop.wait()
        finally:
            await self.shutdown(consumers, relay)
        if consumers.failed or relay.failed:
            raise SystemExit(1)

    async def shutdown(self, consumers: TaskGroup, relay: TaskGroup) -> None:
        """Everything within one `shutdown_grace` budget, so the orchestrator's kill never
        lands in the middle: servers and consumers drain together, then the outbox flushes."""
        grace = self.settings.shutdown_grace
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        logger.info("service stopping")
        self._consumer_stop.set()
        await asyncio.gather(
            self.grpc.stop(grace),
            consumers.wait(grace),
            *(cleanup() for cleanup in self._cleanups),
        )
        self._relay_stop.set()
        await relay.wait(max(1.0, deadline - loop.time()))
        for channel in self._channels.values():
            await channel.close()
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.drain()
        if self.engine is not None:
            await self.engine.dispose()
        logger.info("service stopped")
