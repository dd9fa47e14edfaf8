"""The signed-in person's inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.notifications import notification_out
from vanban.gateway.api.deps import Notify, allowed
from vanban.gateway.api.openapi import PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.notifications import NotificationPage

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.get(
    "",
    response_model=NotificationPage,
    operation_id="listNotifications",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_PAGE_TOKEN"),
)
async def list_notifications(
    # API keys have no inbox: no key holds this scope.
    principal: Annotated[Principal, allowed("notifications:read")],
    notify: Notify,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=512)] = "",
) -> NotificationPage:
    """The signed-in person's notifications, newest first."""
    answer = await notify.stub.ListNotifications(
        notify_pb2.ListNotificationsRequest(page_size=page_size, page_token=page_token),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    return NotificationPage(
        items=[notification_out(n) for n in answer.notifications],
        next_page_token=answer.next_page_token or None,
    )
