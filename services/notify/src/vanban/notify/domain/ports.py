"""What notify's use cases need from the outside, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from vanban.notify.domain.model import Notification, Recipient
from vanban.notify.domain.paging import InboxPosition
from vanban.platform.clearance import Secrecy
from vanban.platform.ports import TransactionPort


class People(Protocol):
    """The directory, as notify sees it."""

    async def active_clerks(self) -> list[Recipient]:
        """Every active văn thư of the agency; raises when the directory cannot answer."""


class NotificationRepository(Protocol):
    async def add_if_absent(self, notification: Notification) -> bool:
        """Adds the notification unless its recipient already has one from the same event."""

    async def list_for_recipient(
        self,
        recipient_id: str,
        *,
        secrecy: Collection[Secrecy],
        before: InboxPosition | None,
        limit: int,
    ) -> list[Notification]:
        """Newest first, only those about documents of the given secrecy levels, strictly older
        than `before` when given."""


class Transaction(TransactionPort, Protocol):
    """The unit of work as the domain sees it."""

    @property
    def notifications(self) -> NotificationRepository: ...

    def record_notification_recorded(self, notification: Notification) -> None: ...
