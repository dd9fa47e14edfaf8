from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.gateway.adapters.db.tables import api_keys
from vanban.gateway.domain.api_keys import ApiKey
from vanban.platform.db import changed_rows


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        scopes=tuple(row.scopes),
        secret_hash=row.secret_hash,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class SqlApiKeys:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, key: ApiKey) -> None:
        await self._session.execute(
            insert(api_keys).values(
                id=key.id,
                name=key.name,
                scopes=list(key.scopes),
                secret_hash=key.secret_hash,
                created_by=key.created_by,
                created_at=key.created_at,
                expires_at=key.expires_at,
            )
        )

    async def get(self, key_id: str) -> ApiKey | None:
        row = (await self._session.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        return _key(row) if row is not None else None

    async def list(self) -> list[ApiKey]:
        rows = await self._session.execute(select(api_keys).order_by(api_keys.c.created_at))
        return [_key(row) for row in rows]

    async def revoke(self, key_id: str, *, at: datetime) -> bool:
        revoked = await changed_rows(
            self._session,
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at),
        )
        return revoked > 0
