"""The one wiring place of the gateway: FastAPI app, upstream channels, HTTP and gRPC servers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from vanban.gateway import problems
from vanban.gateway.adapters.db.tables import metadata, platform_tables
from vanban.gateway.api import (
    admin_routes,
    api_key_routes,
    auth_routes,
    health,
    routes,
    workflow_routes,
)
from vanban.gateway.auth import AccessTokens, load_or_create_access_key
from vanban.gateway.clients import Upstreams
from vanban.gateway.delegations import DelegationCache
from vanban.gateway.oidc import OidcVerifier
from vanban.gateway.settings import GatewaySettings
from vanban.gateway.upload import MULTIPART_OVERHEAD, BodyLimitMiddleware
from vanban.platform.caller import CallerTokenIssuer
from vanban.platform.service import ServiceHost

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: GatewaySettings, host: ServiceHost) -> FastAPI:
    app = FastAPI(
        title="Vanban API",
        version="1.0.0",
        description="Official documents of the agency: registration, routing, signing, archive.",
    )
    app.state.settings = settings
    app.state.stopping = False
    app.state.access_tokens = AccessTokens(
        load_or_create_access_key(settings.keys_dir),
        agency_code=settings.agency_code,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    app.state.caller_tokens = CallerTokenIssuer.from_keys_dir(settings.keys_dir)
    app.state.upstreams = Upstreams.from_host(host, timeout=settings.upstream_timeout_seconds)
    app.state.uow = host.uow
    app.state.delegations = DelegationCache(
        app.state.upstreams, ttl=settings.delegation_cache_seconds
    )
    app.state.oidc = (
        OidcVerifier(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience or "",
            jwks_url=settings.oidc_jwks_url or "",
            username_claim=settings.oidc_username_claim,
        )
        if settings.oidc_issuer
        else None
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(auth_routes.router)
    app.include_router(api_key_routes.router)
    app.include_router(routes.router)
    app.include_router(admin_routes.router)
    app.include_router(workflow_routes.router)
    app.add_middleware(
        BodyLimitMiddleware, max_body_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD
    )
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    return app


class _Server(uvicorn.Server):
    """Signals belong to the service host, which stops this server in its own order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build(settings: GatewaySettings) -> tuple[ServiceHost, FastAPI]:
    host = ServiceHost(
        settings,
        service="gateway",
        metadata=metadata,
        tables=platform_tables,
        migrations=MIGRATIONS,
        database_url=settings.database_url,
        uses_nats=False,
    )
    return host, create_app(settings, host)


async def main(settings: GatewaySettings, stop: asyncio.Event) -> None:
    host, app = build(settings)
    await host.start()
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace),
        proxy_headers=False,
        # asyncio leaks a request's context into the next request on a keep-alive connection
        # once a body exceeds 64 KiB (python/cpython#140947), which put every later request into
        # the first one's trace. A fresh context per request keeps traces apart.
        reset_contextvars=True,
    )
    server = _Server(config)
    http = asyncio.ensure_future(server.serve())

    async def stop_http() -> None:
        app.state.stopping = True
        server.should_exit = True
        await http

    host.on_shutdown(stop_http)
    await host.serve(stop)
