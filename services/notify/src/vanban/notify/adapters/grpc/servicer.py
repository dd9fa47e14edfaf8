from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from vanban.contracts.notify.v1 import notify_pb2 as pb
from vanban.contracts.notify.v1 import notify_pb2_grpc
from vanban.notify.adapters.grpc.convert import notification_to_pb
from vanban.notify.adapters.transaction import NotifyTransaction
from vanban.notify.domain import service
from vanban.platform.caller import current_caller
from vanban.platform.db import UnitOfWork


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
