"""The agency's e-mails of notices, for its administrators: what the relay refused, and why."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.notifications import email_delivery_out
from vanban.gateway.api.deps import Notify, allowed, role
from vanban.gateway.api.openapi import PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.notifications import EmailDeliveryPage

router = APIRouter(prefix="/v1/email-deliveries", tags=["notifications"])

MailAdmin = Annotated[Principal, allowed("notifications:manage", role("admin"))]


@router.get(
    "",
    response_model=EmailDeliveryPage,
    operation_id="listEmailDeliveries",
    responses=answers(*SCOPED, "ROLE_REQUIRED", *PARAMETERS, *UPSTREAM, "INVALID_PAGE_TOKEN"),
)
async def list_email_deliveries(
    principal: MailAdmin,
    notify: Notify,
    state: Literal["pending", "sent", "failed", "cancelled"] | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=512)] = "",
) -> EmailDeliveryPage:
    """E-mails of notices, newest first; `state=failed` lists those given up on, with the
    relay's words (an address it refused, a relay that never answered)."""
    answer = await notify.stub.ListEmailDeliveries(
        notify_pb2.ListEmailDeliveriesRequest(
            state=state or "", page_size=page_size, page_token=page_token
        ),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    return EmailDeliveryPage(
        items=[email_delivery_out(e) for e in answer.deliveries],
        next_page_token=answer.next_page_token or None,
    )
