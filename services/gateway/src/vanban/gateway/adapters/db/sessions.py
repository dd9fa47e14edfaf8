from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.gateway.adapters.db.tables import refresh_tokens, sign_in_failures
from vanban.gateway.domain.sessions import RefreshToken


class SqlSessionStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_account(self, username: str) -> None:
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"sign-in:{username}"}
        )

    async def forget_failures_before(self, username: str, *, before: datetime) -> None:
        await self._session.execute(
            delete(sign_in_failures).where(
                sign_in_failures.c.username == username, sign_in_failures.c.failed_at <= before
            )
        )

    async def recent_failures(self, username: str, *, since: datetime) -> list[datetime]:
        rows = await self._session.execute(
            select(sign_in_failures.c.failed_at).where(
                sign_in_failures.c.username == username, sign_in_failures.c.failed_at > since
            )
        )
        return [row.failed_at for row in rows]

    async def record_failure(self, username: str, *, at: datetime) -> None:
        await self._session.execute(
            insert(sign_in_failures).values(username=username, failed_at=at)
        )

    async def clear_failures(self, username: str) -> None:
        await self._session.execute(
            delete(sign_in_failures).where(sign_in_failures.c.username == username)
        )

    async def add_refresh_token(self, token: RefreshToken) -> None:
        await self._session.execute(
            insert(refresh_tokens).values(
                id=token.id,
                family_id=token.family_id,
                person_id=token.person_id,
                secret_hash=token.secret_hash,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                session_version=token.session_version,
            )
        )

    async def refresh_token_for_update(self, token_id: str) -> RefreshToken | None:
        row = (
            await self._session.execute(
                select(refresh_tokens).where(refresh_tokens.c.id == token_id).with_for_update()
            )
        ).first()
        if row is None:
            return None
        return RefreshToken(
            id=row.id,
            family_id=row.family_id,
            person_id=row.person_id,
            secret_hash=row.secret_hash,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
            revoked_at=row.revoked_at,
            session_version=row.session_version,
        )

    async def mark_used(self, token_id: str, *, at: datetime) -> None:
        await self._session.execute(
            update(refresh_tokens).where(refresh_tokens.c.id == token_id).values(used_at=at)
        )

    async def revoke_family(self, family_id: str, *, at: datetime) -> None:
        await self._session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
