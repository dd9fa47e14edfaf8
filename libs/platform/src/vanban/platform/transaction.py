"""The base of every service's transaction: the platform's unit of work as a domain's
`TransactionPort` (vanban.platform.ports)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Self

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.platform.db import UnitOfWork


class ServiceTransaction:
    """A unit of work whose audit entries name the actor it was opened with (and, when they act
    for someone, whom). A service subclasses it: its repositories are made in
    `open_repositories`, and the events its domain records become `record_event` calls."""

    def __init__(self, uow: UnitOfWork, *, actor: str, on_behalf_of: str | None = None) -> None:
        self._uow = uow
        self.actor = actor
        self.on_behalf_of = on_behalf_of
        self.open_repositories(uow.session)

    @classmethod
    def factory(
        cls, uow_factory: Callable[[], UnitOfWork], *, actor: str, on_behalf_of: str | None = None
    ) -> Callable[[], contextlib.AbstractAsyncContextManager[Self]]:
        """Opens one transaction per use, for use cases that commit in several steps."""

        @contextlib.asynccontextmanager
        async def open_transaction() -> AsyncIterator[Self]:
            async with uow_factory() as uow:
                yield cls(uow, actor=actor, on_behalf_of=on_behalf_of)

        return open_transaction

    def open_repositories(self, session: AsyncSession) -> None:
        """Makes the service's repositories on this transaction's session."""

    def act_for(self, person_id: str) -> None:
        """From now on, audit entries say the actor acts for `person_id` (under a delegation
        the domain has checked)."""
        self.on_behalf_of = person_id

    def record_event(self, subject: str, message: Message) -> str:
        """Queues an event; `commit()` writes it to the outbox with the state change."""
        return self._uow.record_event(subject, message)

    def audit(
        self,
        *,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None:
        self.audit_as(
            actor=self.actor,
            on_behalf_of=self.on_behalf_of,
            action=action,
            resource=resource,
            before=before,
            after=after,
        )

    def audit_as(
        self,
        *,
        actor: str,
        action: str,
        resource: str,
        on_behalf_of: str | None = None,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None:
        """An audit entry of another actor than the transaction's: where who acted is learnt
        only inside the transaction (the gateway's sign-in names the account it checked)."""
        self._uow.audit(
            actor=actor,
            on_behalf_of=on_behalf_of,
            action=action,
            resource=resource,
            before=before,
            after=after,
        )

    async def commit(self) -> None:
        await self._uow.commit()
