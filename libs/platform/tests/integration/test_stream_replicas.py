"""Stream copies on a real three-server NATS JetStream cluster (as the chart runs it on
Kubernetes): a service keeps its stream and the dead-letter stream at the agency's
VANBAN_NATS_STREAM_REPLICAS, and a consumer that ensures the dead-letter stream without knowing
the setting never scales it down."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.js.errors import ServiceUnavailableError

from vanban.launcher.infra import free_port
from vanban.launcher.infra.process import find_binary
from vanban.platform.events.nats import (
    DLQ_STREAM,
    ensure_dlq_stream,
    ensure_service_stream,
    stream_name,
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    root = tmp_path_factory.mktemp("nats-cluster")
    clients = [free_port() for _ in range(3)]
    routes = [free_port() for _ in range(3)]
    processes = []
    for index in range(3):
        store = root / f"s{index}"
        config = root / f"s{index}.conf"
        peers = ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in routes)
        config.write_text(
            f"""server_name: s{index}
host: 127.0.0.1
port: {clients[index]}
jetstream {{ store_dir: "{store}", max_memory_store: 64MB, max_file_store: 256MB }}
cluster {{ name: vanban, host: 127.0.0.1, port: {routes[index]}, routes: [{peers}] }}
"""
        )
        processes.append(
            subprocess.Popen(
                [str(find_binary("nats-server")), "-c", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=(root / f"s{index}.log").open("wb"),
            )
        )
    try:
        yield [f"nats://127.0.0.1:{port}" for port in clients]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest.fixture
async def nc(cluster: list[str]) -> AsyncIterator[Client]:
    client = await nats.connect(servers=cluster, connect_timeout=5)
    js = client.jetstream(timeout=5)
    # The cluster elects its JetStream leader a few seconds after the servers meet.
    deadline = time.monotonic() + 30
    while True:
        try:
            await js.account_info()
            break
        except (ServiceUnavailableError, nats.errors.TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    yield client
    await client.close()


async def replicas(nc: Client, stream: str) -> int:
    info = await nc.jetstream(timeout=5).stream_info(stream)
    return int(info.config.num_replicas or 1)


async def test_streams_keep_the_agencys_copies_and_a_consumer_never_lowers_them(
    nc: Client, tmp_path: Path
) -> None:
    js = nc.jetstream(timeout=10)

    # A consumer starting first makes the dead-letter stream with one copy...
    await ensure_dlq_stream(js)
    assert await replicas(nc, DLQ_STREAM) == 1
    # ...its service then sets the agency's three...
    await ensure_dlq_stream(js, replicas=3)
    await ensure_service_stream(js, "replicatest", replicas=3)
    assert await replicas(nc, DLQ_STREAM) == 3
    assert await replicas(nc, stream_name("replicatest")) == 3
    # ...which a consumer ensuring it again (another service's, at its own start) keeps.
    await ensure_dlq_stream(js)
    await ensure_service_stream(js, "replicatest")
    assert await replicas(nc, DLQ_STREAM) == 3
    assert await replicas(nc, stream_name("replicatest")) == 3
