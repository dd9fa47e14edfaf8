from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time

import grpc

from vanban.contracts.notify.v1 import notify_pb2 as pb
from vanban.contracts.notify.v1 import notify_pb2_grpc
from vanban.notify.adapters.db.email import (
    CANCELLED,
    FAILED,
    PENDING,
    SENT,
    QueuedEmail,
    SqlEmails,
    SqlPreferences,
)
from vanban.notify.adapters.grpc.convert import KIND_TO_PB, notification_to_pb
from vanban.notify.adapters.transaction import NotifyTransaction
from vanban.notify.domain import email as email_domain
from vanban.notify.domain import service
from vanban.notify.domain.email import Preferences
from vanban.notify.domain.model import NotificationKind
from vanban.notify.domain.paging import decode_position, one_page, page_size
from vanban.notify.domain.webhooks import require_admin
from vanban.platform.caller import current_caller
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import InvalidArgumentError


class NotifyServicer(notify_pb2_grpc.NotifyServiceServicer):
    def __init__(self, *, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow_factory = uow_factory

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListNotificationsResponse:
        # Only a person has an inbox; a service identity is refused (NOT_A_PERSON).
        caller = current_caller()
        recipient_id = caller.person_id
        async with self._uow_factory() as uow:
            notifications, next_token = await service.list_notifications(
                tx=NotifyTransaction(uow, actor=caller.subject),
                recipient_id=recipient_id,
                clearance=caller.clearance,
                requested_page_size=request.page_size,
                page_token=request.page_token,
                after_sequence=request.after_sequence,
                oldest_first=request.oldest_first,
            )
        return pb.ListNotificationsResponse(
            notifications=[notification_to_pb(n) for n in notifications],
            next_page_token=next_token,
        )

    async def MarkNotificationRead(
        self, request: pb.MarkNotificationReadRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkNotificationReadResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            notification = await service.mark_read(
                tx=NotifyTransaction(uow, actor=caller.subject),
                recipient_id=caller.person_id,
                clearance=caller.clearance,
                notification_id=request.id,
                now=datetime.now(UTC),
            )
            await uow.commit()
        return pb.MarkNotificationReadResponse(notification=notification_to_pb(notification))

    async def MarkAllNotificationsRead(
        self, request: pb.MarkAllNotificationsReadRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkAllNotificationsReadResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            marked = await service.mark_all_read(
                tx=NotifyTransaction(uow, actor=caller.subject),
                recipient_id=caller.person_id,
                clearance=caller.clearance,
                up_to_sequence=request.up_to_sequence,
                now=datetime.now(UTC),
            )
            await uow.commit()
        return pb.MarkAllNotificationsReadResponse(marked=marked)

    async def CountUnreadNotifications(
        self, request: pb.CountUnreadNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.CountUnreadNotificationsResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            unread, latest = await service.count_unread(
                tx=NotifyTransaction(uow, actor=caller.subject),
                recipient_id=caller.person_id,
                clearance=caller.clearance,
            )
        return pb.CountUnreadNotificationsResponse(unread=unread, latest_sequence=latest)

    async def GetNotificationPreferences(
        self, request: pb.GetNotificationPreferencesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetNotificationPreferencesResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            chosen = await SqlPreferences(uow.session).get(caller.person_id)
        return pb.GetNotificationPreferencesResponse(preferences=preferences_to_pb(chosen))

    async def UpdateNotificationPreferences(
        self, request: pb.UpdateNotificationPreferencesRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateNotificationPreferencesResponse:
        caller = current_caller()
        person_id = caller.person_id
        given = request.preferences
        chosen = email_domain.preferences_from(
            email=dict(given.email),
            quiet_start=given.quiet_start,
            quiet_end=given.quiet_end,
            digest_time=given.digest_time,
        )
        async with self._uow_factory() as uow:
            await SqlPreferences(uow.session).put(person_id, chosen, now=datetime.now(UTC))
            await uow.commit()
        return pb.UpdateNotificationPreferencesResponse(preferences=preferences_to_pb(chosen))

    async def ListEmailDeliveries(
        self, request: pb.ListEmailDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListEmailDeliveriesResponse:
        require_admin(current_caller())
        if request.state not in ("", PENDING, SENT, FAILED, CANCELLED):
            raise InvalidArgumentError(
                "state is one of pending, sent, failed, cancelled", reason="INVALID_FILTER"
            )
        size = page_size(request.page_size)
        before = decode_position(request.page_token)
        async with self._uow_factory() as uow:
            found = await SqlEmails(uow.session).listed(
                state=request.state or None, before=before, limit=size + 1
            )
        found, token = one_page(found, size)
        return pb.ListEmailDeliveriesResponse(
            deliveries=[email_to_pb(e) for e in found], next_page_token=token
        )


def preferences_to_pb(chosen: Preferences) -> pb.NotificationPreferences:
    def clock(value: time | None) -> str:
        return value.strftime("%H:%M") if value is not None else ""

    return pb.NotificationPreferences(
        email={kind.value: mode.value for kind, mode in chosen.email.items()},
        quiet_start=clock(chosen.quiet_start),
        quiet_end=clock(chosen.quiet_end),
        digest_time=clock(chosen.digest_time),
        effective_email={kind.value: chosen.mode(kind).value for kind in NotificationKind},
    )


def email_to_pb(email: QueuedEmail) -> pb.EmailDelivery:
    message = pb.EmailDelivery(
        id=email.id,
        person_id=email.person_id,
        address=email.address,
        notification_id=email.notification.id,
        kind=KIND_TO_PB[email.notification.kind],
        mode=email.mode,
        state=email.state,
        created_at=to_timestamp(email.created_at),
        due_at=to_timestamp(email.due_at),
        attempts=email.attempts,
        last_error=email.last_error,
    )
    if email.sent_at is not None:
        message.sent_at.CopyFrom(to_timestamp(email.sent_at))
    return message
