"""Notifications between the REST API and the notify contract."""

from __future__ import annotations

from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.api.convert.common import enum_names
from vanban.gateway.api.schemas.notifications import EmailDeliveryOut, NotificationOut
from vanban.platform.convert import from_timestamp, optional_datetime

KIND_NAME = enum_names(notify_pb2.NotificationKind)


def notification_out(n: notify_pb2.Notification) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        kind=KIND_NAME.get(n.kind, "unspecified"),
        title=n.title,
        body=n.body,
        resource=n.resource,
        created_at=from_timestamp(n.created_at),
        read=n.read,
        sequence=n.sequence,
    )


def email_delivery_out(email: notify_pb2.EmailDelivery) -> EmailDeliveryOut:
    return EmailDeliveryOut(
        id=email.id,
        person_id=email.person_id,
        address=email.address,
        notification_id=email.notification_id,
        kind=KIND_NAME.get(email.kind, "unspecified"),
        mode=email.mode,
        state=email.state,
        created_at=from_timestamp(email.created_at),
        due_at=from_timestamp(email.due_at),
        attempts=email.attempts,
        last_error=email.last_error or None,
        sent_at=optional_datetime(email, "sent_at"),
    )
