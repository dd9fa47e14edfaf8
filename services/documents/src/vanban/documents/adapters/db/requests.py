"""Idempotent registration: the document a registration request id already numbered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.documents.adapters.db.tables import registration_requests


async def registered_for(session: AsyncSession, request_id: str) -> str | None:
    """The id of the document registered under `request_id`, if one was."""
    found: str | None = await session.scalar(
        select(registration_requests.c.document_id).where(
            registration_requests.c.request_id == request_id
        )
    )
    return found


async def remember(session: AsyncSession, request_id: str, document_id: str, at: datetime) -> None:
    """Binds `request_id` to the document just registered, in the registration's transaction:
    a concurrent registration with the same id waits on the key and then fails as a duplicate."""
    await session.execute(
        insert(registration_requests).values(
            request_id=request_id, document_id=document_id, created_at=at
        )
    )
