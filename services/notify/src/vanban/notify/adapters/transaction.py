"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from vanban.contracts.notify.v1 import events_pb2
from vanban.notify.adapters.db.repository import SqlNotificationRepository
from vanban.notify.adapters.grpc.convert import notification_to_pb
from vanban.notify.domain.model import Notification
from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import subject

NOTIFICATION_RECORDED = subject("notify", "notification", "recorded")
# Notices are written by notify itself, in reaction to events, never on a person's request.
ACTOR = "service:notify"


class NotifyTransaction:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self.notifications = SqlNotificationRepository(uow.session)

    def record_notification_recorded(self, notification: Notification) -> None:
        self._uow.record_event(
            NOTIFICATION_RECORDED,
            events_pb2.NotificationRecorded(notification=notification_to_pb(notification)),
        )

    def audit(self, *, action: str, resource: str, after: dict[str, object]) -> None:
        self._uow.audit(actor=ACTOR, action=action, resource=resource, after=after)
