"""Registration throughput and latency through the gateway, on the platform as `vanban up` runs it.

usage: uv run python bench/registration.py [--documents 300] [--concurrency 20] [--fast]

Prints the platform's start time, registrations per second, latency percentiles, and how long
the last clerk notification took to arrive after the last registration returned.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import vanban.launcher  # noqa: F401  (sets up the launcher before gRPC is imported)
from tests.e2e.support import Gateway, make_pdf
from vanban.launcher.infra import free_port
from vanban.launcher.platform import Platform


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--fast", action="store_true", help="PostgreSQL without fsync")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    data_dir.chmod(0o755)
    platform = Platform(
        data_dir, gateway_base_port=free_port(), env={"OTEL_SDK_DISABLED": "true"}, fast=args.fast
    )
    started = time.perf_counter()
    platform.start()
    start_seconds = time.perf_counter() - started
    try:
        url = platform.agencies[0].gateway_url
        token = Gateway(url).token("vanthu")
        pdfs = [make_pdf(f"Cong van so {i}") for i in range(args.documents)]
        clients = [Gateway(url) for _ in range(args.concurrency)]

        def register(index: int) -> float:
            client = clients[index % args.concurrency]
            begun = time.perf_counter()
            response = client.register(token, pdf=pdfs[index])
            if response.status_code != 201:
                raise RuntimeError(response.text)
            return time.perf_counter() - begun

        began = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            latencies = list(pool.map(register, range(args.documents)))
        elapsed = time.perf_counter() - began
        done = time.perf_counter()
        reader = Gateway(url)
        while len(reader.notifications(token)) < args.documents:
            time.sleep(0.05)
        notified_after = time.perf_counter() - done

        print(f"platform start (vanban up, cold):  {start_seconds:.1f} s")
        print(
            f"documents:                         {args.documents} with {args.concurrency} concurrent clients"
        )
        print(f"postgres durability:               {'off (--fast)' if args.fast else 'on'}")
        print(f"throughput:                        {args.documents / elapsed:.1f} registrations/s")
        print(
            "latency p50 / p95 / max:           "
            f"{statistics.median(latencies) * 1000:.0f} / {percentile(latencies, 0.95) * 1000:.0f}"
            f" / {max(latencies) * 1000:.0f} ms"
        )
        print(f"last notification after last 201:  {notified_after * 1000:.0f} ms")
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
