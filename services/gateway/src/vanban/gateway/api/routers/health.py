from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/healthz", operation_id="health", tags=["operations"])
async def healthz() -> dict[str, str]:
    """Liveness: the gateway process answers."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="readiness", tags=["operations"])
async def readyz(request: Request) -> JSONResponse:
    """Readiness: every service the gateway depends on answers its health check as SERVING."""
    if request.app.state.stopping:
        return JSONResponse({"status": "stopping"}, status_code=503)
    checks = await request.app.state.upstreams.readiness()
    ready = all(status == "SERVING" for status in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
