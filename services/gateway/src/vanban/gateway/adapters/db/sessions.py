from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.gateway.adapters.db.tables import (
    known_sign_in_addresses,
    platform_tables,
    refresh_tokens,
    sign_in_failures,
)
from vanban.gateway.domain.sessions import FAILED_SIGN_IN_AUDIT_ACTIONS, Failure, RefreshToken
from vanban.platform.db import changed_rows


class SqlSessionStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_account(self, account: str) -> None:
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"sign-in:{account}"}
        )

    async def account_failures(self, account: str, *, since: datetime) -> list[Failure]:
        rows = await self._session.execute(
            select(sign_in_failures.c.failed_at, sign_in_failures.c.address).where(
                sign_in_failures.c.username == account, sign_in_failures.c.failed_at > since
            )
        )
        return [Failure(at=row.failed_at, address=row.address) for row in rows]

    async def address_failures(self, address: str, *, since: datetime) -> list[datetime]:
        rows = await self._session.execute(
            select(sign_in_failures.c.failed_at).where(
                sign_in_failures.c.address == address, sign_in_failures.c.failed_at > since
            )
        )
        return [row.failed_at for row in rows]

    async def record_failure(self, account: str, *, address: str, at: datetime) -> int:
        inserted = await self._session.execute(
            insert(sign_in_failures)
            .values(username=account, address=address, failed_at=at)
            .returning(sign_in_failures.c.id)
        )
        return int(inserted.scalar_one())

    async def forget_failure(self, failure_id: int) -> None:
        await self._session.execute(
            delete(sign_in_failures).where(sign_in_failures.c.id == failure_id)
        )

    async def clear_failures(self, account: str, *, address: str) -> None:
        await self._session.execute(
            delete(sign_in_failures).where(
                sign_in_failures.c.username == account, sign_in_failures.c.address == address
            )
        )

    async def is_known_address(self, account: str, *, address: str, since: datetime) -> bool:
        found = await self._session.execute(
            select(known_sign_in_addresses.c.last_sign_in_at).where(
                known_sign_in_addresses.c.username == account,
                known_sign_in_addresses.c.address == address,
                known_sign_in_addresses.c.last_sign_in_at > since,
            )
        )
        return found.first() is not None

    async def remember_address(self, account: str, *, address: str, at: datetime) -> None:
        statement = pg_insert(known_sign_in_addresses).values(
            username=account, address=address, last_sign_in_at=at
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["username", "address"],
                set_={"last_sign_in_at": statement.excluded.last_sign_in_at},
            )
        )

    async def purge(
        self, *, failed_before: datetime, known_before: datetime, audited_before: datetime
    ) -> int:
        """Drops failures that aged out of the window (of unknown names too), addresses not
        used for sign-in lately, and the audit entries of failed sign-ins past their keep
        time; returns how many rows went."""
        failures = await changed_rows(
            self._session,
            delete(sign_in_failures).where(sign_in_failures.c.failed_at <= failed_before),
        )
        known = await changed_rows(
            self._session,
            delete(known_sign_in_addresses).where(
                known_sign_in_addresses.c.last_sign_in_at <= known_before
            ),
        )
        audit = platform_tables.audit
        audited = await changed_rows(
            self._session,
            delete(audit).where(
                audit.c.action.in_(FAILED_SIGN_IN_AUDIT_ACTIONS),
                audit.c.occurred_at <= audited_before,
            ),
        )
        return failures + known + audited

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
