"""The domain's Transaction port: the platform's service transaction with the gateway's
repositories."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession

from vanban.gateway.adapters.db.api_keys import SqlApiKeys
from vanban.gateway.adapters.db.revocations import SqlRevocationLog
from vanban.gateway.adapters.db.sessions import SqlSessionStore
from vanban.platform.db import UnitOfWorkFactory
from vanban.platform.transaction import ServiceTransaction


class GatewayTransaction(ServiceTransaction):
    """Sessions, the revocation log and API keys. Its entries name their actor each
    (`audit_as`): a sign-in learns whose it is only inside the transaction."""

    def open_repositories(self, session: AsyncSession) -> None:
        self.sessions = SqlSessionStore(session)
        self.revocation_log = SqlRevocationLog(session)
        self.api_keys = SqlApiKeys(session)


def transactions(
    uow_factory: UnitOfWorkFactory,
) -> Callable[[], AbstractAsyncContextManager[GatewayTransaction]]:
    """`async with begin() as tx`: a transaction that rolls back unless it commits."""
    return GatewayTransaction.factory(uow_factory, actor="gateway")
