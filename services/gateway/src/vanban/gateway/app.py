"""The one wiring place of the gateway: FastAPI app, upstream channels, HTTP and gRPC servers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import ASGIApp

from vanban.gateway.adapters.db.revocations import RevocationFollower
from vanban.gateway.adapters.db.sessions import SqlSessionStore
from vanban.gateway.adapters.db.tables import platform_tables
from vanban.gateway.adapters.events.directory import person_sessions_consumer
from vanban.gateway.adapters.events.notices import NoticeHub
from vanban.gateway.adapters.grpc.delegations import DelegationCache
from vanban.gateway.adapters.grpc.directory import DirectoryAccounts
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.gateway.adapters.oidc import OidcVerifier
from vanban.gateway.adapters.transaction import transactions
from vanban.gateway.api import openapi, problems
from vanban.gateway.api.admission import (
    AdmissionMiddleware,
    RouteTable,
    SignInFloodGuard,
    route_policies,
    without_trace_headers,
)
from vanban.gateway.api.auth import AccessTokens, Authenticator, load_or_create_access_key
from vanban.gateway.api.deps import SCOPES
from vanban.gateway.api.routers import (
    agency,
    api_keys,
    approvals,
    assignments,
    calendar,
    delegations,
    document_search,
    email_deliveries,
    exchange,
    health,
    incoming_documents,
    me,
    notifications,
    outgoing_documents,
    people,
    records,
    registers,
    sessions,
    signing,
    stats,
    tasks,
    units,
    webhooks,
    work_dossiers,
)
from vanban.gateway.api.routers import problems as problem_pages
from vanban.gateway.api.session_tokens import PersonTokens
from vanban.gateway.domain.revocations import Revocations
from vanban.gateway.domain.sessions import SignInPolicy
from vanban.gateway.domain.sign_in import SignInService
from vanban.gateway.domain.throttle import PasswordCheckGate
from vanban.gateway.settings import GatewaySettings
from vanban.platform.caller import CallerTokenIssuer
from vanban.platform.runtime import settle_memory
from vanban.platform.service import ServiceHost

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# How often aged-out sign-in failures are dropped (at least once per window).
SWEEP_SECONDS = 60.0


def create_app(settings: GatewaySettings, host: ServiceHost) -> FastAPI:
    app = FastAPI(
        title="Vanban API",
        version="1.0.0",
        description="Official documents of the agency: registration, routing, signing, archive.",
    )
    app.state.settings = settings
    app.state.stopping = False
    app.state.revocations = Revocations(keep=revocation_horizon(settings))
    app.state.access_tokens = AccessTokens(
        load_or_create_access_key(settings.keys_dir),
        agency_code=settings.agency_code,
        ttl_seconds=settings.access_token_ttl_seconds,
        revocations=app.state.revocations,
    )
    app.state.caller_tokens = CallerTokenIssuer.from_keys_dir(settings.keys_dir)
    app.state.notice_hub = NoticeHub(
        max_streams=settings.notification_streams_max,
        max_streams_per_person=settings.notification_streams_per_person,
    )
    app.state.upstreams = Upstreams.from_host(host, timeout=settings.upstream_timeout_seconds)
    app.state.delegations = DelegationCache(
        app.state.upstreams, ttl=settings.delegation_cache_seconds
    )
    app.state.oidc = (
        OidcVerifier(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience or "",
            jwks_url=settings.oidc_jwks_url or "",
            username_claim=settings.oidc_username_claim,
            jwks_refresh_seconds=settings.oidc_jwks_refresh_seconds,
            allowed_clients=settings.oidc_allowed_clients,
            require_at_jwt=settings.oidc_require_at_jwt,
        )
        if settings.oidc_issuer
        else None
    )
    app.state.password_checks = PasswordCheckGate(
        total=settings.sign_in_max_in_flight,
        per_address=settings.sign_in_max_in_flight_per_address,
        waiting_per_address=settings.sign_in_max_waiting_per_address,
        wait_seconds=settings.sign_in_queue_seconds,
    )
    app.state.transactions = transactions(host.uow)
    app.state.sign_in = SignInService(
        transactions=app.state.transactions,
        directory=DirectoryAccounts(app.state.upstreams),
        tokens=PersonTokens(app.state.access_tokens, agency_code=settings.agency_code),
        password_checks=app.state.password_checks,
        policy=SignInPolicy(
            window=timedelta(seconds=settings.lockout_window_seconds),
            max_failures=settings.lockout_max_failures,
            account_max_failures=settings.sign_in_account_max_failures,
            address_max_failures=settings.sign_in_address_max_failures,
            known_for=timedelta(days=settings.sign_in_known_address_days),
        ),
        revocations=app.state.revocations,
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    problems.install(app)
    for router in (
        health.router,
        sessions.router,
        me.router,
        api_keys.router,
        incoming_documents.router,
        outgoing_documents.router,
        approvals.router,
        signing.router,
        exchange.router,
        document_search.router,
        notifications.router,
        webhooks.router,
        email_deliveries.router,
        agency.router,
        units.router,
        people.router,
        delegations.router,
        assignments.router,
        tasks.router,
        calendar.router,
        stats.router,
        work_dossiers.router,
        registers.router,
        records.router,
        problem_pages.router,
    ):
        app.include_router(router)
    openapi.install(app, scopes=SCOPES)
    app.state.routes = RouteTable(app, route_policies(settings))
    app.add_middleware(
        AdmissionMiddleware,
        routes=app.state.routes,
        authenticate=Authenticator(
            agency_code=settings.agency_code,
            access_tokens=app.state.access_tokens,
            caller_tokens=app.state.caller_tokens,
            uow=host.uow,
            oidc=app.state.oidc,
            upstreams=app.state.upstreams,
            delegations=app.state.delegations,
            revocations=app.state.revocations,
        ),
        trusted_hosts=settings.trusted_hosts,
        trusted_proxies=settings.trusted_proxies,
    )
    # Only the probes' own paths go untraced (the setting is a regular expression searched in
    # the whole URL: a bare "healthz" would also match any URL that contains it).
    FastAPIInstrumentor.instrument_app(app, excluded_urls=r"^https?://[^/]+/(healthz|readyz)$")
    return app


def served(app: FastAPI, settings: GatewaySettings) -> ASGIApp:
    """What the HTTP server runs: the app behind the sign-in flood guard, and before both, the
    caller's trace headers dropped (every request starts a trace of the platform's own)."""
    return without_trace_headers(
        SignInFloodGuard(
            app,
            paths=app.state.routes.password_check_paths,
            password_checks=app.state.password_checks,
            trusted_proxies=settings.trusted_proxies,
        )
    )


def sign_in_sweep(
    host: ServiceHost, settings: GatewaySettings
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """Drops sign-in failures once they age out of the window — of names that do not exist
    too, which nobody tries again —, addresses unused for sign-in past their time, and the audit
    entries of failed sign-ins past theirs."""

    interval = min(SWEEP_SECONDS, float(settings.lockout_window_seconds))

    async def sweep(stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = datetime.now(UTC)
            try:
                async with host.uow() as uow:
                    await SqlSessionStore(uow.session).purge(
                        failed_before=now - timedelta(seconds=settings.lockout_window_seconds),
                        known_before=now - timedelta(days=settings.sign_in_known_address_days),
                        audited_before=now - timedelta(days=settings.sign_in_failure_audit_days),
                    )
                    await uow.commit()
            except Exception:
                # The next round tries again; a sweep that fails must not stop the gateway.
                logger.exception("sign-in sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return sweep


class _Server(uvicorn.Server):
    """Signals belong to the service host, which stops this server in its own order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def revocation_horizon(settings: GatewaySettings) -> timedelta:
    """How long an ended session must be remembered: as long as one of its access tokens
    could live, plus the clock leeway between replicas."""
    return timedelta(seconds=settings.access_token_ttl_seconds + 60)


