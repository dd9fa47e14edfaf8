"""Proto <-> domain conversion for the notify contracts."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.notify.v1 import notify_pb2 as pb
from vanban.notify.domain.model import Notification, NotificationKind
from vanban.platform.convert import SECRECY_TO_PB

KIND_TO_PB = {
    kind: pb.NotificationKind.Value(f"NOTIFICATION_KIND_{kind.name}") for kind in NotificationKind
}


def notification_to_pb(notification: Notification) -> pb.Notification:
    created_at = Timestamp()
    created_at.FromDatetime(notification.created_at)
    return pb.Notification(
        id=notification.id,
        recipient_id=notification.recipient_id,
        kind=KIND_TO_PB[notification.kind],
        title=notification.title,
        body=notification.body,
        resource=notification.resource,
        created_at=created_at,
        read=notification.read,
        sequence=notification.sequence,
        secrecy=SECRECY_TO_PB[notification.secrecy],
    )
