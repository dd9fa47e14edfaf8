"""Registration through the gateway against the raw S3 put of the same files (issue 8's target:
registrations/s ≥ 50% of the raw put rate on the same SeaweedFS).

usage: uv run python bench/registry_ingest.py [--documents 200] [--concurrency 8] [--kib 100]

Both sides put the same number of distinct files of the same size with the same number of
concurrent clients. The raw side is one S3 PUT per file (minio SDK, the archive bucket's
endpoint, the admin keys); the gateway side is the whole registration: sign-in token check,
multipart parsing and the PDF check, the stream into the archive (S3 PUT, objects row), and the
documents transaction (number, row, duplicate check, text job, outbox, audit) with its commit.
`bench/registry.py` prints these figures with the search ones.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

import vanban.launcher  # noqa: F401  (sets up the launcher before gRPC is imported)
from bench.registration import percentile
from tests.e2e.support import Gateway
from vanban.launcher.infra import free_port
from vanban.launcher.platform import Platform


def noise_pdf(kib: int, seed: int) -> bytes:
    """A one-page PDF of about `kib` KiB: a picture of noise, which no compression shrinks."""
    side = int((kib * 1024 / 3) ** 0.5)
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 800, f"Van ban so {seed}")
    page.drawImage(ImageReader(image), 72, 300, width=side, height=side)
    page.showPage()
    page.save()
    return buffer.getvalue()


@dataclass
class Rate:
    per_second: float
    p50_ms: float
    p95_ms: float
    # CPU seconds per operation, by process of the platform (and this client), while it ran.
    cpu: dict[str, float] = field(default_factory=dict)


def _process_name(argv: list[str]) -> str | None:
    """What a process of the platform is, from its command line."""
    if "-m" in argv:
        module = argv[argv.index("-m") + 1] if argv.index("-m") + 1 < len(argv) else ""
        if module.startswith("vanban."):
            return " ".join([module.removeprefix("vanban."), *argv[argv.index("-m") + 2 :]])
    program = Path(argv[0]).name if argv and argv[0] else ""
    if program.startswith("postgres"):
        return "postgresql"
    return {"weed": "seaweedfs", "nats-server": "nats", "tesseract": "tesseract"}.get(program)


def cpu_seconds(data_dir: Path) -> dict[str, float]:
    """CPU seconds (user + system, with reaped children's) of this process and its descendants,
    by name: the bench client and the platform it started (services, workers, SeaweedFS, NATS),
    and of the PostgreSQL server in `data_dir` (pg_ctl detaches it) with its backends."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    usage: dict[int, tuple[list[str], float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
        seconds = sum(int(v) for v in fields[11:15]) / ticks
        usage[int(entry)] = (command.rstrip("\0").split("\0"), seconds)
    me = os.getpid()
    # The server's command line names its data directory (`-D <data_dir>/...`).
    marker = f"{data_dir}/"
    roots = {me} | {pid for pid, (argv, _) in usage.items() if any(marker in a for a in argv)}
    totals: dict[str, float] = {}
    for pid, (argv, seconds) in usage.items():
        ancestor = pid
        while ancestor not in roots and ancestor in parents and ancestor > 1:
            ancestor = parents[ancestor]
        if ancestor not in roots:
            continue
        name = "bench client" if pid == me else _process_name(argv) or "other"
        totals[name] = totals.get(name, 0.0) + seconds
    return totals


def _run(count: int, concurrency: int, one: Callable[[int], float], data_dir: Path) -> Rate:
    before = cpu_seconds(data_dir)
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - began
    after = cpu_seconds(data_dir)
    return Rate(
        count / elapsed,
        statistics.median(latencies) * 1000,
        percentile(latencies, 0.95) * 1000,
        {name: (after[name] - before.get(name, 0.0)) / count for name in after},
    )


def measure(platform: Platform, *, documents: int, concurrency: int, kib: int) -> dict[str, Rate]:
    agency = platform.agencies[0]
    url = agency.gateway_url
    token = Gateway(url).token("vanthu")
    files = [noise_pdf(kib, seed) for seed in range(2 * documents)]
    s3 = platform.seaweed.client()
    bucket = agency.bucket()
    clients = [Gateway(url) for _ in range(concurrency)]

    def put(index: int) -> float:
        data = files[index]
        begun = time.perf_counter()
        s3.put_object(
            bucket,
            f"bench/{uuid.uuid4()}",
            io.BytesIO(data),
            len(data),
            content_type="application/pdf",
        )
        return time.perf_counter() - begun

    def register(index: int) -> float:
        begun = time.perf_counter()
        response = clients[index % concurrency].register(token, pdf=files[documents + index])
        if response.status_code != 201:
            raise RuntimeError(response.text)
        return time.perf_counter() - begun

    # Warm both paths (connections, caches), then measure each once.
    _run(min(10, documents), concurrency, put, platform.data_dir)
    raw = _run(documents, concurrency, put, platform.data_dir)
    gateway = _run(documents, concurrency, register, platform.data_dir)
    return {"raw_s3_put": raw, "gateway_registration": gateway}


def report(figures: dict[str, Rate], *, documents: int, concurrency: int, kib: int) -> None:
    raw, gateway = figures["raw_s3_put"], figures["gateway_registration"]
    print(f"files:                        {documents} × ~{kib} KiB PDF, {concurrency} concurrent")
    for name, rate in (("raw S3 put", raw), ("registration via gateway", gateway)):
        print(
            f"{name + ':':<29} {rate.per_second:7.1f}/s   p50 {rate.p50_ms:6.0f} ms   "
            f"p95 {rate.p95_ms:6.0f} ms"
        )
    print(
        f"registration / raw put:       {gateway.per_second / raw.per_second:7.0%}   (target ≥ 50%)"
    )
    # Where the machine's CPU went (a registration's events are handled meanwhile: archive's
    # claim, notify's notice, the text worker's OCR of the scan).
    cores = os.cpu_count() or 1
    print(f"CPU per operation, ms (this machine: {cores} cores):")
    names = sorted(set(raw.cpu) | set(gateway.cpu), key=lambda n: -gateway.cpu.get(n, 0.0))
    for name in names:
        r, g = raw.cpu.get(name, 0.0), gateway.cpu.get(name, 0.0)
        if max(r, g) >= 0.0001:
            print(f"  {name:<26} raw put {r * 1000:6.1f}   registration {g * 1000:6.1f}")
    r, g = sum(raw.cpu.values()), sum(gateway.cpu.values())
    print(f"  {'all':<26} raw put {r * 1000:6.1f}   registration {g * 1000:6.1f}")
    if r > 0 and g > 0:
        print(
            f"  so at most {cores / g:.0f} registrations/s on these cores against "
            f"{cores / r:.0f} puts/s"
        )
    # A process that ended meanwhile is counted in its parent (its reaped children's time),
    # so short-lived ones (tesseract) appear under whoever ran them.


def run(*, documents: int, concurrency: int, kib: int) -> None:
    """Starts the platform as `vanban up` does, measures, prints, stops."""
    data_dir = Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    data_dir.chmod(0o755)
    platform = Platform(data_dir, gateway_base_port=free_port(), env={"OTEL_SDK_DISABLED": "true"})
    platform.start()
    try:
        figures = measure(platform, documents=documents, concurrency=concurrency, kib=kib)
        report(figures, documents=documents, concurrency=concurrency, kib=kib)
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--kib", type=int, default=100)
    args = parser.parse_args()
    run(documents=args.documents, concurrency=args.concurrency, kib=args.kib)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
