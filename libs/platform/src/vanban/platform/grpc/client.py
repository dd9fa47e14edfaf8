"""Outbound gRPC channels: tracing, the caller token passed along on every call, and retries of
idempotent calls that met an unavailable peer."""

from __future__ import annotations

import contextvars
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


def open_channel(address: str, *, fallback_token: TokenSource | None = None) -> grpc.aio.Channel:
    """A channel to a peer service. Tracing comes first so the caller metadata rides inside the span."""
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
            ("grpc.enable_retries", 1),
            ("grpc.service_config", service_config()),
        ],
    )
