"""Helpers for calling the directory over gRPC and reading what it published."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig

from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.platform.testing import channel, metadata


async def call(address: str, method: str, request: object, token: str | None) -> Any:
    async with channel(address) as ch:
        stub = directory_pb2_grpc.DirectoryServiceStub(ch)
        return await getattr(stub, method)(
            request, metadata=metadata(token) if token else None, timeout=60
        )


async def failure(
    address: str, method: str, request: object, token: str | None
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(address, method, request, token)
    return raised.value


async def published(
    nats_url: str, subject: str, *, at_least: int, within: float = 15.0
) -> list[Any]:
    """Every message on `subject` in the directory's stream, once there are `at_least`."""
    nc = Client()
    await nc.connect(nats_url)
    try:
        js = nc.jetstream()
        deadline = asyncio.get_running_loop().time() + within
        while True:
            try:
                info = await js.stream_info("VANBAN_DIRECTORY", subjects_filter=subject)
                count = (info.state.subjects or {}).get(subject, 0)
            except Exception:
                count = 0
            if count >= at_least:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"only {count} message(s) on {subject}, wanted {at_least}")
            await asyncio.sleep(0.1)
        # No acks: a reader that acks nothing would otherwise stall at the pending-ack limit.
        sub = await js.pull_subscribe(
            subject, stream="VANBAN_DIRECTORY", config=ConsumerConfig(ack_policy=AckPolicy.NONE)
        )
        messages: list[Any] = []
        while len(messages) < count:
            messages.extend(await sub.fetch(min(count - len(messages), 500), timeout=5))
        return messages
    finally:
        await nc.close()
