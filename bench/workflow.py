"""Handling actions through the gateway against raw inserts, and the statistics over 100,000 tasks
(issue 9's targets: actions/s ≥ 30% of the raw asyncpg insert rate measured in the same run; the
statistics' p95 ≤ 100 ms over 100,000 tasks).

usage: uv run python bench/workflow.py [--documents 150] [--concurrency 8] [--tasks 100000]
                                       [--queries 200]

Actions: for each registered document, the leader's assignment to a unit, the unit head's
forward to a specialist, the specialist's completion: three actions, each a whole request
(token check, workflow's checks with the directory and documents, the transaction with its
tasks, due rows, outbox and audit). The raw side is one INSERT of a task-sized row per
transaction with asyncpg, as many of them, with as many concurrent connections, into the same
PostgreSQL. Then `--tasks` generated tasks over twelve months are loaded into the workflow's
database and `GET /v1/stats` is asked (the agency over a month, over a year, a unit over a
month) and timed at the client.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

import vanban.launcher  # noqa: F401  (sets up the launcher before gRPC is imported)
from bench.registration import percentile
from bench.registry_ingest import cpu_seconds
from tests.e2e.support import Gateway
from vanban.launcher.infra import free_port
from vanban.launcher.platform import AgencyProcesses as Agency
from vanban.launcher.platform import Platform

PASSWORD = "mat-khau-bench-1"
UNIT = "BENCH"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: Any, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return response.json()


def people(gateway: Gateway) -> dict[str, tuple[str, str]]:
    """A unit with its head and a specialist: username → (id, token)."""
    admin = auth(gateway.token("quantri"))
    _ok(
        gateway.http.post(
            "/v1/units",
            headers=admin,
            json={"code": UNIT, "name": "Phòng thử", "parent_code": "VP"},
        ),
        201,
    )
    out = {}
    for key, role in (("head", "unit_head"), ("spec", "specialist")):
        username = f"bench{key}"
        person = _ok(
            gateway.http.post(
                "/v1/people",
                headers=admin,
                json={
                    "username": username,
                    "full_name": f"Người thử {key}",
                    "position_title": "Cán bộ",
                    "roles": [role],
                    "unit_codes": [UNIT],
                    "password": PASSWORD,
                    "password_must_change": False,
                },
            ),
            201,
        )
        out[key] = (person["id"], gateway.token(username, PASSWORD))
    _ok(
        gateway.http.patch(
            f"/v1/units/{UNIT}", headers=admin, json={"head_person_id": out["head"][0]}
        ),
        200,
    )
    return out


def timed(count: int, concurrency: int, one: Callable[[int], None]) -> float:
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - began


def measure_actions(
    agency: Agency, *, documents: int, concurrency: int
) -> tuple[float, dict[str, float]]:
    """Actions per second: assignment, forward and completion of `documents` documents; and the
    CPU seconds per action of each process of the platform meanwhile."""
    url = agency.gateway_url
    setup = Gateway(url)
    staff = people(setup)
    clerk, leader = setup.token("vanthu"), setup.token("lanhdao")
    head, spec = staff["head"][1], staff["spec"][1]
    spec_id = staff["spec"][0]
    clients = [Gateway(url) for _ in range(concurrency)]
    ids: list[str] = []

    def register(i: int) -> None:
        ids.append(_ok(clients[i % concurrency].register(clerk), 201)["id"])

    timed(documents + 5, concurrency, register)
    deadline = (date.today() + timedelta(days=30)).isoformat()

    def handle(i: int) -> None:
        http = clients[i % concurrency].http
        document = ids[i]
        _ok(
            http.post(
                f"/v1/incoming-documents/{document}/assignment",
                headers=auth(leader),
                json={"lead_unit": UNIT, "opinion": "Phòng thử chủ trì.", "deadline": deadline},
            ),
            201,
        )
        tasks = _ok(http.get("/v1/tasks?mine=true&state=assigned", headers=auth(head)), 200)
        [root] = [t for t in tasks["tasks"] if t["document_id"] == document]
        forwarded = _ok(
            http.post(
                f"/v1/tasks/{root['id']}/forward",
                headers=auth(head),
                json={"to": [{"person_id": spec_id}]},
            ),
            201,
        )
        _ok(
            http.post(
                f"/v1/tasks/{forwarded['tasks'][0]['id']}/complete",
                headers=auth(spec),
                json={"result": "Đã xử lý"},
            ),
            200,
        )

    for i in range(documents, documents + 5):  # warm the paths
        handle(i)
    settle(agency)
    before = cpu_seconds(agency.platform.data_dir)
    elapsed = timed(documents, concurrency, handle)
    after = cpu_seconds(agency.platform.data_dir)
    actions = 3 * documents
    return actions / elapsed, {n: (after[n] - before.get(n, 0.0)) / actions for n in after}


def settle(agency: Agency, *, quiet: float = 0.5, longest: float = 120.0) -> None:
    """Waits until the registrations' background work (text extraction, claims, notices) is
    done: the platform's CPU stays idle for a while."""
    deadline = time.monotonic() + longest
    last = sum(cpu_seconds(agency.platform.data_dir).values())
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = sum(cpu_seconds(agency.platform.data_dir).values())
        if now - last < 0.1 * quiet:
            return
        last = now


def raw_dsn(agency: Agency) -> str:
    return agency.database_url("workflow").replace("postgresql+asyncpg://", "postgresql://")


