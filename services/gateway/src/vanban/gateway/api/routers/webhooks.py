"""Webhooks of the agency's own systems, managed by its administrators (docs/webhooks.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status

from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.webhooks import delivery_out, webhook_out
from vanban.gateway.api.deps import Webhooks, allowed, role
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.webhooks import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

# Administrators signed in as people: no API key holds the scope.
WebhookAdmin = Annotated[Principal, allowed("notifications:manage", role("admin"))]
REFUSALS = (*SCOPED, "ROLE_REQUIRED", *UPSTREAM)
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-fA-F-]+$")]

_NEW = {
    "registry": {
        "summary": "The agency's document registry system",
        "value": {
            "url": "https://qlvb.example.gov.vn/hooks/vanban",
            "event_types": ["incoming_document.registered"],
            "description": "Hệ thống quản lý văn bản của Văn phòng",
        },
    }
}
_PATCH = {
    "enable": {"summary": "Enable it again after it was disabled", "value": {"enabled": True}},
    "disable": {"summary": "Disable it", "value": {"enabled": False}},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreatedOut,
    operation_id="createWebhook",
    responses=answers(
        *REFUSALS,
        *BODY,
        "INVALID_WEBHOOK_URL",
        "WEBHOOK_URL_NOT_ALLOWED",
        "UNKNOWN_EVENT_TYPE",
        "TOO_MANY_WEBHOOKS",
    ),
)
async def create_webhook(
    principal: WebhookAdmin,
    webhooks: Webhooks,
    body: Annotated[WebhookIn, Body(openapi_examples=_NEW)],
) -> WebhookCreatedOut:
    """Registers an endpoint; its signing secret is in this answer only."""
    answer = await webhooks.stub.CreateWebhook(
        notify_pb2.CreateWebhookRequest(
            url=body.url, event_types=list(body.event_types), description=body.description
        ),
        metadata=principal.metadata,
        timeout=webhooks.timeout,
    )
    return WebhookCreatedOut(**webhook_out(answer.webhook).model_dump(), secret=answer.secret)


@router.get(
    "", response_model=list[WebhookOut], operation_id="listWebhooks", responses=answers(*REFUSALS)
)
async def list_webhooks(principal: WebhookAdmin, webhooks: Webhooks) -> list[WebhookOut]:
    answer = await webhooks.stub.ListWebhooks(
        notify_pb2.ListWebhooksRequest(), metadata=principal.metadata, timeout=webhooks.timeout
    )
    return [webhook_out(w) for w in answer.webhooks]


@router.get(
    "/{webhook_id}",
    response_model=WebhookOut,
    operation_id="getWebhook",
    responses=answers(*REFUSALS, *PARAMETERS, "WEBHOOK_NOT_FOUND"),
)
async def get_webhook(principal: WebhookAdmin, webhooks: Webhooks, webhook_id: Id) -> WebhookOut:
    answer = await webhooks.stub.GetWebhook(
        notify_pb2.GetWebhookRequest(id=webhook_id),
        metadata=principal.metadata,
        timeout=webhooks.timeout,
    )
    return webhook_out(answer.webhook)


@router.patch(
    "/{webhook_id}",
    response_model=WebhookOut,
    operation_id="updateWebhook",
    responses=answers(
        *REFUSALS, *BODY, "WEBHOOK_NOT_FOUND", "UNKNOWN_EVENT_TYPE", "WEBHOOK_URL_NOT_ALLOWED"
    ),
)
async def update_webhook(
    principal: WebhookAdmin,
    webhooks: Webhooks,
    webhook_id: Id,
    body: Annotated[WebhookPatch, Body(openapi_examples=_PATCH)],
) -> WebhookOut:
    """Enables (clearing why it was disabled) or disables an endpoint, or changes what it hears."""
    request = notify_pb2.UpdateWebhookRequest(id=webhook_id)
    if body.enabled is not None:
        request.enabled = body.enabled
    if body.event_types is not None:
        request.event_types.extend(body.event_types)
        request.set_event_types = True
    if body.description is not None:
        request.description = body.description
    answer = await webhooks.stub.UpdateWebhook(
        request, metadata=principal.metadata, timeout=webhooks.timeout
    )
    return webhook_out(answer.webhook)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="deleteWebhook",
    responses=answers(*REFUSALS, *PARAMETERS, "WEBHOOK_NOT_FOUND"),
)
async def delete_webhook(principal: WebhookAdmin, webhooks: Webhooks, webhook_id: Id) -> Response:
    """Removes an endpoint and its deliveries."""
    await webhooks.stub.DeleteWebhook(
        notify_pb2.DeleteWebhookRequest(id=webhook_id),
        metadata=principal.metadata,
        timeout=webhooks.timeout,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    operation_id="listWebhookDeliveries",
    responses=answers(*REFUSALS, *PARAMETERS, "WEBHOOK_NOT_FOUND", "INVALID_PAGE_TOKEN"),
)
async def list_deliveries(
    principal: WebhookAdmin,
    webhooks: Webhooks,
    webhook_id: Id,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=512)] = "",
) -> DeliveryPage:
    """The endpoint's deliveries, newest first, each with its attempts."""
    answer = await webhooks.stub.ListWebhookDeliveries(
        notify_pb2.ListWebhookDeliveriesRequest(
            webhook_id=webhook_id, page_size=page_size, page_token=page_token
        ),
        metadata=principal.metadata,
        timeout=webhooks.timeout,
    )
    return DeliveryPage(
        items=[delivery_out(d) for d in answer.deliveries],
        next_page_token=answer.next_page_token or None,
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    operation_id="replayWebhookDelivery",
    responses=answers(*REFUSALS, *PARAMETERS, "DELIVERY_NOT_FOUND"),
)
async def replay_delivery(
    principal: WebhookAdmin, webhooks: Webhooks, webhook_id: Id, delivery_id: Id
) -> DeliveryOut:
    """Sends a delivery again, under the same event id, once the endpoint is enabled."""
    answer = await webhooks.stub.ReplayWebhookDelivery(
        notify_pb2.ReplayWebhookDeliveryRequest(webhook_id=webhook_id, delivery_id=delivery_id),
        metadata=principal.metadata,
        timeout=webhooks.timeout,
    )
    return delivery_out(answer.delivery)
