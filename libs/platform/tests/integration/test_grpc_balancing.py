"""A peer with several replicas: a channel spreads its calls over all of them (round_robin),
keeps going on the others when one stops and finds them again when they come back; a target of
one address works as before, reconnected by the first call after its peer restarted."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import grpc
import pytest

from vanban.contracts.documents.v1 import documents_pb2, documents_pb2_grpc
from vanban.platform.grpc.client import open_channel

CALLS = 20


class Replica(documents_pb2_grpc.DocumentRegistryServiceServicer):
    """Counts the reads it answers, in a counter shared by every replica."""

    def __init__(self, name: str, served: Counter[str]) -> None:
        self.name, self.served = name, served

    async def GetIncomingDocument(
        self, request: documents_pb2.GetIncomingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> documents_pb2.GetIncomingDocumentResponse:
        self.served[self.name] += 1
        return documents_pb2.GetIncomingDocumentResponse(
            document=documents_pb2.IncomingDocument(id=self.name)
        )


async def serve(name: str, served: Counter[str], port: int = 0) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    # Only the read is used here; the other methods answer UNIMPLEMENTED.
    servicer = Replica(name, served)  # type: ignore[abstract]
    documents_pb2_grpc.add_DocumentRegistryServiceServicer_to_server(servicer, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server, bound


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[list[grpc.aio.Server], list[int], Counter[str]]]:
    served: Counter[str] = Counter()
    servers, ports = [], []
    for name in ("first", "second"):
        server, port = await serve(name, served)
        servers.append(server)
        ports.append(port)
    try:
        yield servers, ports, served
    finally:
        for server in servers:
            await server.stop(None)


async def read(channel: grpc.aio.Channel, calls: int = CALLS) -> list[str]:
    stub = documents_pb2_grpc.DocumentRegistryServiceStub(channel)
    answers = []
    for _ in range(calls):
        answer = await stub.GetIncomingDocument(
            documents_pb2.GetIncomingDocumentRequest(id="d"), timeout=5
        )
        answers.append(answer.document.id)
    return answers


async def test_calls_to_a_target_of_two_replicas_reach_both_in_turn(
    replicas: tuple[list[grpc.aio.Server], list[int], Counter[str]],
) -> None:
    _servers, ports, served = replicas
    channel = open_channel(f"ipv4:127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}")
    try:
        # The channel connects to both; once both are ready the calls alternate.
        await read(channel, 2)
        served.clear()
        await read(channel)
    finally:
        await channel.close()

    assert served == {"first": CALLS // 2, "second": CALLS // 2}


async def test_when_one_replica_stops_the_calls_go_to_the_other(
    replicas: tuple[list[grpc.aio.Server], list[int], Counter[str]],
) -> None:
    servers, ports, served = replicas
    channel = open_channel(f"ipv4:127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}")
    try:
        await read(channel, 2)
        await servers[0].stop(None)
        served.clear()
        answers = await read(channel)
    finally:
        await channel.close()

    assert answers == ["second"] * CALLS
    assert served == {"second": CALLS}


@pytest.mark.parametrize("target", ["127.0.0.1:{port}", "dns:///localhost:{port}"])
async def test_a_target_of_one_address_gets_every_call(
    replicas: tuple[list[grpc.aio.Server], list[int], Counter[str]], target: str
) -> None:
    _servers, ports, served = replicas
    channel = open_channel(target.format(port=ports[1]))
    try:
        answers = await read(channel)
    finally:
        await channel.close()

    assert answers == ["second"] * CALLS
    assert served == {"second": CALLS}


async def first_success(channel: grpc.aio.Channel) -> tuple[float, int]:
    """Seconds until a read goes through, and how many failed before."""
    stub = documents_pb2_grpc.DocumentRegistryServiceStub(channel)
    started, failed = time.monotonic(), 0
    while True:
        try:
            await stub.GetIncomingDocument(
                documents_pb2.GetIncomingDocumentRequest(id="d"), timeout=2
            )
            return time.monotonic() - started, failed
        except grpc.aio.AioRpcError:
            failed += 1
            await asyncio.sleep(0.05)


async def test_a_peer_of_one_address_restarted_is_reached_by_the_next_call(
    replicas: tuple[list[grpc.aio.Server], list[int], Counter[str]],
) -> None:
    servers, ports, served = replicas
    channel = open_channel(f"127.0.0.1:{ports[0]}")
    try:
        await read(channel, 1)
        await servers[0].stop(None)
        # Down a while, nobody calling (a peer restarted by its operator).
        await asyncio.sleep(3)
        servers[0], _ = await serve("first", served, ports[0])
        _, failed = await first_success(channel)
    finally:
        await channel.close()

    assert failed == 0


async def test_replicas_that_come_back_are_found_again_within_a_second(
    replicas: tuple[list[grpc.aio.Server], list[int], Counter[str]],
) -> None:
    servers, ports, served = replicas
    channel = open_channel(f"ipv4:127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}")
    try:
        await read(channel, 2)
        for server in servers:
            await server.stop(None)
        # Down a while, calls failing all along (the reconnect backoff grows meanwhile).
        stub = documents_pb2_grpc.DocumentRegistryServiceStub(channel)
        down_until = time.monotonic() + 6
        while time.monotonic() < down_until:
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetIncomingDocument(
                    documents_pb2.GetIncomingDocumentRequest(id="d"), timeout=1
                )
            await asyncio.sleep(0.2)
        for index, name in enumerate(("first", "second")):
            servers[index], _ = await serve(name, served, ports[index])
        waited, _ = await first_success(channel)
    finally:
        await channel.close()

    assert waited < 1.5