async def measure_raw(dsn: str, *, rows: int, concurrency: int) -> float:
    """Inserts/s of one task-sized row per transaction, `concurrency` connections."""
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    try:
        await pool.execute(
            "CREATE TABLE bench_raw (id uuid PRIMARY KEY, document_id uuid, holder text, "
            "note text, state text, deadline date, created_at timestamptz)"
        )
        queue = iter(range(rows))

        async def worker() -> None:
            async with pool.acquire() as connection:
                for _ in queue:
                    await connection.execute(
                        "INSERT INTO bench_raw VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        uuid.uuid4(),
                        uuid.uuid4(),
                        f"unit:{UNIT}",
                        "Phòng thử chủ trì.",
                        "assigned",
                        date.today(),
                        datetime.now(UTC),
                    )

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        await pool.execute("DROP TABLE bench_raw")
    finally:
        await pool.close()
    return rows / elapsed


async def load_tasks(dsn: str, *, count: int, units: int = 30, staff: int = 300) -> None:
    """`count` tasks over the last twelve months: a third the leader's (lead units), the rest
    forwarded to people; every outcome."""
    rng = random.Random(9)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(dsn)
    try:
        assignments: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        states = ["assigned", "in_progress", "completed", "completed", "completed", "returned"]
        while len(tasks) < count:
            assignment, document = uuid.uuid4(), uuid.uuid4()
            created = now - timedelta(seconds=rng.randrange(365 * 86400))
            unit = f"S{rng.randrange(units):02d}"
            assignments.append(
                (assignment, document, unit, "[]", "[]", "", None, "leader", None, created)
            )
            root = uuid.uuid4()
            for parent, holder_unit, person in (
                (None, unit, None),
                (root, None, f"p{rng.randrange(staff)}"),
                (root, None, f"p{rng.randrange(staff)}"),
            ):
                deadline = (created + timedelta(days=rng.randint(1, 40))).date()
                state = rng.choice(states)
                closed = created + timedelta(days=rng.randint(0, 45)) if state in (
                    "completed",
                    "returned",
                ) else None  # fmt: skip
                tasks.append(
                    (
                        root if parent is None else uuid.uuid4(),
                        assignment, document, parent, "lead", holder_unit, person,
                        f"unit:{holder_unit}" if holder_unit else f"person:{person}:{uuid.uuid4()}",
                        deadline, "", state, "leader", None, created, "", None, "",
                        min(closed, now) if closed else None, "x" if closed else None,
                        parent is None,
                    )
                )  # fmt: skip
        await connection.copy_records_to_table(
            "assignments",
            records=[(str(a[0]), str(a[1]), *a[2:]) for a in assignments],
            columns=[
                "id", "document_id", "lead_unit", "coordinating_units", "informed_units",
                "opinion", "deadline", "assigned_by", "on_behalf_of", "assigned_at",
            ],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "tasks",
            records=[
                (str(t[0]), str(t[1]), str(t[2]), str(t[3]) if t[3] else None, *t[4:])
                for t in tasks[:count]
            ],
            columns=[
                "id", "assignment_id", "document_id", "parent_id", "role", "holder_unit",
                "holder_person", "holder_key", "deadline", "note", "state", "created_by",
                "on_behalf_of", "created_at", "result", "reply_document_id", "reason",
                "closed_at", "closed_by", "current_lead",
            ],
        )  # fmt: skip
        await connection.execute("ANALYZE tasks")
    finally:
        await connection.close()


def measure_stats(agency: Agency, *, queries: int) -> dict[str, tuple[float, float]]:
    gateway = Gateway(agency.gateway_url)
    leader = gateway.token("lanhdao")
    today = date.today()
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    asks = {
        "agency, last month": {"from": month.isoformat(), "to": (today.replace(day=1) - timedelta(days=1)).isoformat()},
        "agency, twelve months": {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()},
        "agency, this month": {},
    }  # fmt: skip
    out = {}
    for name, params in asks.items():
        times = []
        for _ in range(queries):
            began = time.perf_counter()
            _ok(gateway.http.get("/v1/stats", headers=auth(leader), params=params), 200)
            times.append(time.perf_counter() - began)
        out[name] = (statistics.median(times) * 1000, percentile(times, 0.95) * 1000)
    return out


def run(*, documents: int, concurrency: int, tasks: int, queries: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    data_dir.chmod(0o755)
    platform = Platform(data_dir, gateway_base_port=free_port(), env={"OTEL_SDK_DISABLED": "true"})
    platform.start()
    try:
        agency = platform.agencies[0]
        actions, cpu = measure_actions(agency, documents=documents, concurrency=concurrency)
        raw = asyncio.run(measure_raw(raw_dsn(agency), rows=3 * documents, concurrency=concurrency))
        print(f"documents handled:            {documents}, {concurrency} concurrent clients")
        print(f"actions via gateway:          {actions:8.1f}/s  (assign + forward + complete)")
        print(f"raw asyncpg inserts:          {raw:8.1f}/s  (one row per transaction)")
        print(f"actions / raw inserts:        {actions / raw:8.1%}   (target ≥ 30%)")
        print("CPU per action, ms:")
        for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
            if seconds >= 0.0001:
                print(f"  {name:<28} {seconds * 1000:6.1f}")
        print(f"  {'all':<28} {sum(cpu.values()) * 1000:6.1f}")
        began = time.perf_counter()
        asyncio.run(load_tasks(raw_dsn(agency), count=tasks))
        print(f"tasks loaded:                 {tasks} in {time.perf_counter() - began:.0f} s")
        for name, (p50, p95) in measure_stats(agency, queries=queries).items():
            print(f"GET /v1/stats {name + ':':<24} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
                  "   (target p95 ≤ 100 ms)")  # fmt: skip
    finally:
        platform.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    run(
        documents=args.documents,
        concurrency=args.concurrency,
        tasks=args.tasks,
        queries=args.queries,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
