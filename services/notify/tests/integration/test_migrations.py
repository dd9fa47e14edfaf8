"""Upgrading an inbox kept before notices carried their document's secrecy."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.notify.adapters.db.tables import notifications
from vanban.notify.app import MIGRATIONS
from vanban.platform.migrations import upgrade

BEFORE_SECRECY = "9fd24e287f99"


def legacy_notice(body: str) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "recipient_id": "clerk-none",
        "kind": "incoming_registered",
        "title": "Văn bản đến mới: số đến 7/2026",
        "body": body,
        "resource": f"incoming-documents/{uuid.uuid4()}",
        "created_at": datetime.now(UTC),
        "source_event_id": str(uuid.uuid4()),
    }


async def test_notices_that_leaked_a_secret_documents_number_and_issuer_are_removed(
    make_database: DatabaseFactory,
) -> None:
    url = make_database("notify_legacy")
    await asyncio.to_thread(upgrade, url, MIGRATIONS, BEFORE_SECRECY)
    leaked = legacy_notice("Bộ Công an — 12/BCA-VP: (văn bản tối mật, trích yếu được ẩn)")
    ordinary = legacy_notice("Bộ Nội vụ — 5/BNV: V/v triển khai văn bản điện tử")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            # The table as it was: no secrecy column yet, so only the columns given are named.
            await connection.execute(insert(notifications).values([leaked, ordinary]))
        await asyncio.to_thread(upgrade, url, MIGRATIONS)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(select(notifications.c.id, notifications.c.secrecy))
            ).all()
    finally:
        await engine.dispose()
    assert [(row.id, row.secrecy) for row in rows] == [(ordinary["id"], "none")]
