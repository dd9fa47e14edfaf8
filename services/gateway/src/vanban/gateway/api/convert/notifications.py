"""Notifications between the REST API and the notify contract."""

from __future__ import annotations

from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.api.convert.common import enum_names
from vanban.gateway.api.schemas.notifications import NotificationOut
from vanban.platform.convert import from_timestamp

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
