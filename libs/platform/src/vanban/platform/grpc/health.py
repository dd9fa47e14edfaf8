"""The standard health service's calls (`grpc.health.v1.Health`), typed.

grpcio-health-checking's `HealthStub` sets its methods up at run time, and its stubs (typeshed's)
declare none of them: a call through it is untyped. These make the same calls on the channel,
with the request and answer types the type checker knows.
"""

from __future__ import annotations

from typing import overload

import grpc
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"


@overload
def health_check(
    channel: grpc.aio.Channel,
) -> grpc.aio.UnaryUnaryMultiCallable[HealthCheckRequest, HealthCheckResponse]: ...


@overload
def health_check(
    channel: grpc.Channel,
) -> grpc.UnaryUnaryMultiCallable[HealthCheckRequest, HealthCheckResponse]: ...


def health_check(
    channel: grpc.aio.Channel | grpc.Channel,
) -> (
    grpc.aio.UnaryUnaryMultiCallable[HealthCheckRequest, HealthCheckResponse]
    | grpc.UnaryUnaryMultiCallable[HealthCheckRequest, HealthCheckResponse]
):
    """`Health/Check` on this channel (a blocking one, or an asyncio one)."""
    return channel.unary_unary(
        CHECK,
        request_serializer=HealthCheckRequest.SerializeToString,
        response_deserializer=HealthCheckResponse.FromString,
    )


def health_watch(
    channel: grpc.aio.Channel,
) -> grpc.aio.UnaryStreamMultiCallable[HealthCheckRequest, HealthCheckResponse]:
    """`Health/Watch` on this asyncio channel: the status now, then each change."""
    return channel.unary_stream(
        WATCH,
        request_serializer=HealthCheckRequest.SerializeToString,
        response_deserializer=HealthCheckResponse.FromString,
    )
