"""The sign-in counts in the gateway's PostgreSQL: what they count, what the lock serialises, what
the sweep drops — and that the migrations build exactly the tables the code declares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from vanban.gateway.adapters.db.sessions import SqlSessionStore
from vanban.gateway.adapters.db.tables import metadata
from vanban.gateway.app import MIGRATIONS
from vanban.gateway.domain import sessions
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.platform.migrations import upgrade_async

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
POLICY = sessions.SignInPolicy(window=timedelta(minutes=15), max_failures=3)


@pytest.fixture(scope="module")
async def engine(make_database: DatabaseFactory) -> AsyncIterator[AsyncEngine]:
    url = make_database("gateway")
    await upgrade_async(url, MIGRATIONS)
    created = create_async_engine(url, pool_size=4)
    yield created
    await created.dispose()


def store_on(connection: AsyncConnection) -> SqlSessionStore:
    """The store on a session inside the test's own transaction on `connection`: the test reads
    what it wrote there and rolls it back."""
    return SqlSessionStore(AsyncSession(bind=connection))


async def test_the_migrations_build_the_tables_the_code_declares(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[Any]:
        return compare_metadata(MigrationContext.configure(connection), metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_failures_are_counted_by_account_and_by_address(engine: AsyncEngine) -> None:
    async with engine.connect() as connection, connection.begin():
        store = store_on(connection)
        await store.record_failure("an", address="192.0.2.1", at=NOW - timedelta(minutes=1))
        await store.record_failure("an", address="192.0.2.2", at=NOW - timedelta(minutes=2))
        await store.record_failure("binh", address="192.0.2.1", at=NOW - timedelta(minutes=3))
        await store.record_failure("an", address="192.0.2.1", at=NOW - timedelta(minutes=30))
        since = NOW - POLICY.window

        assert sorted(f.address for f in await store.account_failures("an", since=since)) == [
            "192.0.2.1",
            "192.0.2.2",
        ]
        assert len(await store.address_failures("192.0.2.1", since=since)) == 2

        await store.clear_failures("an", address="192.0.2.1")
        assert [f.address for f in await store.account_failures("an", since=since)] == ["192.0.2.2"]
        taken_back = await store.record_failure("an", address="192.0.2.3", at=NOW)
        await store.forget_failure(taken_back)
        assert len(await store.account_failures("an", since=since)) == 1
        await connection.rollback()


async def test_an_address_is_known_from_a_success_until_it_is_old(engine: AsyncEngine) -> None:
    async with engine.connect() as connection, connection.begin():
        store = store_on(connection)
        await store.remember_address("an", address="192.0.2.9", at=NOW - timedelta(days=40))
        await store.remember_address("an", address="192.0.2.9", at=NOW - timedelta(days=1))
        since = NOW - timedelta(days=30)

        assert await store.is_known_address("an", address="192.0.2.9", since=since)
        assert not await store.is_known_address("binh", address="192.0.2.9", since=since)
        assert not await store.is_known_address(
            "an", address="192.0.2.9", since=NOW - timedelta(hours=1)
        )
        await connection.rollback()


async def test_the_sweep_drops_aged_failures_of_any_name_and_stale_addresses(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection, connection.begin():
        store = store_on(connection)
        await store.record_failure("nobody-1", address="198.51.100.1", at=NOW - timedelta(hours=2))
        await store.record_failure(
            "nobody-2", address="198.51.100.1", at=NOW - timedelta(minutes=1)
        )
        await store.remember_address("an", address="192.0.2.9", at=NOW - timedelta(days=31))
        await store.remember_address("binh", address="192.0.2.9", at=NOW - timedelta(days=1))

        dropped = await store.purge(
            failed_before=NOW - POLICY.window,
            known_before=NOW - timedelta(days=30),
            audited_before=NOW - timedelta(days=90),
        )

        assert dropped == 2
        names = (await connection.execute(text("select username from sign_in_failures"))).all()
        assert [n for (n,) in names] == ["nobody-2"]
        await connection.rollback()


async def test_the_sweep_ages_out_audited_sign_in_failures_and_keeps_the_rest(
    engine: AsyncEngine,
) -> None:
    """Strangers write failed sign-ins under names of their choosing: the audit log keeps
    them 90 days here, while successful sign-ins and everything else stay."""

    async def audit(action: str, *, days_ago: int) -> None:
        await connection.execute(
            text(
                "insert into audit_log (occurred_at, actor, action, resource)"
                " values (:at, 'user:x', :action, 'accounts/x')"
            ),
            {"at": NOW - timedelta(days=days_ago), "action": action},
        )

    async with engine.connect() as connection, connection.begin():
        await connection.execute(text("delete from audit_log"))
        for action in sessions.FAILED_SIGN_IN_AUDIT_ACTIONS:
            await audit(action, days_ago=91)
            await audit(action, days_ago=89)
        await audit("session.sign_in", days_ago=400)
        await audit("person.password.change_failed", days_ago=400)

        dropped = await store_on(connection).purge(
            failed_before=NOW - POLICY.window,
            known_before=NOW - timedelta(days=30),
            audited_before=NOW - timedelta(days=90),
        )

        assert dropped == len(sessions.FAILED_SIGN_IN_AUDIT_ACTIONS)
        rows = await connection.execute(
            text("select action, occurred_at from audit_log order by action, occurred_at")
        )
        kept = [(action, (NOW - at).days) for action, at in rows.all()]
        assert kept == sorted(
            [(a, 89) for a in sessions.FAILED_SIGN_IN_AUDIT_ACTIONS]
            + [("person.password.change_failed", 400), ("session.sign_in", 400)]
        )
        await connection.rollback()


async def test_parallel_attempts_on_one_account_are_counted_one_after_another(
    engine: AsyncEngine,
) -> None:
    """Each attempt counts and records its failure in advance inside one transaction: with the
    account's lock, the fourth of four parallel attempts sees three failures and is refused."""

    async def attempt() -> str:
        async with engine.connect() as connection, connection.begin():
            store = store_on(connection)
            try:
                await sessions.admit_attempt(
                    store=store, account="lock-test", address="203.0.113.5", now=NOW, policy=POLICY
                )
            except sessions.AccountLockedError:
                return "locked"
            await asyncio.sleep(0.05)  # the rest of the transaction
            return "checked"

    answers = await asyncio.gather(*(attempt() for _ in range(4)))

    assert sorted(answers) == ["checked", "checked", "checked", "locked"]
