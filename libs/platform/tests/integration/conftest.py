"""A throwaway schema on the real PostgreSQL, a real NATS per module, tracing as in production."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Column, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from vanban.platform.db import UnitOfWork, create_engine, make_metadata, session_factory
from vanban.platform.events.nats import connect
from vanban.platform.events.tables import EventTables, event_tables
from vanban.platform.telemetry import setup_telemetry

AGENCY = "000.00.00.H99"


@pytest.fixture(scope="session", autouse=True)
def telemetry() -> None:
    # What vanban.platform.command.main does in production: without an SDK provider no span, and so no
    # traceparent or trace id, exists at all.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        setup_telemetry("platform-tests", agency_code=AGENCY)


@dataclass
class Schema:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: EventTables
    notes: Table
    source: str = f"/agencies/{AGENCY}/platform-tests"

    def uow(self, on_commit: Callable[[], None] | None = None) -> UnitOfWork:
        return UnitOfWork(
            self.sessions, tables=self.tables, source=self.source, on_commit=on_commit
        )

    async def count(self, table: Table) -> int:
        async with self.sessions() as session:
            return (await session.execute(select(func.count()).select_from(table))).scalar_one()


@pytest.fixture(scope="module")
async def schema(make_database: Callable[..., str]) -> AsyncIterator[Schema]:
    metadata = make_metadata()
    tables = event_tables(metadata)
    notes = Table(
        "notes",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("text", String(200), nullable=False),
    )
    engine = create_engine(make_database("platform"))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield Schema(engine=engine, sessions=session_factory(engine), tables=tables, notes=notes)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def nc(nats_server: Any) -> AsyncIterator[Client]:
    client = await connect(nats_server.url, name="platform-tests")
    try:
        yield client
    finally:
        if not client.is_closed:
            await client.close()


@pytest.fixture(scope="module")
def js(nc: Client) -> JetStreamContext:
    return nc.jetstream()


Eventually = Callable[..., Awaitable[None]]


@pytest.fixture(scope="session")
def eventually() -> Eventually:
    """Polls `check` (sync or async, truthy when done) with short sleeps for `within` seconds."""

    async def wait(check: Callable[[], Any], *, within: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + within
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {within} s: {what or check}")
            await asyncio.sleep(0.05)

    return wait


async def read_stream(js: JetStreamContext, stream: str, subject: str) -> list[Msg]:
    """Every message the stream holds on `subject`, oldest first, through an ephemeral consumer."""
    sub = await js.pull_subscribe(subject, stream=stream)
    try:
        wanted = (await sub.consumer_info()).num_pending or 0
        messages: list[Msg] = []
        while len(messages) < wanted:
            messages += await sub.fetch(min(wanted - len(messages), 256), timeout=5)
        return messages
    finally:
        await sub.unsubscribe()


@pytest.fixture(scope="session")
def stream_messages() -> Callable[[JetStreamContext, str, str], Awaitable[list[Msg]]]:
    return read_stream
