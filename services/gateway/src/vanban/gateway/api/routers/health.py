"""Liveness and readiness probes, open to anyone."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from vanban.gateway.api.deps import Readiness, Stopping
from vanban.gateway.api.openapi import ANYONE, answers

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="health", responses=answers(*ANYONE))
async def healthz() -> dict[str, str]:
    """Liveness: the gateway process answers."""
    return {"status": "ok"}


_READINESS = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready", "stopping"]},
        "checks": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Each service's health: SERVING, or what it answered instead",
        },
    },
}


@router.get(
    "/readyz",
    operation_id="readiness",
    responses={
        200: {
            "description": "Ready",
            "content": {"application/json": {"schema": _READINESS}},
        },
        # The probe's own answer, not a problem: a service is not serving, or the gateway is
        # shutting down.
        503: {
            "description": "Not ready, or stopping",
            "content": {"application/json": {"schema": _READINESS}},
        },
        **answers(*ANYONE),
    },
)
async def readyz(stopping: Stopping, readiness: Readiness) -> JSONResponse:
    """Readiness: every service the gateway depends on answers its health check as SERVING."""
    if stopping:
        return JSONResponse({"status": "stopping"}, status_code=503)
    checks = await readiness()
    ready = all(status == "SERVING" for status in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
