"""API keys for agency systems, managed by the agency's administrators."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.api_keys import api_key_out
from vanban.gateway.api.deps import DbTransactions, allowed, role
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, answers
from vanban.gateway.api.schemas.api_keys import ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut
from vanban.gateway.domain import api_keys

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])

# Administrators signed in as people: no API key holds the scope to manage keys.
KeyAdmin = Annotated[Principal, allowed("api-keys:manage", role("admin"))]
REFUSALS = (*SCOPED, "ROLE_REQUIRED")

_NEW_KEY = {
    "portal": {
        "summary": "A key for the province's portal",
        "value": {
            "name": "Cổng dịch vụ công tỉnh",
            "scopes": ["incoming:register", "incoming:read"],
            "expires_at": "2027-12-31T17:00:00Z",
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreatedOut,
    operation_id="createApiKey",
    responses=answers(*REFUSALS, *BODY, "INVALID_API_KEY"),
)
async def create_api_key(
    principal: KeyAdmin,
    body: Annotated[ApiKeyIn, Body(openapi_examples=_NEW_KEY)],
    transactions: DbTransactions,
) -> ApiKeyCreatedOut:
    """Creates a key; the key itself is in this answer only and cannot be shown again."""
    secret, key = await api_keys.create(
        transactions=transactions,
        name=body.name,
        scopes=body.scopes,
        created_by=principal.caller.subject,
        now=datetime.now(UTC),
        expires_at=body.expires_at,
    )
    return ApiKeyCreatedOut(**api_key_out(key).model_dump(), key=secret)


@router.get(
    "",
    response_model=list[ApiKeyOut],
    operation_id="listApiKeys",
    responses=answers(*REFUSALS),
)
async def list_api_keys(principal: KeyAdmin, transactions: DbTransactions) -> list[ApiKeyOut]:
    return [api_key_out(key) for key in await api_keys.list_all(transactions=transactions)]


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="revokeApiKey",
    responses=answers(*REFUSALS, *PARAMETERS, "API_KEY_NOT_FOUND"),
)
async def revoke_api_key(
    principal: KeyAdmin, key_id: UUID, transactions: DbTransactions
) -> Response:
    await api_keys.revoke(
        transactions=transactions,
        key_id=str(key_id),
        revoked_by=principal.caller.subject,
        now=datetime.now(UTC),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
