"""The document registry's figures in one run (issue 8, ADR 0009 section 9).

usage: uv run python bench/registry.py [--registrations 200] [--sizes 100000,1000000] [--queries 200]
                                      [--data-dir .vanban/bench-registry] [--explain]

1. Registrations/s through the gateway with a 100 KB PDF, against the raw S3 put rate of the
   same files (`registration_figures`, bench/registry_ingest.py; `--registrations 0` skips it).
2. Search p50/p95 at each size: the databases `registry_<size>` of the bench cluster, made by
   `bench/load_registry.py` when missing (minutes at 1M). For each size, `--queries` queries of a
   fixed mix (words with and without diacritics, số/ký hiệu, prefixes) run through the
   service's own query builder (`adapters/db/search.find_documents`, one transaction each, as a
   call of the gRPC servicer runs it), without the gRPC and HTTP hops:
   - as a clerk (reads every document, cleared for confidential) and as a specialist (sees what
     reaches their unit or them), unfiltered and filtered (incoming + one type + one year);
   - the first page (20 rows) with its total (exact up to 100: SEARCH_TOTAL_CAP).
   Targets: p95 ≤ 50 ms at 1M; filtered ≤ 1.2 × unfiltered.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

import bench.registry_ingest as ingest
from bench.load_registry import BenchCluster, load, migrate, unit_people
from bench.registration import percentile
from vanban.documents.adapters.db import search
from vanban.documents.adapters.db.search import find_documents
from vanban.documents.domain import search as domain
from vanban.documents.domain.search import DocumentQuery, Filter, Viewer, make_query
from vanban.platform.runtime import settle_memory

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

WORDS_MARKED = (
    "quyết định",
    "chuyển đổi số",
    "giải phóng mặt bằng",
    "an toàn giao thông",
    "Cửa Lò",
    "tuyển dụng công chức",
    "phòng, chống thiên tai",
    "Đô Lương",
    "kế hoạch",
    "đầu tư công",
    "khu kinh tế Đông Nam",
    "xã Đồng Văn",
    "báo cáo kết quả",
    "Sở Tài chính",
)
WORDS_PLAIN = (
    "quyet dinh",
    "chuyen doi so",
    "ke hoach",
    "bao cao ket qua",
    "dong van",
    "nuoc sach",
    "phong chong tham nhung",
    "giay moi hoi nghi",
    "ngan sach",
    "cai cach hanh chinh",
    "tiep cong dan",
    "quy hoach su dung dat",
    "hop tac xa",
    "du lich cong dong",
)
PREFIXES = ("chuyen d", "tuyen s", "Quỳnh L", "thi xa c", "giải ph", "an toan g", "nong th")
NOTATIONS = ("QĐ-UBND", "QD-UBND", "KH-UBND", "BC-UBND", "UBND-VP", "TB-UBND", "BNV-VP", "CV-STC")


def query_mix(count: int, seed: int = 9) -> list[str]:
    """`count` search box queries: a quarter of each kind, numbers in both orders."""
    rng = random.Random(seed)
    queries = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            queries.append(rng.choice(WORDS_MARKED))
        elif kind == 1:
            queries.append(rng.choice(WORDS_PLAIN))
        elif kind == 2:
            number, notation = rng.randrange(1, 400), rng.choice(NOTATIONS)
            queries.append(
                rng.choice(
                    (f"{number:02d}/{notation}", f"{notation} {number}", f"{number} {notation}")
                )
            )
        else:
            queries.append(rng.choice(PREFIXES))
    return queries


@dataclass(frozen=True)
class Case:
    name: str
    viewer: Viewer
    filter: Filter


def cases(end_year: int) -> list[Case]:
    clerk = Viewer(clearance_rank=1, reads_all=True, principals=())
    specialist = Viewer(
        clearance_rank=0,
        reads_all=False,
        principals=("unit:VP", f"person:{unit_people('VP')[0]}"),
    )
    year = end_year - 1
    filtered = Filter(
        direction="incoming",
        document_types=("Công văn",),
        registered_from=date(year, 1, 1),
        registered_to=date(year, 12, 31),
    )
    return [
        Case("clerk, unfiltered", clerk, Filter()),
        Case("clerk, filtered", clerk, filtered),
        Case("specialist, unfiltered", specialist, Filter()),
        Case("specialist, filtered", specialist, filtered),
    ]


@dataclass
class Figures:
    case: str
    latencies: list[float]
    totals: list[int]

    def line(self) -> str:
        ms = [v * 1000 for v in self.latencies]
        return (
            f"  {self.case:<24} p50 {statistics.median(ms):6.1f} ms   p95 "
            f"{percentile(ms, 0.95):6.1f} ms   max {max(ms):7.1f} ms   "
            f"median total {statistics.median(self.totals):>6.0f}"
        )


async def run_case(engine: AsyncEngine, case: Case, queries: Sequence[str]) -> Figures:
    figures = Figures(case.name, [], [])
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for q in queries:
        query = make_query(filter=case.filter, q=q)
        began = time.perf_counter()
        async with sessions() as session, session.begin():
            page = await find_documents(session, query, viewer=case.viewer, tz=VIETNAM)
        figures.latencies.append(time.perf_counter() - began)
        figures.totals.append(page.total)
    return figures


async def explain(engine: AsyncEngine, query: DocumentQuery, viewer: Viewer) -> None:
    """EXPLAIN ANALYZE of the page and the total statements of one query (exact branch)."""
    where = [search.visible_to(viewer), *search.filters(query, VIETNAM, viewer)]
    match = search.text_match(query)
    if match is not None:
        where.append(match)
    page = (
        select(*search._SUMMARY_COLUMNS)
        .where(*where)
        .order_by(*search._order(query))
        .limit(query.page_size + 1)
    )
    capped = select(literal(1)).where(*where).limit(query.total_cap + 1).subquery()
    total = select(func.count()).select_from(capped)
    async with engine.connect() as connection:
        for statement in (page, total):
            compiled = statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
            plan = await connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"))
            print("\n".join(row[0] for row in plan))


async def search_figures(url: str, *, size: int, queries: int, show_plans: bool) -> list[Figures]:
    engine = create_async_engine(
        url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2
    )
    try:
        async with engine.connect() as connection:
            end_year = (
                await connection.execute(text("SELECT max(reg_year) FROM documents"))
            ).scalar_one()
        mix = query_mix(queries)
        settle_memory()  # as a service does before it serves (platform.service.Service.serve)
        results = []
        for case in cases(end_year):
            await run_case(engine, case, mix[:20])  # warm the cache and the pool
            results.append(await run_case(engine, case, mix))
            if show_plans:
                slowest = max(zip(results[-1].latencies, mix, strict=True))[1]
                print(f"--- {size} {case.name}: slowest query {slowest!r}")
                await explain(engine, make_query(filter=case.filter, q=slowest), case.viewer)
        return results
    finally:
        await engine.dispose()


async def prewarm(superuser_url: str) -> None:
    """Reads the table and its indexes into shared buffers, as a server that has been serving
    searches holds them (the bench cluster restarts for each run)."""
    connection = await asyncpg.connect(superuser_url)
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for relation in await connection.fetch(
            "SELECT indexrelid::regclass::text AS name FROM pg_index "
            "WHERE indrelid = 'documents'::regclass UNION ALL SELECT 'documents'"
        ):
            await connection.execute("SELECT pg_prewarm($1)", relation["name"])
    finally:
        await connection.close()


def registration_figures(documents: int, concurrency: int) -> None:
    """Registrations/s through the gateway with a ~100 KiB PDF against the raw S3 put rate of the
    same files on the same SeaweedFS (target ≥ 50%), on the platform as `vanban up` starts it
    (bench/registry_ingest.py)."""
    if documents <= 0:
        print("registration: skipped (--registrations 0)")
        return
    ingest.run(documents=documents, concurrency=concurrency, kib=100)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, default=Path(".vanban/bench-registry"))
    parser.add_argument("--explain", action="store_true", help="print the slowest query's plan")
    parser.add_argument(
        "--total-cap",
        type=int,
        default=domain.SEARCH_TOTAL_CAP,
        help="what if a search's totals were exact up to this many (the service's: 100)",
    )
    parser.add_argument("--registrations", type=int, default=200, help="0 skips that part")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.total_cap != domain.SEARCH_TOTAL_CAP:
        print(f"what-if: totals exact up to {args.total_cap}, not {domain.SEARCH_TOTAL_CAP}")
        domain.SEARCH_TOTAL_CAP = args.total_cap
    registration_figures(args.registrations, args.concurrency)
    sizes = [int(s) for s in args.sizes.split(",")]
    with BenchCluster(args.data_dir) as cluster:
        for size in sizes:
            url, existed = cluster.database(f"registry_{size}")
            if not existed:
                print(f"loading {size} documents (bench/load_registry.py) ...")
                asyncio.run(load(url, documents=size)).print()
            else:  # a data set of an earlier run: brought to the service's schema first
                asyncio.run(migrate(url))
            asyncio.run(prewarm(cluster.server.libpq_dsn(f"registry_{size}")))
            results = asyncio.run(
                search_figures(url, size=size, queries=args.queries, show_plans=args.explain)
            )
            print(f"search at {size} documents, {args.queries} queries each, first page of 20:")
            for figures in results:
                print(figures.line())
            by_name = {f.case: f for f in results}
            for who in ("clerk", "specialist"):
                plain = percentile(by_name[f"{who}, unfiltered"].latencies, 0.95)
                filtered = percentile(by_name[f"{who}, filtered"].latencies, 0.95)
                print(f"  {who}: filtered p95 / unfiltered p95 = {filtered / plain:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
