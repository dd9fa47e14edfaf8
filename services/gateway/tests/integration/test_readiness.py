"""`/readyz` is open to anyone: a flood of it must not become a flood of health checks on every
service behind the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from vanban.contracts.archive.v1 import archive_pb2_grpc, records_pb2_grpc
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2_grpc
from vanban.contracts.exchange.v1 import exchange_pb2_grpc
from vanban.contracts.notify.v1 import notify_pb2_grpc
from vanban.contracts.signing.v1 import signing_pb2_grpc
from vanban.contracts.workflow.v1 import workflow_pb2_grpc
from vanban.gateway.adapters.grpc.upstreams import READINESS_REUSE_SECONDS, Upstreams
from vanban.platform.grpc.health import health_check


class CountingHealth(health.aio.HealthServicer):
    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthCheckResponse:
        self.asked += 1
        return await super().Check(request, context)


@pytest.fixture
async def peer() -> AsyncIterator[tuple[CountingHealth, grpc.aio.Channel]]:
    server = grpc.aio.server()
    servicer = CountingHealth()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield servicer, channel
    await channel.close()
    await server.stop(None)


async def test_many_readiness_probes_at_once_ask_each_peer_once(
    peer: tuple[CountingHealth, grpc.aio.Channel],
) -> None:
    servicer, channel = peer
    upstreams = Upstreams(
        # Stubs on the same channel: only readiness is asked here.
        directory=directory_pb2_grpc.DirectoryServiceStub(channel),
        documents=documents_pb2_grpc.DocumentRegistryServiceStub(channel),
        archive=archive_pb2_grpc.ArchiveServiceStub(channel),
        records=records_pb2_grpc.RecordsServiceStub(channel),
        notify=notify_pb2_grpc.NotifyServiceStub(channel),
        webhooks=notify_pb2_grpc.WebhookServiceStub(channel),
        workflow=workflow_pb2_grpc.WorkflowServiceStub(channel),
        signing=signing_pb2_grpc.SigningServiceStub(channel),
        exchange=exchange_pb2_grpc.ExchangeServiceStub(channel),
        health={"directory": health_check(channel)},
        service_metadata=lambda: (),
        timeout=2,
    )

    answers = await asyncio.gather(*(upstreams.readiness() for _ in range(100)))

    assert answers == [{"directory": "SERVING"}] * 100
    assert servicer.asked == 1
    await asyncio.sleep(READINESS_REUSE_SECONDS + 0.1)
    await servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    # Once the answer is a second old, the next probe asks again and sees the change.
    assert await upstreams.readiness() == {"directory": "NOT_SERVING"}
    assert servicer.asked == 2
