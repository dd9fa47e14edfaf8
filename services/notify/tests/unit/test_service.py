from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vanban.notify.domain import service
from vanban.notify.domain.email import Preferences
from vanban.notify.domain.model import IncomingRegistered, KnownDocument, Notification, Recipient
from vanban.notify.domain.paging import InboxPosition
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import InvalidArgumentError, NotFoundError

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class FakePeople:
    def __init__(self, *clerks: Recipient) -> None:
        self.clerks = list(clerks)

    async def active_clerks(self) -> list[Recipient]:
        return self.clerks

    async def everyone(self) -> list[Recipient]:
        return self.clerks


class FakeNotifications:
    def __init__(self) -> None:
        self.rows: list[Notification] = []

    async def add_if_absent(self, notification: Notification) -> Notification | None:
        key = (notification.source_event_id, notification.recipient_id)
        if any((n.source_event_id, n.recipient_id) == key for n in self.rows):
            return None
        sequence = 1 + sum(n.recipient_id == notification.recipient_id for n in self.rows)
        notification = dataclasses.replace(notification, sequence=sequence)
        self.rows.append(notification)
        return notification

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
        if oldest_first:
            later = [
                n
                for n in self.rows
                if n.recipient_id == recipient_id
                and n.secrecy in secrecy
                and n.sequence > after_sequence
            ]
            return sorted(later, key=lambda n: n.sequence)[:limit]
        mine = sorted(
            (n for n in self.rows if n.recipient_id == recipient_id and n.secrecy in secrecy),
            key=lambda n: (n.created_at, n.id),
            reverse=True,
        )
        if before is not None:
            mine = [n for n in mine if (n.created_at, n.id) < (before.created_at, before.id)]
        return mine[:limit]

    async def mark_read(
        self,
        recipient_id: str,
        notification_id: str,
        *,
        secrecy: Collection[Secrecy],
        now: datetime,
    ) -> Notification | None:
        for index, n in enumerate(self.rows):
            if n.id == notification_id and n.recipient_id == recipient_id and n.secrecy in secrecy:
                self.rows[index] = dataclasses.replace(n, read_at=n.read_at or now)
                return self.rows[index]
        return None

    async def mark_all_read(
        self, recipient_id: str, *, secrecy: Collection[Secrecy], up_to: int, now: datetime
    ) -> int:
        marked = 0
        for index, n in enumerate(self.rows):
            if (
                n.recipient_id == recipient_id
                and n.secrecy in secrecy
                and not n.read
                and (up_to == 0 or n.sequence <= up_to)
            ):
                self.rows[index] = dataclasses.replace(n, read_at=now)
                marked += 1
        return marked

    async def count_unread(
        self, recipient_id: str, *, secrecy: Collection[Secrecy]
    ) -> tuple[int, int]:
        mine = [n for n in self.rows if n.recipient_id == recipient_id]
        unread = sum(1 for n in mine if n.secrecy in secrecy and not n.read)
        return unread, max((n.sequence for n in mine), default=0)


class FakeDocuments:
    def __init__(self) -> None:
        self.known: dict[str, KnownDocument] = {}

    async def remember(self, document: KnownDocument) -> None:
        self.known[document.id] = document

    async def get(self, document_id: str) -> KnownDocument | None:
        return self.known.get(document_id)


class FakePreferences:
    def __init__(self) -> None:
        self.chosen: dict[str, Preferences] = {}

    async def get(self, person_id: str) -> Preferences:
        return self.chosen.get(person_id, Preferences())

    async def put(self, person_id: str, preferences: Preferences, *, now: datetime) -> None:
        self.chosen[person_id] = preferences


class FakeEmails:
    def __init__(self) -> None:
        self.queued: list[dict[str, Any]] = []

    async def enqueue(self, **fields: Any) -> None:
        self.queued.append(fields)


