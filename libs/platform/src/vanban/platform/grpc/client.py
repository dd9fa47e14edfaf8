"""Outbound gRPC channels: tracing, the caller token passed along on every call, calls spread
over the peer's replicas (round_robin), a peer that comes back found again within a second, and
retries of idempotent calls that met an unavailable peer."""

from __future__ import annotations

import contextvars
import ipaddress
import time
from collections.abc import Callable
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from vanban.platform.caller import CALLER_METADATA_KEY, CallerTokenIssuer
from vanban.platform.grpc.retry import service_config

_forwarded: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "vanban_forwarded_token", default=None
)


def set_forwarded_token(token: str | None) -> contextvars.Token[str | None]:
    return _forwarded.set(token)


def reset_forwarded_token(token: contextvars.Token[str | None]) -> None:
    _forwarded.reset(token)


class ServiceIdentity:
    """Tokens for background work (consumers, schedulers), refreshed before they expire."""

    def __init__(self, issuer: CallerTokenIssuer, *, agency_code: str, service: str) -> None:
        self._issuer, self._agency, self._service = issuer, agency_code, service
        self._token, self._expires = "", 0.0

    def token(self) -> str:
        now = time.time()
        if now > self._expires - 60:
            self._token = self._issuer.service_token(self._agency, self._service)
            self._expires = now + 240
        return self._token


TokenSource = Callable[[], str | None]


class _CallerMetadata:
    """Sends the token of the call being served, or else the fallback (service identity)."""

    def __init__(self, fallback: TokenSource | None) -> None:
        self._fallback = fallback

    def details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        token = _forwarded.get() or (self._fallback() if self._fallback else None)
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if token and CALLER_METADATA_KEY not in metadata.keys():
            metadata.add(CALLER_METADATA_KEY, token)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


# grpc.aio files an interceptor under the first call type it implements only, so each call type
# gets its own class (one class implementing all four would touch unary-unary calls alone).
class _UnaryUnary(_CallerMetadata, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self.details(details), request)


class _UnaryStream(_CallerMetadata, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self.details(details), request)


class _StreamUnary(_CallerMetadata, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self.details(details), request_iterator)


class _StreamStream(_CallerMetadata, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self.details(details), request_iterator)


# After a failed connection gRPC waits before the next attempt, 1 s growing to 120 s by default:
# a peer that restarted would stay unreachable that long after a call found it down. At most
# 1 s here, so a restarted replica (or the only one) is found again within about a second.
RECONNECT_BACKOFF_MS = {"initial": 200, "max": 1000}


def balanced(target: str) -> bool:
    """Whether `target` may name several replicas of a peer, whose calls are then spread over
    them (round_robin): several addresses (`ipv4:127.0.0.1:5001,127.0.0.1:5002`, as `vanban up
    --replicas` gives), or a name the resolver may answer with several addresses (a Kubernetes
    headless service, `dns:///name.namespace.svc.cluster.local:50051`). One IP address keeps
    pick_first, as before: an idle connection to it is made again by the next call, at once."""
    if target.startswith("unix:"):
        return False
    if target.startswith(("ipv4:", "ipv6:")):
        return "," in target
    host = target.removeprefix("dns:").lstrip("/").rsplit(":", 1)[0].strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: it may stand for several replicas
    return False


def open_channel(address: str, *, fallback_token: TokenSource | None = None) -> grpc.aio.Channel:
    """A channel to a peer service. Tracing comes first so the caller metadata rides inside the span.

    `address` is any gRPC target: `host:port`, several replicas' `ipv4:host:port,host:port`, or a
    name resolving to several (`dns:///name:port`); calls go round-robin over the replicas.
    """
    return grpc.aio.insecure_channel(
        address,
        interceptors=[
            *aio_client_interceptors(),
            *(
                kind(fallback_token)
                for kind in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)
            ),
        ],
        options=[
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ("grpc.max_send_message_length", 8 * 1024 * 1024),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MS["initial"]),
            ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MS["max"]),
            ("grpc.enable_retries", 1),
            ("grpc.service_config", service_config(round_robin=balanced(address))),
        ],
    )
