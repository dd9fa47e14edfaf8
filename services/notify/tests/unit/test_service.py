from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vanban.notify.domain import service
from vanban.notify.domain.model import IncomingRegistered, Notification, Recipient
from vanban.notify.domain.paging import InboxPosition
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import InvalidArgumentError

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class FakePeople:
    def __init__(self, *clerks: Recipient) -> None:
        self.clerks = list(clerks)

    async def active_clerks(self) -> list[Recipient]:
        return self.clerks


class FakeNotifications:
    def __init__(self) -> None:
        self.rows: list[Notification] = []

    async def add_if_absent(self, notification: Notification) -> bool:
        key = (notification.source_event_id, notification.recipient_id)
        if any((n.source_event_id, n.recipient_id) == key for n in self.rows):
            return False
        self.rows.append(notification)
        return True

    async def list_for_recipient(
        self,
        recipient_id: str,
        *,
        secrecy: Collection[Secrecy],
        before: InboxPosition | None,
        limit: int,
    ) -> list[Notification]:
        mine = sorted(
            (n for n in self.rows if n.recipient_id == recipient_id and n.secrecy in secrecy),
            key=lambda n: (n.created_at, n.id),
            reverse=True,
        )
        if before is not None:
            mine = [n for n in mine if (n.created_at, n.id) < (before.created_at, before.id)]
        return mine[:limit]


@dataclass
class FakeTransaction:
    notifications: FakeNotifications = field(default_factory=FakeNotifications)
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