@dataclass
class FakeTransaction:
    notifications: FakeNotifications = field(default_factory=FakeNotifications)
    documents: FakeDocuments = field(default_factory=FakeDocuments)
    preferences: FakePreferences = field(default_factory=FakePreferences)
    emails: FakeEmails = field(default_factory=FakeEmails)
    events: list[Notification] = field(default_factory=list)
    audits: list[str] = field(default_factory=list)

    def record_notification_recorded(self, notification: Notification) -> None:
        self.events.append(notification)

    def audit(
        self,
        *,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None:
        self.audits.append(action)

    async def commit(self) -> None:
        raise AssertionError("the consumer commits the event's unit of work, not the use case")


def make_document(**overrides: object) -> IncomingRegistered:
    fields: dict[str, Any] = {
        "document_id": "doc-1",
        "arrival_number": 12,
        "arrival_year": 2026,
        "issuer_name": "Bộ Nội vụ",
        "code_number": "345",
        "code_notation": "BNV-VP",
        "subject": "V/v triển khai văn bản điện tử",
        "secrecy": Secrecy.NONE,
    }
    fields.update(overrides)
    return IncomingRegistered(**fields)


CLERK = Recipient(id="clerk-1", clearance=Clearance.CONFIDENTIAL, active=True)


async def test_every_active_clerk_gets_one_notice_with_the_arrival_number() -> None:
    tx = FakeTransaction()
    people = FakePeople(
        CLERK,
        Recipient(id="clerk-2", clearance=Clearance.NONE, active=True),
        Recipient(id="clerk-gone", clearance=Clearance.NONE, active=False),
    )
    recorded = await service.notify_incoming_registered(
        tx=tx, people=people, document=make_document(), event_id="ev-1", now=NOW
    )
    assert sorted(n.recipient_id for n in recorded) == ["clerk-1", "clerk-2"]
    notice = recorded[0]
    assert notice.title == "Văn bản đến mới: số đến 12/2026"
    assert notice.body == "Bộ Nội vụ — 345/BNV-VP: V/v triển khai văn bản điện tử"
    assert notice.resource == "incoming-documents/doc-1"
    assert notice.source_event_id == "ev-1" and not notice.read
    assert tx.events == recorded
    assert tx.audits == ["notification.record"] * 2


async def test_the_same_event_twice_gives_no_second_notice() -> None:
    tx = FakeTransaction()
    people = FakePeople(CLERK)
    for _ in range(2):
        await service.notify_incoming_registered(
            tx=tx, people=people, document=make_document(), event_id="ev-1", now=NOW
        )
    assert len(tx.notifications.rows) == 1
    assert len(tx.events) == 1


async def test_a_clerk_below_the_documents_secrecy_gets_no_notice_at_all() -> None:
    tx = FakeTransaction()
    people = FakePeople(
        CLERK,
        Recipient(id="clerk-none", clearance=Clearance.NONE, active=True),
        Recipient(id="clerk-secret", clearance=Clearance.SECRET, active=True),
    )
    document = make_document(secrecy=Secrecy.SECRET, subject="Kế hoạch tuyệt đối không lộ")
    recorded = await service.notify_incoming_registered(
        tx=tx, people=people, document=document, event_id="ev-2", now=NOW
    )
    assert [n.recipient_id for n in recorded] == ["clerk-secret"]
    assert recorded[0].secrecy is Secrecy.SECRET
    assert recorded[0].body.endswith("Kế hoạch tuyệt đối không lộ")
    assert recorded[0].title == "Văn bản đến mới: số đến 12/2026 (sổ tối mật)"
    assert [n.recipient_id for n in tx.notifications.rows] == ["clerk-secret"]
    assert tx.audits == ["notification.record"]


async def test_the_inbox_shows_only_notices_within_the_readers_clearance_now() -> None:
    tx = FakeTransaction()
    secret_clerk = Recipient(id="clerk-1", clearance=Clearance.SECRET, active=True)
    for number, secrecy in ((1, Secrecy.NONE), (2, Secrecy.CONFIDENTIAL), (3, Secrecy.SECRET)):
        await service.notify_incoming_registered(
            tx=tx,
            people=FakePeople(secret_clerk),
            document=make_document(document_id=f"doc-{number}", secrecy=secrecy),
            event_id=f"ev-{number}",
            now=NOW + timedelta(minutes=number),
        )

    async def visible(clearance: str) -> list[str]:
        page, _ = await service.list_notifications(
            tx=tx,
            recipient_id="clerk-1",
            # As the caller token's claim is read: a level nobody knows is none.
            clearance=Clearance.held(clearance),
            requested_page_size=0,
            page_token="",
        )
        return [n.resource.removeprefix("incoming-documents/") for n in page]

    assert await visible("secret") == ["doc-3", "doc-2", "doc-1"]
    assert await visible("confidential") == ["doc-2", "doc-1"]
    assert await visible("none") == ["doc-1"]
    assert await visible("unknown-level") == ["doc-1"]


async def test_the_inbox_pages_newest_first_without_repeats() -> None:
    tx = FakeTransaction()
    people = FakePeople(CLERK)
    for i in range(5):
        await service.notify_incoming_registered(
            tx=tx,
            people=people,
            document=make_document(document_id=f"doc-{i}", arrival_number=i + 1),
            event_id=f"ev-{i}",
            now=NOW + timedelta(minutes=i),
        )
    seen: list[str] = []
    token = ""
    while True:
        page, token = await service.list_notifications(
            tx=tx,
            recipient_id="clerk-1",
            clearance=Clearance.NONE,
            requested_page_size=2,
            page_token=token,
        )
        seen.extend(n.resource for n in page)
        if not token:
            break
    assert seen == [f"incoming-documents/doc-{i}" for i in reversed(range(5))]
    nobody, token = await service.list_notifications(
        tx=tx,
        recipient_id="someone-else",
        clearance=Clearance.NONE,
        requested_page_size=0,
        page_token="",
    )
    assert nobody == [] and token == ""


async def test_a_forged_page_token_is_refused() -> None:
    for token in ("%%%", "eyJ0IjoxfQ", "eyJ0IjoiMjAyNi0wMS0wMSIsImkiOiJ4In0"):
        with pytest.raises(InvalidArgumentError) as raised:
            await service.list_notifications(
                tx=FakeTransaction(),
                recipient_id="c",
                clearance=Clearance.NONE,
                requested_page_size=0,
                page_token=token,
            )
        assert raised.value.reason == "INVALID_PAGE_TOKEN"


async def record(tx: FakeTransaction, *numbers: int, secrecy: Secrecy = Secrecy.NONE) -> None:
    for number in numbers:
        await service.notify_incoming_registered(
            tx=tx,
            people=FakePeople(CLERK),
            document=make_document(document_id=f"doc-{number}", secrecy=secrecy),
            event_id=f"ev-{number}",
            now=NOW + timedelta(minutes=number),
        )


async def test_a_stream_catches_up_after_its_last_sequence_oldest_first() -> None:
    tx = FakeTransaction()
    await record(tx, 1, 2, 3)
    await record(tx, 4, secrecy=Secrecy.SECRET)
    await record(tx, 5)
    later, token = await service.list_notifications(
        tx=tx,
        recipient_id="clerk-1",
        clearance=Clearance.CONFIDENTIAL,
        requested_page_size=0,
        page_token="",
        after_sequence=1,
    )
    # The secret one was never recorded for a confidential clerk: numbers stay gap-free.
    assert [(n.sequence, n.resource) for n in later] == [
        (2, "incoming-documents/doc-2"),
        (3, "incoming-documents/doc-3"),
        (4, "incoming-documents/doc-5"),
    ]
    assert token == ""
    # From the very first, when a stream starts before the person had any notice.
    first, _ = await service.list_notifications(
        tx=tx,
        recipient_id="clerk-1",
        clearance=Clearance.CONFIDENTIAL,
        requested_page_size=0,
        page_token="",
        after_sequence=0,
        oldest_first=True,
    )
    assert [n.sequence for n in first] == [1, 2, 3, 4]
    with pytest.raises(InvalidArgumentError):
        await service.list_notifications(
            tx=tx,
            recipient_id="clerk-1",
            clearance=Clearance.NONE,
            requested_page_size=0,
            page_token="",
            after_sequence=-1,
        )


async def test_notices_are_read_one_by_one_or_all_up_to_what_was_seen() -> None:
    tx = FakeTransaction()
    await record(tx, 1, 2, 3, 4)
    assert await service.count_unread(tx=tx, recipient_id="clerk-1", clearance=Clearance.NONE) == (
        4,
        4,
    )
    first = tx.notifications.rows[0]
    read = await service.mark_read(
        tx=tx,
        recipient_id="clerk-1",
        clearance=Clearance.NONE,
        notification_id=first.id,
        now=NOW,
    )
    assert read.read
    with pytest.raises(NotFoundError):
        await service.mark_read(
            tx=tx,
            recipient_id="clerk-2",
            clearance=Clearance.NONE,
            notification_id=tx.notifications.rows[1].id,
            now=NOW,
        )
    marked = await service.mark_all_read(
        tx=tx, recipient_id="clerk-1", clearance=Clearance.NONE, up_to_sequence=3, now=NOW
    )
    assert marked == 2
    assert await service.count_unread(tx=tx, recipient_id="clerk-1", clearance=Clearance.NONE) == (
        1,
        4,
    )
