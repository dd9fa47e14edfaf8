"""Liveness and readiness probes, open to anyone."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from vanban.gateway.api.deps import Readiness, Stopping

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="health")
async def healthz() -> dict[str, str]:
    """Liveness: the gateway process answers."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="readiness")
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
