"""Webhooks between the REST API and the notify contract."""

from __future__ import annotations

from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.api.schemas.webhooks import AttemptOut, DeliveryOut, WebhookOut
from vanban.platform.convert import from_timestamp, optional_datetime

_STATE = {
    notify_pb2.WEBHOOK_STATE_ENABLED: "enabled",
    notify_pb2.WEBHOOK_STATE_DISABLED: "disabled",
}


def webhook_out(webhook: notify_pb2.Webhook) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        url=webhook.url,
        event_types=list(webhook.event_types),
        description=webhook.description,
        state=_STATE.get(webhook.state, "unspecified"),
        disabled_reason=webhook.disabled_reason or None,
        created_by=webhook.created_by,
        created_at=from_timestamp(webhook.created_at),
        failing_since=optional_datetime(webhook, "failing_since"),
        pending=webhook.pending,
    )


def delivery_out(delivery: notify_pb2.WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        state="delivered" if delivery.state == notify_pb2.DELIVERY_STATE_DELIVERED else "pending",
        created_at=from_timestamp(delivery.created_at),
        delivered_at=optional_datetime(delivery, "delivered_at"),
        attempt_count=delivery.attempt_count,
        attempts=[
            AttemptOut(
                at=from_timestamp(a.at),
                status_code=a.status_code,
                error=a.error or None,
                duration_ms=a.duration_ms,
            )
            for a in delivery.attempts
        ],
    )
