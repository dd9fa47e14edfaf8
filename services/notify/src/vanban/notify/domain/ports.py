"""What notify's use cases need from the outside, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from vanban.notify.domain.email import EmailMode, Preferences
from vanban.notify.domain.model import KnownDocument, Notification, Recipient
from vanban.notify.domain.paging import InboxPosition
from vanban.platform.clearance import Secrecy
from vanban.platform.ports import TransactionPort


class People(Protocol):
    """The directory, as notify sees it."""

    async def active_clerks(self) -> list[Recipient]:
        """Every active văn thư of the agency; raises when the directory cannot answer."""

    async def everyone(self) -> list[Recipient]:
        """Every person of the agency (active or not); raises when the directory cannot
        answer."""


class KnownDocuments(Protocol):
    async def remember(self, document: KnownDocument) -> None:
        """Keeps (or updates) what notices say of the document."""

    async def get(self, document_id: str) -> KnownDocument | None: ...


class NotificationRepository(Protocol):
    async def add_if_absent(self, notification: Notification) -> Notification | None:
        """Adds the notification, numbered next among its recipient's, unless they already
        have one from the same event (then None)."""

    async def list_for_recipient(
        self,
        recipient_id: str,
        *,
        secrecy: Collection[Secrecy],
        before: InboxPosition | None,
        limit: int,
        after_sequence: int = 0,
        oldest_first: bool = False,
    ) -> list[Notification]:
        """Newest first, only those about documents of the given secrecy levels, strictly older
        than `before` when given; `oldest_first`, those numbered after `after_sequence`, oldest
        first."""

    async def mark_read(
        self,
        recipient_id: str,
        notification_id: str,
        *,
        secrecy: Collection[Secrecy],
        now: datetime,
    ) -> Notification | None:
        """The notice read (since `now` unless it already was); None when the recipient has no
        such notice within the given levels."""

    async def mark_all_read(
        self, recipient_id: str, *, secrecy: Collection[Secrecy], up_to: int, now: datetime
    ) -> int:
        """Every unread notice within the levels (numbered up to `up_to` when above 0) read;
        how many."""

    async def count_unread(
        self, recipient_id: str, *, secrecy: Collection[Secrecy]
    ) -> tuple[int, int]:
        """Unread notices within the levels, and the recipient's latest sequence."""


class PreferenceStore(Protocol):
    async def get(self, person_id: str) -> Preferences:
        """The person's choices (the defaults when they never chose)."""

    async def put(self, person_id: str, preferences: Preferences, *, now: datetime) -> None: ...


class EmailQueue(Protocol):
    async def enqueue(
        self,
        *,
        email_id: str,
        notification_id: str,
        person_id: str,
        address: str,
        name: str,
        mode: EmailMode,
        now: datetime,
        due_at: datetime,
    ) -> None:
        """Queues the notice's e-mail (once per notice)."""


class Transaction(TransactionPort, Protocol):
    """The unit of work as the domain sees it."""

    @property
    def notifications(self) -> NotificationRepository: ...

    @property
    def documents(self) -> KnownDocuments: ...

    @property
    def preferences(self) -> PreferenceStore: ...

    @property
    def emails(self) -> EmailQueue: ...

    def record_notification_recorded(self, notification: Notification) -> None: ...
