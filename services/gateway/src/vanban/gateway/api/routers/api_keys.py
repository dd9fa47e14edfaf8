"""API keys for agency systems, managed by the agency's administrators."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from vanban.gateway.adapters.db.api_keys import SqlApiKeys
from vanban.gateway.api.auth import CurrentPrincipal
from vanban.gateway.api.schemas.incoming_documents import ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut
from vanban.gateway.domain import api_keys
from vanban.gateway.domain.api_keys import ApiKey
from vanban.platform.errors import NotFoundError

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])
ADMIN_ROLES = ("admin",)


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=list(key.scopes),
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreatedOut,
    operation_id="createApiKey",
)
async def create_api_key(
    request: Request, principal: CurrentPrincipal, body: ApiKeyIn
) -> ApiKeyCreatedOut:
    """Creates a key; the key itself is in this answer only and cannot be shown again."""
    principal.require_scope("api-keys:manage")
    principal.caller.require_role(*ADMIN_ROLES)
    now = datetime.now(UTC)
    secret, key = api_keys.new_api_key(
        name=body.name,
        scopes=body.scopes,
        created_by=principal.caller.subject,
        now=now,
        expires_at=body.expires_at,
    )
    async with request.app.state.uow() as uow:
        await SqlApiKeys(uow.session).add(key)
        uow.audit(
            actor=principal.caller.subject,
            action="api_key.create",
            resource=f"api-keys/{key.id}",
            after={"name": key.name, "scopes": list(key.scopes)},
        )
        await uow.commit()
    return ApiKeyCreatedOut(**_out(key).model_dump(), key=secret)


@router.get("", response_model=list[ApiKeyOut], operation_id="listApiKeys")
async def list_api_keys(request: Request, principal: CurrentPrincipal) -> list[ApiKeyOut]:
    principal.require_scope("api-keys:manage")
    principal.caller.require_role(*ADMIN_ROLES)
    async with request.app.state.uow() as uow:
        return [_out(key) for key in await SqlApiKeys(uow.session).list()]


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="revokeApiKey",
)
async def revoke_api_key(request: Request, principal: CurrentPrincipal, key_id: UUID) -> Response:
    principal.require_scope("api-keys:manage")
    principal.caller.require_role(*ADMIN_ROLES)
    async with request.app.state.uow() as uow:
        revoked = await SqlApiKeys(uow.session).revoke(str(key_id), at=datetime.now(UTC))
        if not revoked:
            raise NotFoundError("no active API key with this id", reason="API_KEY_NOT_FOUND")
        uow.audit(
            actor=principal.caller.subject, action="api_key.revoke", resource=f"api-keys/{key_id}"
        )
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
