"""A grpc.aio server with what every service needs: caller check, error mapping, tracing,
RED metrics, health, reflection and graceful shutdown."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NoReturn

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters

from vanban.platform.caller import (
    CALLER_METADATA_KEY,
    CallerTokenVerifier,
    reset_current_caller,
    set_current_caller,
)
from vanban.platform.errors import DomainError, UnauthenticatedError
from vanban.platform.grpc.client import reset_forwarded_token, set_forwarded_token
from vanban.platform.grpc.status import DETAILS_KEY, grpc_code, to_rich_status

logger = logging.getLogger(__name__)

# Paths any caller may use without a caller token: probes and tooling.
PUBLIC_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class _GuardInterceptor(grpc.aio.ServerInterceptor):
    """Verifies the caller token, maps DomainError to a rich status, and records RED metrics."""

    def __init__(self, verifier: CallerTokenVerifier) -> None:
        self._verifier = verifier
        meter = metrics.get_meter("vanban.platform.grpc")
        self._duration = meter.create_histogram(
            "rpc.server.duration", unit="ms", description="Duration of inbound RPCs"
        )

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(PUBLIC_SERVICES):
            return handler
        metadata = dict(details.invocation_metadata or ())
        value = metadata.get(CALLER_METADATA_KEY)
        token = value if isinstance(value, str) else None  # a key without `-bin` carries text
        method = details.method

        def wrap_unary(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            async def wrapper(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                async with _Guard(self, method, token, context):
                    return await behaviour(request, context)

            return wrapper

        def wrap_stream(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            async def wrapper(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                async with _Guard(self, method, token, context):
                    async for item in behaviour(request, context):
                        yield item

            return wrapper

        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                wrap_unary(handler.unary_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                wrap_unary(handler.stream_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                wrap_stream(handler.unary_stream),
                handler.request_deserializer,
                handler.response_serializer,
            )
        assert handler.stream_stream is not None  # a handler is one of the four kinds
        return grpc.stream_stream_rpc_method_handler(
            wrap_stream(handler.stream_stream),
            handler.request_deserializer,
            handler.response_serializer,
        )


class _Guard:
    def __init__(
        self,
        owner: _GuardInterceptor,
        method: str,
        token: str | None,
        context: grpc.aio.ServicerContext[Any, Any],
    ):
        self._owner, self._method, self._token, self._context = owner, method, token, context

    async def __aenter__(self) -> None:
        self._started = time.perf_counter()
        self._status = "OK"
        if not self._token:
            await self._abort(
                UnauthenticatedError("a caller token is required", reason="CALLER_MISSING")
            )
        try:
            caller = self._owner._verifier.verify(self._token or "")
        except DomainError as exc:
            await self._abort(exc)
        self._caller_token = set_current_caller(caller)
        self._forward_token = set_forwarded_token(self._token)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> bool:
        reset_current_caller(self._caller_token)
        reset_forwarded_token(self._forward_token)
        try:
            if isinstance(exc, DomainError):
                await self._abort(exc)
            elif (
                exc is not None
                and not isinstance(exc, (grpc.aio.AbortError, GeneratorExit))
                and isinstance(exc, Exception)
            ):
                logger.error("unexpected error", extra={"rpc_method": self._method}, exc_info=exc)
                self._status = "INTERNAL"
                trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
                await self._context.abort(
                    grpc.StatusCode.INTERNAL, f"internal error (trace {trace_id})"
                )
            elif exc is not None:
                self._status = "ABORTED_OR_CANCELLED"
        finally:
            elapsed = (time.perf_counter() - self._started) * 1000
            self._owner._duration.record(
                elapsed, {"rpc.method": self._method, "rpc.grpc.status_code": self._status}
            )
        return False

    async def _abort(self, exc: DomainError) -> NoReturn:
        status = to_rich_status(exc)
        self._status = grpc_code(status.code).name
        span = trace.get_current_span()
        span.set_attribute("vanban.error.reason", exc.reason)
        await self._context.abort(
            grpc_code(status.code),
            status.message,
            trailing_metadata=((DETAILS_KEY, status.SerializeToString()),),
        )


MAX_CONNECTION_AGE_MS = 5 * 60 * 1000
MAX_CONNECTION_AGE_GRACE_MS = 15 * 60 * 1000


class GrpcServer:
    """Owns one grpc.aio server; `start()` binds and returns the port actually bound."""

    def __init__(self, *, verifier: CallerTokenVerifier, host: str, port: int) -> None:
        # Health stays untraced: probes are noise, and the tracing interceptor breaks Watch, whose
        # servicer writes with context.write() instead of yielding.
        tracing = aio_server_interceptor(filter_=filters.negate(filters.health_check()))
        self._server = grpc.aio.server(
            interceptors=[tracing, _GuardInterceptor(verifier)],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                # Connections are closed (GOAWAY) after a while, so that callers balancing
                # round robin over a Service's pods resolve its name again and find the pods
                # added since (an autoscaler's); calls in flight get the grace to finish, as
                # long as the longest download.
                ("grpc.max_connection_age_ms", MAX_CONNECTION_AGE_MS),
                ("grpc.max_connection_age_grace_ms", MAX_CONNECTION_AGE_GRACE_MS),
            ],
        )
        self._address = f"{host}:{port}"
        self._health = health.aio.HealthServicer()
        self._service_names: list[str] = [
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        ]
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        self.port = 0

    @property
    def server(self) -> grpc.aio.Server:
        return self._server

    def add_service(
        self, register: Callable[[Any, grpc.aio.Server], None], servicer: Any, full_name: str
    ) -> None:
        register(servicer, self._server)
        self._service_names.append(full_name)

    async def start(self) -> int:
        reflection.enable_server_reflection(
            [*self._service_names, reflection.SERVICE_NAME], self._server
        )
        self.port = self._server.add_insecure_port(self._address)
        await self._server.start()
        await self.set_serving(True)
        logger.info(
            "grpc server listening",
            extra={"address": self._address.rsplit(":", 1)[0] + f":{self.port}"},
        )
        return self.port

    async def set_serving(self, serving: bool, services: Iterable[str] = ()) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *(self._service_names[1:]), *services):
            await self._health.set(name, status)

    async def stop(self, grace: float) -> None:
        """Stops accepting calls, lets in-flight RPCs finish within `grace` seconds."""
        await self.set_serving(False)
        await self._server.stop(grace)
