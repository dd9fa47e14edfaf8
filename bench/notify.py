"""Notices end to end, event to browser, and what an idle live stream costs, on the platform as
`vanban up` runs it.

usage: uv run python bench/notify.py [--events 500] [--streams 1000] [--fast]

1. Publishes 50 registrations one at a time, each once the last one's notice has come: the
   latency of a notice when nothing queues.
2. Opens the clerk's live stream (GET /v1/notifications/stream), publishes `--events`
   registrations (IncomingDocumentRegistered) straight into the documents stream as fast as
   NATS takes them, and waits for every notice on the stream: notices per second end to end
   (event published -> notify records it -> outbox -> NATS -> gateway -> SSE client) and the
   latency of each (its event's publish to its arrival).
3. Opens `--streams` idle streams at one gateway process and prints its resident memory before
   and after: memory per idle stream (the client's side is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import nats
from httpx_sse import aconnect_sse

import vanban.launcher  # noqa: F401  (sets up the launcher before gRPC is imported)
from tests.e2e.support import Gateway
from vanban.contracts.documents.v1 import documents_pb2 as docpb
from vanban.contracts.documents.v1 import events_pb2 as docevents
from vanban.launcher.infra import free_port
from vanban.launcher.platform import Platform

STREAM = "/v1/notifications/stream"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def registered(number: int, agency: str) -> docevents.IncomingDocumentRegistered:
    event = docevents.IncomingDocumentRegistered(
        document=docpb.IncomingDocument(
            id=str(uuid.uuid4()),
            arrival_number=number,
            arrival_year=2026,
            issuer_name="Văn phòng Chính phủ",
            code_number=str(number),
            code_notation="VPCP-TTĐT",
            subject=f"V/v thử nghiệm thông báo số {number}",
            secrecy=docpb.SECRECY_NONE,
        ),
        agency_code=agency,
    )
    event.occurred_at.GetCurrentTime()
    return event


async def one_at_a_time(url: str, token: str, nats_url: str, agency: str, count: int) -> None:
    """The latency of a notice when nothing queues: one event, its notice, the next."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        async with aconnect_sse(
            client, "GET", STREAM, headers={"Authorization": f"Bearer {token}"}
        ) as source:
            incoming = source.aiter_sse()
            await anext(incoming)
            nc = await nats.connect(nats_url)
            js = nc.jetstream()
            for number in range(count):
                event = registered(100_000 + number, agency)
                wanted = f"incoming-documents/{event.document.id}"
                sent = time.perf_counter()
                await js.publish(
                    "vanban.documents.incoming.registered",
                    event.SerializeToString(),
                    headers={"Nats-Msg-Id": str(uuid.uuid4())},
                )
                async for message in incoming:
                    if message.event == "notification":
                        if json.loads(message.data)["resource"] == wanted:
                            break
                latencies.append((time.perf_counter() - sent) * 1000)
            await nc.close()
    print(
        f"one event at a time ({count}): event -> stream latency ms: "
        f"p50 {percentile(latencies, 0.5):.0f}, p95 {percentile(latencies, 0.95):.0f}, "
        f"max {max(latencies):.0f}"
    )


async def end_to_end(url: str, token: str, nats_url: str, agency: str, events: int) -> None:
    published: dict[str, float] = {}
    arrived: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        async with aconnect_sse(
            client, "GET", STREAM, headers={"Authorization": f"Bearer {token}"}
        ) as source:
            incoming = source.aiter_sse()
            await anext(incoming)  # the unread count: the stream is open
            nc = await nats.connect(nats_url)
            js = nc.jetstream()
            started = time.perf_counter()
            for number in range(1, events + 1):
                event = registered(number, agency)
                published[f"incoming-documents/{event.document.id}"] = time.perf_counter()
                await js.publish(
                    "vanban.documents.incoming.registered",
                    event.SerializeToString(),
                    headers={"Nats-Msg-Id": str(uuid.uuid4())},
                )
            publishing = time.perf_counter() - started
            async for message in incoming:
                if message.event != "notification":
                    continue
                resource = json.loads(message.data)["resource"]
                if resource in published:
                    arrived[resource] = time.perf_counter()
                    if len(arrived) == events:
                        break
            await nc.close()
    elapsed = max(arrived.values()) - started
    latencies = [(arrived[r] - published[r]) * 1000 for r in arrived]
    print(f"events published: {events} in {publishing:.2f} s")
    print(f"notices on the stream: {len(arrived)} in {elapsed:.2f} s = {events / elapsed:.0f}/s")
    print(
        "event -> stream latency ms: "
        f"p50 {percentile(latencies, 0.5):.0f}, p95 {percentile(latencies, 0.95):.0f}, "
        f"p99 {percentile(latencies, 0.99):.0f}, max {max(latencies):.0f}"
    )


async def idle_streams(url: str, token: str, pid: int, count: int) -> None:
    before = rss_kib(pid)
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        responses = []
        started = time.perf_counter()
        for _ in range(count):
            request = client.build_request(
                "GET", STREAM, headers={"Authorization": f"Bearer {token}"}
            )
            response = await client.send(request, stream=True)
            if response.status_code != 200:
                raise RuntimeError(
                    f"stream refused: {response.status_code} {(await response.aread()).decode(errors='replace')}"
                )
            responses.append(response)
        opening = time.perf_counter() - started
        await asyncio.sleep(5)
        after = rss_kib(pid)
        print(f"idle streams held by one gateway process: {count} (opened in {opening:.1f} s)")
        print(
            f"gateway RSS: {before // 1024} MiB before, {after // 1024} MiB with them: "
            f"{(after - before) / count:.1f} KiB per idle stream"
        )
        for response in responses:
            await response.aclose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--fast", action="store_true", help="PostgreSQL without fsync")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    data_dir.chmod(0o755)
    env = {
        "OTEL_SDK_DISABLED": "true",
        # One person holds all the idle streams here; people hold 5 at most by default.
        "VANBAN_GATEWAY_NOTIFICATION_STREAMS_PER_PERSON": str(args.streams + 10),
    }
    platform = Platform(data_dir, gateway_base_port=free_port(), env=env, fast=args.fast)
    platform.start()
    try:
        agency = platform.agencies[0]
        url = agency.gateway_url
        token = Gateway(url).token("vanthu")
        asyncio.run(one_at_a_time(url, token, agency.nats.url, agency.spec.code, 50))
        asyncio.run(end_to_end(url, token, agency.nats.url, agency.spec.code, args.events))
        pid = agency.processes["gateway"].pid
        assert pid is not None
        asyncio.run(idle_streams(url, token, pid, args.streams))
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
