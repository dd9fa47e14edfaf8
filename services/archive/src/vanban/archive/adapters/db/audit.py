"""Verifying the archive's audit chain (issue 12), for `GET /v1/audit/verify`."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vanban.archive.adapters.db.tables import platform_tables
from vanban.platform.audit_chain import ChainReport, verify_chain


async def verify_audit_chain(
    *, sessions: async_sessionmaker[AsyncSession], batch: int = 1000
) -> ChainReport:
    """Walks the whole audit chain and names its first broken link, if any.

    One read-only REPEATABLE READ transaction: every batch sees the chain as it was when the
    walk began, so the head it reports is one that existed, and the walk can change nothing.
    """
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        return await verify_chain(session, platform_tables.audit, batch=batch)
