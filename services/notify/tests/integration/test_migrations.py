"""Upgrading an inbox kept before notices carried their document's secrecy, and their number."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.notify.adapters.db.tables import notice_sequences, notifications
from vanban.notify.app import MIGRATIONS
from vanban.platform.migrations import upgrade

BEFORE_SECRECY = "9fd24e287f99"
BEFORE_SEQUENCES = "5c1e7a9d3b20"


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


async def test_notices_kept_before_sequences_are_numbered_per_person_in_their_order(
    make_database: DatabaseFactory,
) -> None:
    url = make_database("notify_before_sequences")
    await asyncio.to_thread(upgrade, url, MIGRATIONS, BEFORE_SEQUENCES)
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    kept = [
        {**legacy_notice("một"), "recipient_id": "clerk-a", "created_at": start},
        {**legacy_notice("hai"), "recipient_id": "clerk-b", "created_at": start},
        {**legacy_notice("ba"), "recipient_id": "clerk-a", "created_at": start.replace(hour=9)},
    ]
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(notifications).values(kept[::-1]))
        await asyncio.to_thread(upgrade, url, MIGRATIONS)
        async with engine.connect() as connection:
            numbered = {
                row.body: (row.recipient_id, row.sequence)
                for row in await connection.execute(select(notifications))
            }
            counters = {
                row.recipient_id: row.last_sequence
                for row in await connection.execute(select(notice_sequences))
            }
    finally:
        await engine.dispose()
    assert numbered == {"một": ("clerk-a", 1), "hai": ("clerk-b", 1), "ba": ("clerk-a", 2)}
    # The next notice of each continues after their last.
    assert counters == {"clerk-a": 2, "clerk-b": 1}
