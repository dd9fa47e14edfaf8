"""The WebhookService: administrators manage the agency's endpoints and see their deliveries."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from vanban.contracts.notify.v1 import notify_pb2 as pb
from vanban.contracts.notify.v1 import notify_pb2_grpc
from vanban.notify.adapters.db.webhooks import SqlWebhooks
from vanban.notify.domain import webhooks as domain
from vanban.notify.domain.paging import (
    decode_position,
    one_page,
    page_size,
)
from vanban.notify.domain.webhooks import Delivery, DeliveryState, UrlGuard, Webhook
from vanban.platform.caller import current_caller
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import NotFoundError


def webhook_to_pb(webhook: Webhook) -> pb.Webhook:
    message = pb.Webhook(
        id=webhook.id,
        url=webhook.url,
        event_types=list(webhook.event_types),
        description=webhook.description,
        state=pb.WEBHOOK_STATE_ENABLED if webhook.enabled else pb.WEBHOOK_STATE_DISABLED,
        disabled_reason=webhook.disabled_reason,
        created_by=webhook.created_by,
        created_at=to_timestamp(webhook.created_at),
        pending=webhook.pending,
    )
    if webhook.failing_since is not None:
        message.failing_since.CopyFrom(to_timestamp(webhook.failing_since))
    return message


def delivery_to_pb(delivery: Delivery) -> pb.WebhookDelivery:
    message = pb.WebhookDelivery(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        state=(
            pb.DELIVERY_STATE_DELIVERED
            if delivery.state is DeliveryState.DELIVERED
            else pb.DELIVERY_STATE_PENDING
        ),
        created_at=to_timestamp(delivery.created_at),
        attempt_count=delivery.attempt_count,
        attempts=[
            pb.DeliveryAttempt(
                at=to_timestamp(a.at),
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
            )
            for a in delivery.attempts
        ],
    )
    if delivery.delivered_at is not None:
        message.delivered_at.CopyFrom(to_timestamp(delivery.delivered_at))
    return message


class WebhookServicer(notify_pb2_grpc.WebhookServiceServicer):
    def __init__(
        self, *, uow_factory: Callable[[], UnitOfWork], guard: UrlGuard, max_webhooks: int
    ) -> None:
        self._uow = uow_factory
        self._guard = guard
        self._max = max_webhooks

    async def CreateWebhook(
        self, request: pb.CreateWebhookRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateWebhookResponse:
        caller = current_caller()
        domain.require_admin(caller)
        url = domain.check_url_shape(request.url)
        event_types = domain.check_event_types(request.event_types)
        description = domain.check_description(request.description)
        # Before anything is stored: where the URL points now.
        await self._guard.check(url)
        webhook = Webhook(
            id=str(uuid.uuid4()),
            url=url,
            event_types=event_types,
            description=description,
            secret=domain.new_secret(),
            enabled=True,
            disabled_reason="",
            created_by=caller.subject,
            created_at=datetime.now(UTC),
        )
        async with self._uow() as uow:
            store = SqlWebhooks(uow.session)
            await store.lock_for_create()
            domain.may_add(await store.all(), limit=self._max)
            await store.add(webhook)
            uow.audit(
                action="webhook.create",
                actor=caller.subject,
                resource=f"webhooks/{webhook.id}",
                after={"url": url, "event_types": list(event_types)},
            )
            await uow.commit()
        return pb.CreateWebhookResponse(webhook=webhook_to_pb(webhook), secret=webhook.secret)

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWebhooksResponse:
        domain.require_admin(current_caller())
        async with self._uow() as uow:
            found = await SqlWebhooks(uow.session).all()
        return pb.ListWebhooksResponse(webhooks=[webhook_to_pb(w) for w in found])

    async def GetWebhook(
        self, request: pb.GetWebhookRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetWebhookResponse:
        domain.require_admin(current_caller())
        async with self._uow() as uow:
            webhook = await SqlWebhooks(uow.session).get(request.id)
        if webhook is None:
            raise domain.not_found(request.id)
        return pb.GetWebhookResponse(webhook=webhook_to_pb(webhook))

    async def UpdateWebhook(
        self, request: pb.UpdateWebhookRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateWebhookResponse:
        caller = current_caller()
        domain.require_admin(caller)
        if request.HasField("enabled") and request.enabled:
            # Where it points may have changed since it was registered: checked again before it
            # is enabled, and before any lock is taken (a lookup takes seconds).
            async with self._uow() as uow:
                current = await SqlWebhooks(uow.session).get(request.id)
            if current is None:
                raise domain.not_found(request.id)
            await self._guard.check(current.url)
        async with self._uow() as uow:
            store = SqlWebhooks(uow.session)
            webhook = await store.get(request.id, for_update=True)
            if webhook is None:
                raise domain.not_found(request.id)
            changed = webhook
            if request.set_event_types:
                changed = dataclasses.replace(
                    changed, event_types=domain.check_event_types(request.event_types)
                )
            if request.HasField("description"):
                changed = dataclasses.replace(
                    changed, description=domain.check_description(request.description)
                )
            if request.HasField("enabled"):
                if request.enabled and not webhook.enabled:
                    changed = dataclasses.replace(
                        changed,
                        enabled=True,
                        disabled_reason="",
                        failing_since=None,
                        consecutive_failures=0,
                        retry_at=None,
                    )
                elif not request.enabled and webhook.enabled:
                    changed = dataclasses.replace(
                        changed,
                        enabled=False,
                        disabled_reason=f"disabled by {caller.subject}",
                    )
            await store.save(changed)
            uow.audit(
                action="webhook.update",
                actor=caller.subject,
                resource=f"webhooks/{webhook.id}",
                before={"enabled": webhook.enabled, "event_types": list(webhook.event_types)},
                after={"enabled": changed.enabled, "event_types": list(changed.event_types)},
            )
            await uow.commit()
        return pb.UpdateWebhookResponse(webhook=webhook_to_pb(changed))

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteWebhookResponse:
        caller = current_caller()
        domain.require_admin(caller)
        async with self._uow() as uow:
            if not await SqlWebhooks(uow.session).remove(request.id):
                raise domain.not_found(request.id)
            uow.audit(
                action="webhook.delete", actor=caller.subject, resource=f"webhooks/{request.id}"
            )
            await uow.commit()
        return pb.DeleteWebhookResponse()

    async def ListWebhookDeliveries(
        self, request: pb.ListWebhookDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWebhookDeliveriesResponse:
        domain.require_admin(current_caller())
        size = page_size(request.page_size)
        before = decode_position(request.page_token)
        async with self._uow() as uow:
            store = SqlWebhooks(uow.session)
            if await store.get(request.webhook_id) is None:
                raise domain.not_found(request.webhook_id)
            found = await store.deliveries(request.webhook_id, before=before, limit=size + 1)
        found, token = one_page(found, size)
        return pb.ListWebhookDeliveriesResponse(
            deliveries=[delivery_to_pb(d) for d in found], next_page_token=token
        )

    async def ReplayWebhookDelivery(
        self, request: pb.ReplayWebhookDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReplayWebhookDeliveryResponse:
        caller = current_caller()
        domain.require_admin(caller)
        async with self._uow() as uow:
            store = SqlWebhooks(uow.session)
            delivery = await store.delivery(request.webhook_id, request.delivery_id)
            if delivery is None:
                raise NotFoundError(
                    f"no delivery {request.delivery_id} of this webhook",
                    reason="DELIVERY_NOT_FOUND",
                )
            await store.replay(delivery.id)
            uow.audit(
                action="webhook.replay",
                actor=caller.subject,
                resource=f"webhooks/{request.webhook_id}/deliveries/{delivery.id}",
            )
            await uow.commit()
            delivery = await store.delivery(request.webhook_id, request.delivery_id)
        assert delivery is not None
        return pb.ReplayWebhookDeliveryResponse(delivery=delivery_to_pb(delivery))