def build(settings: GatewaySettings) -> tuple[ServiceHost, FastAPI]:
    host = ServiceHost(settings, service="gateway", tables=platform_tables, migrations=MIGRATIONS)
    app = create_app(settings, host)
    # The directory's changes of people end their sessions (one replica records each) ...
    host.add_consumer(
        lambda js: person_sessions_consumer(
            js=js, uow_factory=host.uow, max_deliver=settings.consumer_max_deliver
        )
    )
    # ... and every replica follows the shared log, from before it answers its first request.
    follower = RevocationFollower(
        revocations=app.state.revocations,
        uow_factory=host.uow,
        keep=revocation_horizon(settings),
        poll_seconds=settings.revocation_poll_seconds,
    )
    host.on_start(follower.poll_once)
    # New notices are pushed to the streams held here; after NATS was away, each catches up.
    hub: NoticeHub = app.state.notice_hub
    host.on_start(lambda: hub.start(host.nc))
    host.on_nats_reconnect(hub.catch_up_all)
    host.add_background("session-revocations", follower.run)
    return host, app


async def main(settings: GatewaySettings, stop: asyncio.Event) -> None:
    host, app = build(settings)
    await host.start()
    config = uvicorn.Config(
        served(app, settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        # What the gateway's dependencies provide; no fallback to another parser.
        http="httptools",
        ws="none",
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
        # Open notification streams end first (their clients reconnect elsewhere), or the
        # server would wait for them until its grace ran out.
        await app.state.notice_hub.stop()
        server.should_exit = True
        await http

    host.on_shutdown(stop_http)
    host.add_background("sign-in-sweep", sign_in_sweep(host, settings))
    settle_memory()
    await host.serve(stop)
