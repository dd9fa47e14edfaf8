"""Use cases of notify: turning facts into notices, and reading one's own inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from vanban.notify.domain.email import EmailMode, due_at
from vanban.notify.domain.model import (
    IncomingRegistered,
    KnownDocument,
    Notification,
    NotificationKind,
    Recipient,
    incoming_registered_text,
)
from vanban.notify.domain.notices import Notice, Plan
from vanban.notify.domain.paging import (
    decode_position,
    one_page,
    page_size,
)
from vanban.notify.domain.ports import People, Transaction
from vanban.platform.clearance import Clearance
from vanban.platform.errors import InvalidArgumentError, NotFoundError, UnavailableError


async def notify_incoming_registered(
    *,
    tx: Transaction,
    people: People,
    document: IncomingRegistered,
    event_id: str,
    now: datetime,
    email: bool = False,
) -> list[Notification]:
    """Gives every active clerk cleared for the document a notice that it was registered and
    waits, and remembers the document for the notices of its handling. A clerk below its
    secrecy gets nothing at all: a notice without the abstract would still tell them that a
    secret document arrived, from whom, and its number.

    Runs inside the event's unit of work, which the consumer commits. A clerk who already has
    the notice from this event gets no second one, whatever delivered the event twice.
    """
    await tx.documents.remember(known_incoming(document))
    title, body = incoming_registered_text(document)
    notice = Notice(
        kind=NotificationKind.INCOMING_REGISTERED,
        title=title,
        body=body,
        resource=f"incoming-documents/{document.document_id}",
        secrecy=document.secrecy,
    )
    return await record_plan(
        tx=tx,
        plan=[(await people.active_clerks(), notice)],
        event_id=event_id,
        now=now,
        email=email,
    )


def known_incoming(document: IncomingRegistered) -> KnownDocument:
    label = f"Số đến {document.arrival_number}/{document.arrival_year}"
    code = "/".join(part for part in (document.code_number, document.code_notation) if part)
    if code:
        label += f" ({code})"
    return KnownDocument(
        id=document.document_id,
        direction="incoming",
        label=label,
        subject=document.subject,
        secrecy=document.secrecy,
    )


# What a notice holds (the store's columns): longer words (a long comment, a reason) are cut.
MAX_TITLE = 300
MAX_BODY = 1000


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def queue_email(
    tx: Transaction, person: Recipient, notification: Notification, *, now: datetime
) -> None:
    preferences = await tx.preferences.get(person.id)
    mode = preferences.mode(notification.kind)
    if mode is EmailMode.OFF:
        return
    await tx.emails.enqueue(
        email_id=str(uuid.uuid4()),
        notification_id=notification.id,
        person_id=person.id,
        address=person.email,
        name=person.full_name,
        mode=mode,
        now=now,
        due_at=due_at(preferences, mode, now),
    )


async def known_document(tx: Transaction, document_id: str) -> KnownDocument:
    """The document an event of its handling is about. Its own event may not have been read
    yet (another stream): the event is tried again shortly, not notified without it."""
    found = await tx.documents.get(document_id)
    if found is None:
        raise UnavailableError(
            f"document {document_id} is not known here yet", reason="DOCUMENT_NOT_YET_KNOWN"
        )
    return found


async def record_plan(
    *, tx: Transaction, plan: Plan, event_id: str, now: datetime, email: bool = False
) -> list[Notification]:
    """Records each notice of the plan for each of its people who is active and cleared for it,
    once per person and event; with `email` (the platform sends e-mail), queues its e-mail as
    the person chose (at once, in the digest, or none)."""
    given: dict[str, tuple[Recipient, Notice]] = {}
    for recipients, notice in plan:
        for person in recipients:
            if person.active and person.clearance.covers(notice.secrecy):
                # One notice per person per event: the first rule that names them.
                given.setdefault(person.id, (person, notice))
    recorded: list[Notification] = []
    # In the order of their ids: two events recorded at once take their recipients' numbers in
    # the same order, never each waiting for the other's.
    for person_id in sorted(given):
        _, notice = given[person_id]
        notification = await tx.notifications.add_if_absent(
            Notification(
                id=str(uuid.uuid4()),
                recipient_id=person_id,
                kind=notice.kind,
                title=clip(notice.title, MAX_TITLE),
                body=clip(notice.body, MAX_BODY),
                resource=notice.resource,
                created_at=now,
                source_event_id=event_id,
                secrecy=notice.secrecy,
            )
        )
        if notification is None:
            continue
        person, _ = given[person_id]
        if email and person.email:
            await queue_email(tx, person, notification, now=now)
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
    *,
    tx: Transaction,
    recipient_id: str,
    clearance: Clearance,
    requested_page_size: int,
    page_token: str,
    after_sequence: int = 0,
    oldest_first: bool = False,
) -> tuple[list[Notification], str]:
    """The recipient's notices about documents within their clearance (as the caller token
    has it now), newest first, one page at a time; or, `after_sequence` given, the next ones
    after it, oldest first (a live stream catching up asks again after the last)."""
    size = page_size(requested_page_size)
    if after_sequence < 0:
        raise InvalidArgumentError("after_sequence must not be negative", reason="INVALID_SEQUENCE")
    if after_sequence > 0 or oldest_first:
        later = await tx.notifications.list_for_recipient(
            recipient_id,
            secrecy=clearance.levels_covered(),
            before=None,
            limit=size,
            after_sequence=after_sequence,
            oldest_first=True,
        )
        return later, ""
    before = decode_position(page_token)
    notifications = await tx.notifications.list_for_recipient(
        recipient_id, secrecy=clearance.levels_covered(), before=before, limit=size + 1
    )
    return one_page(notifications, size)


async def mark_read(
    *, tx: Transaction, recipient_id: str, clearance: Clearance, notification_id: str, now: datetime
) -> Notification:
    """One of the recipient's own notices read. Another's, or one above their clearance now,
    is not found: which ids exist is nobody else's business."""
    notification = await tx.notifications.mark_read(
        recipient_id, notification_id, secrecy=clearance.levels_covered(), now=now
    )
    if notification is None:
        raise NotFoundError(f"no notification {notification_id}", reason="NOTIFICATION_NOT_FOUND")
    return notification


async def mark_all_read(
    *, tx: Transaction, recipient_id: str, clearance: Clearance, up_to_sequence: int, now: datetime
) -> int:
    if up_to_sequence < 0:
        raise InvalidArgumentError("up_to_sequence must not be negative", reason="INVALID_SEQUENCE")
    return await tx.notifications.mark_all_read(
        recipient_id, secrecy=clearance.levels_covered(), up_to=up_to_sequence, now=now
    )


async def count_unread(
    *, tx: Transaction, recipient_id: str, clearance: Clearance
) -> tuple[int, int]:
    """Unread notices within the clearance, and the recipient's latest sequence."""
    return await tx.notifications.count_unread(recipient_id, secrecy=clearance.levels_covered())
