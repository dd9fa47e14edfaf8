"""API keys between the REST API and the gateway's domain."""

from __future__ import annotations

from vanban.gateway.api.schemas.api_keys import ApiKeyOut
from vanban.gateway.domain.api_keys import ApiKey


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=list(key.scopes),
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )
