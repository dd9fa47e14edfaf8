"""Use cases of notify: turning facts into notices, and reading one's own inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from vanban.notify.domain.model import (
    IncomingRegistered,
    Notification,
    NotificationKind,
    incoming_registered_text,
)
from vanban.notify.domain.paging import (
    InboxPosition,
    decode_position,
    encode_position,
    page_size,
)
from vanban.notify.domain.ports import People, Transaction


async def notify_incoming_registered(
    *,
    tx: Transaction,
    people: People,
    document: IncomingRegistered,
    event_id: str,
    now: datetime,
) -> list[Notification]:
    """Gives every active clerk a notice that a document was registered and waits.

    Runs inside the event's unit of work, which the consumer commits. A clerk who already has
    the notice from this event gets no second one, whatever delivered the event twice.
    """
    recorded: list[Notification] = []
    for clerk in await people.active_clerks():
        if not clerk.active:
            continue
        title, body = incoming_registered_text(document, clearance=clerk.clearance)
        notification = Notification(
            id=str(uuid.uuid4()),
            recipient_id=clerk.id,
            kind=NotificationKind.INCOMING_REGISTERED,
            title=title,
            body=body,
            resource=f"incoming-documents/{document.document_id}",
            created_at=now,
            source_event_id=event_id,
        )
        if await tx.notifications.add_if_absent(notification):
            tx.record_notification_recorded(notification)
            tx.audit(
                action="notification.record",
                resource=f"notifications/{notification.id}",
                after={
                    "recipient_id": notification.recipient_id,
                    "kind": notification.kind.value,
                    "resource": notification.resource,
                    "source_event_id": event_id,
                },
            )
            recorded.append(notification)
    return recorded


async def list_notifications(
    *, tx: Transaction, recipient_id: str, requested_page_size: int, page_token: str
) -> tuple[list[Notification], str]:
    """The recipient's notices, newest first, one page at a time."""
    size = page_size(requested_page_size)
    before = decode_position(page_token)
    notifications = await tx.notifications.list_for_recipient(
        recipient_id, before=before, limit=size + 1
    )
    if len(notifications) <= size:
        return notifications, ""
    notifications = notifications[:size]
    last = notifications[-1]
    return notifications, encode_position(InboxPosition(created_at=last.created_at, id=last.id))
