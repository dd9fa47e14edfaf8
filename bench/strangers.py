"""What strangers cost the gateway, on the platform as `vanban up` runs it.

usage: uv run python bench/strangers.py [--bodies 8] [--body-mib 37] [--guessers 200]
       [--flood-seconds 10] [--only memory|sign-in]

1. Anonymous large bodies: `--bodies` parallel anonymous POSTs of a `--body-mib` MiB JSON array
   to `/v1/people`. Prints the gateway process's resident memory (VmRSS from /proc) before, at its
   peak while the bodies arrive (sampled every 10 ms, and the kernel's high-water mark VmHWM),
   and after; the answers; and how long the first answer took when the client sends only the
   first MiB and then waits (a gateway that reads no body answers without the rest).
2. A guessing flood: `--guessers` parallel clients bound to 127.0.0.3 (in a process of their
   own) send wrong passwords for made-up user names for `--flood-seconds`, while a bystander
   bound to 127.0.0.2 signs in as the clerk over and over. Prints the bystander's sign-in latency
   without and during the flood, what the flood's attempts were answered, and the gateway's CPU
   time per attempt.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import vanban.launcher  # noqa: F401  (sets up the launcher before gRPC is imported)
from tests.e2e.support import PASSWORD
from vanban.launcher.infra import free_port
from vanban.launcher.platform import Platform

MIB = 1024 * 1024


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def json_array(size: int) -> bytes:
    """A JSON array of empty objects: the shape that costs a parser the most per byte."""
    count = (size - 2) // 3
    return b"[" + b"{}," * (count - 1) + b"{}]"


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def first_answer_after_one_mib(url: str, body_size: int) -> tuple[str, float]:
    """Announces `body_size` bytes, sends one MiB, and waits for the status line."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    began = time.perf_counter()
    writer.write(
        f"POST /v1/people HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {body_size}\r\n\r\n".encode()
        + b"[" * MIB
    )
    await writer.drain()
    try:
        line = await asyncio.wait_for(reader.readline(), timeout=30)
        status = line.decode().strip() or "connection closed"
    except TimeoutError:
        status = "no answer within 30 s"
    elapsed = time.perf_counter() - began
    writer.close()
    return status, elapsed


def memory(platform: Platform, *, bodies: int, body_mib: int) -> None:
    url = platform.agencies[0].gateway_url
    pid = platform.agencies[0].processes["gateway"].pid
    assert pid is not None
    body = json_array(body_mib * MIB)
    time.sleep(2)
    before, hwm_before = rss_kib(pid), rss_kib(pid, "VmHWM")

    async def send_all() -> list[tuple[int, float]]:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:

            async def one() -> tuple[int, float]:
                began = time.perf_counter()
                response = await client.post(
                    "/v1/people", content=body, headers={"Content-Type": "application/json"}
                )
                return response.status_code, time.perf_counter() - began

            return await asyncio.gather(*(one() for _ in range(bodies)))

    with Sampler(pid) as sampler:
        answers = asyncio.run(send_all())
    time.sleep(2)
    after, hwm_after = rss_kib(pid), rss_kib(pid, "VmHWM")
    status, first = asyncio.run(first_answer_after_one_mib(url, body_mib * MIB))
    codes = collections.Counter(code for code, _ in answers)
    print(f"anonymous bodies:                  {bodies} x {body_mib} MiB JSON to POST /v1/people")
    print(f"answers:                           {dict(codes)}")
    print(f"whole request (upload + answer):   max {max(t for _, t in answers) * 1000:.0f} ms")
    print(f"gateway RSS before:                {before / 1024:.0f} MiB")
    print(f"gateway RSS peak (sampled):        {max(sampler.peak, before) / 1024:.0f} MiB")
    print(
        f"gateway VmHWM before / after:      {hwm_before / 1024:.0f} / {hwm_after / 1024:.0f} MiB"
    )
    print(f"gateway RSS after:                 {after / 1024:.0f} MiB")
    print(f"answer with only 1 MiB sent:       {status!r} after {first * 1000:.0f} ms")


