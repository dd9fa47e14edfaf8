"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vanban.contracts.notify.v1 import events_pb2
from vanban.notify.adapters.db.email import SqlEmails, SqlPreferences
from vanban.notify.adapters.db.repository import SqlKnownDocuments, SqlNotificationRepository
from vanban.notify.adapters.db.webhooks import SqlWebhooks
from vanban.notify.adapters.grpc.convert import notification_to_pb
from vanban.notify.domain.model import Notification
from vanban.platform.events.nats import subject
from vanban.platform.transaction import ServiceTransaction

NOTIFICATION_RECORDED = subject("notify", "notification", "recorded")
# Notices are written by notify itself, in reaction to events, never on a person's request.
ACTOR = "service:notify"


class NotifyTransaction(ServiceTransaction):
    def open_repositories(self, session: AsyncSession) -> None:
        self.notifications = SqlNotificationRepository(session)
        self.webhooks = SqlWebhooks(session)
        self.documents = SqlKnownDocuments(session)
        self.preferences = SqlPreferences(session)
        self.emails = SqlEmails(session)

    def record_notification_recorded(self, notification: Notification) -> None:
        self.record_event(
            NOTIFICATION_RECORDED,
            events_pb2.NotificationRecorded(notification=notification_to_pb(notification)),
        )
