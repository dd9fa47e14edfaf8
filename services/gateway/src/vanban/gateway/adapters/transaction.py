"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from vanban.gateway.adapters.db.api_keys import SqlApiKeys
from vanban.gateway.adapters.db.revocations import SqlRevocationLog
from vanban.gateway.adapters.db.sessions import SqlSessionStore
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory


class GatewayTransaction:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self.sessions = SqlSessionStore(uow.session)
        self.revocation_log = SqlRevocationLog(uow.session)
        self.api_keys = SqlApiKeys(uow.session)

    def audit(
        self, *, actor: str, action: str, resource: str, after: dict[str, object] | None = None
    ) -> None:
        self._uow.audit(actor=actor, action=action, resource=resource, after=after)

    async def commit(self) -> None:
        await self._uow.commit()


def transactions(
    uow_factory: UnitOfWorkFactory,
) -> Callable[[], AbstractAsyncContextManager[GatewayTransaction]]:
    """`async with begin() as tx`: a transaction that rolls back unless it commits."""

    @contextlib.asynccontextmanager
    async def begin() -> AsyncIterator[GatewayTransaction]:
        async with uow_factory() as uow:
            yield GatewayTransaction(uow)

    return begin