def sign_in_latency(
    client: httpx.Client, *, count: int = 1_000_000, until: float = float("inf")
) -> tuple[list[float], collections.Counter[int]]:
    """Signs the clerk in `count` times, or until `until` (time.monotonic), 100 ms apart."""
    latencies: list[float] = []
    codes: collections.Counter[int] = collections.Counter()
    while len(latencies) < count and time.monotonic() < until:
        began = time.perf_counter()
        response = client.post("/v1/auth/token", data={"username": "vanthu", "password": PASSWORD})
        codes[response.status_code] += 1
        latencies.append(time.perf_counter() - began)
        time.sleep(0.1)
    return latencies, codes


def describe(latencies: list[float]) -> str:
    return (
        f"p50 {statistics.median(latencies) * 1000:.0f} / p95 "
        f"{percentile(latencies, 0.95) * 1000:.0f} / max {max(latencies) * 1000:.0f} ms "
        f"({len(latencies)} sign-ins)"
    )


def flood(url: str, guessers: int, seconds: float, answers: Any) -> None:
    """In its own process, so that the bystander's timings are not the flood's client's; on raw
    keep-alive connections, so that the flood spends its CPU on asking, not on an HTTP library
    (the attacker's machine is not the server's, in life)."""
    host, port = url.removeprefix("http://").split(":")

    async def run() -> collections.Counter[str]:
        counted: collections.Counter[str] = collections.Counter()
        ends = time.monotonic() + seconds

        async def guess() -> None:
            reader, writer = await asyncio.open_connection(
                host, int(port), local_addr=("127.0.0.3", 0)
            )
            try:
                while time.monotonic() < ends:
                    form = f"username=khach-{uuid.uuid4().hex[:8]}&password=sai".encode()
                    writer.write(
                        f"POST /v1/auth/token HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\n"
                        f"Content-Length: {len(form)}\r\n\r\n".encode()
                        + form
                    )
                    status = (await reader.readline()).split(b" ")[1].decode()
                    length = 0
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        name, _, value = line.partition(b":")
                        if name.lower() == b"content-length":
                            length = int(value)
                    body = json.loads(await reader.readexactly(length))
                    counted[f"{status} {body.get('code', '')}"] += 1
            except (OSError, asyncio.IncompleteReadError) as exc:
                counted[type(exc).__name__] += 1
            finally:
                writer.close()

        await asyncio.gather(*(guess() for _ in range(guessers)))
        return counted

    answers.put(dict(asyncio.run(run())))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def guessing(platform: Platform, *, guessers: int, seconds: float) -> None:
    url = platform.agencies[0].gateway_url
    pid = platform.agencies[0].processes["gateway"].pid
    assert pid is not None
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=url, timeout=60, transport=transport) as bystander:
        quiet, quiet_codes = sign_in_latency(bystander, count=20)
        answers: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
        attacker = multiprocessing.Process(target=flood, args=(url, guessers, seconds, answers))
        cpu_before = cpu_seconds(pid)
        attacker.start()
        time.sleep(1.0)  # the flood is under way
        busy, busy_codes = sign_in_latency(bystander, until=time.monotonic() + seconds - 1.5)
        counted = collections.Counter(answers.get(timeout=seconds + 120))
        attacker.join()
        cpu = cpu_seconds(pid) - cpu_before
    attempts = sum(counted.values())
    print(f"bystander without flood:           {describe(quiet)} {dict(quiet_codes)}")
    print(f"bystander during flood:            {describe(busy)} {dict(busy_codes)}")
    print(
        f"flood:                             {guessers} parallel clients on 127.0.0.3 for "
        f"{seconds:g} s: {attempts} attempts"
    )
    for answer, n in counted.most_common():
        print(f"  {answer:<33}{n}")
    print(
        f"gateway CPU during the flood:      {cpu:.1f} s "
        f"({cpu / max(attempts, 1) * 1000:.1f} ms per attempt)"
    )


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bodies", type=int, default=8)
    parser.add_argument("--body-mib", type=int, default=37)
    parser.add_argument("--guessers", type=int, default=200)
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    parser.add_argument("--only", choices=["memory", "sign-in"])
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    data_dir.chmod(0o755)
    platform = Platform(
        data_dir, gateway_base_port=free_port(), env={"OTEL_SDK_DISABLED": "true"}, fast=True
    )
    platform.start()
    print(f"machine:                           {os.cpu_count()} CPUs, load average {load()}")
    try:
        if args.only != "sign-in":
            memory(platform, bodies=args.bodies, body_mib=args.body_mib)
        if args.only != "memory":
            guessing(platform, guessers=args.guessers, seconds=args.flood_seconds)
        print(f"load average at the end:           {load()}")
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
