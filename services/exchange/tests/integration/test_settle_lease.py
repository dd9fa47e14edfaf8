"""A delivery pass that outlived its lease (the archive was slow) settles nothing: another pass
(another replica's) has taken the transmission again, and it alone records the attempt and
announces the package sent. Real PostgreSQL, the exchange's own migrations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from vanban.exchange.adapters.db.tables import packages, platform_tables, transmissions
from vanban.exchange.adapters.transport import SendReceipt
from vanban.exchange.app import MIGRATIONS
from vanban.exchange.core import PACKAGE_SENT, Options
from vanban.exchange.outbound import Outbound
from vanban.platform.db import UnitOfWork, create_engine, session_factory
from vanban.platform.migrations import upgrade_async

RECIPIENT = "000.00.00.H98"


@pytest.fixture
async def engine(make_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    url = make_database(f"exchange_lease_{uuid.uuid4().hex[:8]}")
    await upgrade_async(url, MIGRATIONS)
    made = create_engine(url, pool_size=2)
    yield made
    await made.dispose()


def as_a_pass_reads_it(transmission_id: str) -> Any:
    """The transmission as a delivery pass reads it once leased (with its package's fields)."""
    return (
        sa.select(
            transmissions, packages.c.sha256, packages.c.kind, packages.c.outgoing_document_id
        )
        .join(packages, packages.c.id == transmissions.c.package_id)
        .where(transmissions.c.id == transmission_id)
    )


async def leased_row(engine: AsyncEngine, lease: datetime) -> Any:
    """A document package with one transmission, leased until `lease`, as a pass holds it."""
    now = datetime.now(UTC)
    package_id, transmission_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(packages).values(
                id=package_id,
                direction="sent",
                kind="document",
                sha256="ab" * 32,
                size=10,
                outgoing_document_id=str(uuid.uuid4()),
                evidence_sequence=1,
                created_at=now,
            )
        )
        await connection.execute(
            sa.insert(transmissions).values(
                id=transmission_id,
                package_id=package_id,
                recipient=RECIPIENT,
                message_id=str(uuid.uuid4()),
                state="pending",
                attempts=0,
                next_attempt_at=lease,
                created_at=now,
            )
        )
        return (await connection.execute(as_a_pass_reads_it(transmission_id))).one()


async def settle(engine: AsyncEngine, row: Any) -> None:
    def uow() -> UnitOfWork:
        return UnitOfWork(session_factory(engine), tables=platform_tables, source="test")

    outbound = Outbound(
        peers=None,  # type: ignore[arg-type]  # settling calls no peer
        transport=None,  # type: ignore[arg-type]  # nor the axis
        uow_factory=uow,
        options=Options(agency_code="000.00.00.H99", max_package_bytes=1024),
    )
    async with uow() as unit:
        await outbound._settle(
            unit, row, SendReceipt(reference="INBOX#1", duplicate=False), datetime.now(UTC)
        )
        await unit.commit()


async def state(engine: AsyncEngine, row: Any) -> tuple[Any, ...]:
    async with engine.connect() as connection:
        found = (
            await connection.execute(
                sa.select(transmissions.c.state, transmissions.c.attempts).where(
                    transmissions.c.id == row.id
                )
            )
        ).one()
        sent = (
            await connection.execute(
                sa.select(sa.func.count())
                .select_from(platform_tables.outbox)
                .where(platform_tables.outbox.c.subject == PACKAGE_SENT)
            )
        ).scalar_one()
    return (found.state, found.attempts, sent)


async def test_a_pass_whose_lease_ran_out_leaves_the_transmission_to_the_pass_holding_it(
    engine: AsyncEngine,
) -> None:
    lease = datetime.now(UTC) + timedelta(seconds=120)
    ours = await leased_row(engine, lease)
    # Another pass took it again once our lease ran out: its lease is later.
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(transmissions)
            .where(transmissions.c.id == ours.id)
            .values(next_attempt_at=lease + timedelta(seconds=300))
        )
    await settle(engine, ours)
    assert await state(engine, ours) == ("pending", 0, 0)

    # The pass that holds it settles it: once, announced once.
    async with engine.connect() as connection:
        theirs = (await connection.execute(as_a_pass_reads_it(ours.id))).one()
    await settle(engine, theirs)
    assert await state(engine, ours) == ("acknowledged", 1, 1)
    await settle(engine, theirs)  # a repeat (or our late pass again) changes nothing
    assert await state(engine, ours) == ("acknowledged", 1, 1)
