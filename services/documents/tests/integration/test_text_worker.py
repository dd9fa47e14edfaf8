"""The text worker against real parts: PostgreSQL with the documents schema, the archive on
SeaweedFS S3 (in-process), PDFium and Debian's tesseract with Vietnamese (installed by `make
bootstrap`). A scan produced by the test is found by a word of its image (issue 8)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

import vanban.documents
from services.documents.tests.pdfs import scan_pdf, scanned_page, text_pdf
from vanban.archive.app import build as build_archive
from vanban.archive.settings import ArchiveSettings
from vanban.contracts.archive.v1 import archive_pb2 as apb
from vanban.contracts.archive.v1 import archive_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1.events_pb2 import DocumentUpdated
from vanban.documents.adapters.db.tables import document_texts, documents, platform_tables
from vanban.documents.adapters.db.tables import text_jobs as jobs
from vanban.documents.adapters.db.text_jobs import latest_digitization, queue_text_job
from vanban.documents.domain.search_text import document_search_text, fold
from vanban.documents.textworker import TextWorkerSettings, build
from vanban.launcher.infra import NatsServer, SeaweedServer
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.platform.migrations import upgrade
from vanban.platform.testing import DEMO_AGENCY, TokenMint, channel, metadata, running

MIGRATIONS = Path(vanban.documents.__file__).parent / "migrations"
CHUNK = 256 * 1024


@pytest.fixture(scope="module")
def mint(tmp_path_factory: pytest.TempPathFactory) -> TokenMint:
    return TokenMint(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
async def archive(
    make_database: DatabaseFactory,
    s3_server: SeaweedServer,
    nats_server: NatsServer,
    mint: TokenMint,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[str]:
    settings = ArchiveSettings(
        agency_code=DEMO_AGENCY,
        keys_dir=mint.keys_dir,
        database_url=make_database("documents_text_archive"),
        nats_url=nats_server.url,
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        bucket=f"vanban-test-{secrets.token_hex(6)}",
        spool_dir=Path(tmp_path_factory.mktemp("spool")),
        shutdown_grace=2.0,
    )
    async with running(build_archive(settings)) as address:
        yield address


@pytest.fixture(scope="module")
async def database(make_database: DatabaseFactory) -> AsyncIterator[tuple[str, AsyncEngine]]:
    url = make_database("documents_text")
    await asyncio.to_thread(upgrade, url, MIGRATIONS)
    engine = create_async_engine(url)
    try:
        yield url, engine
    finally:
        await engine.dispose()


@pytest.fixture
def db(database: tuple[str, AsyncEngine]) -> AsyncEngine:
    return database[1]


WorkerFactory = Callable[..., contextlib.AbstractAsyncContextManager[None]]


@pytest.fixture
def workers(database: tuple[str, AsyncEngine], archive: str, mint: TokenMint) -> WorkerFactory:
    """Runs `count` text worker processes' hosts (in-process) until the block ends."""

    @contextlib.asynccontextmanager
    async def run(count: int = 1, **overrides: Any) -> AsyncIterator[None]:
        values: dict[str, Any] = {
            "agency_code": DEMO_AGENCY,
            "keys_dir": mint.keys_dir,
            "database_url": database[0],
            "peers": {"archive": archive},
            "shutdown_grace": 5.0,
            "text_poll_seconds": 0.1,
            "text_retry_seconds": 0.0,
        }
        values.update(overrides)
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(count):
                host, _worker = build(TextWorkerSettings(**values))
                await stack.enter_async_context(running(host))
            yield

    return run


async def store(archive: str, mint: TokenMint, data: bytes) -> str:
    """Puts the file in the archive as a clerk's upload; its SHA-256."""

    def requests() -> Any:
        yield apb.PutObjectRequest(
            header=apb.ObjectHeader(content_type="application/pdf", file_name="scan.pdf")
        )
        for start in range(0, len(data), CHUNK):
            yield apb.PutObjectRequest(chunk=data[start : start + CHUNK])

    async with channel(archive) as ch:
        stored = await archive_pb2_grpc.ArchiveServiceStub(ch).PutObject(
            requests(), metadata=metadata(mint.person("van-thu-1"))
        )
    return stored.object.sha256


async def archived(archive: str, mint: TokenMint, sha256: str) -> bytes:
    body = bytearray()
    async with channel(archive) as ch:
        async for part in archive_pb2_grpc.ArchiveServiceStub(ch).GetObject(
            apb.GetObjectRequest(sha256=sha256), metadata=metadata(mint.service("gateway"))
        ):
            if part.WhichOneof("part") == "chunk":
                body += part.chunk
    return bytes(body)


async def register(db: AsyncEngine, sha256: str, *, subject: str = "Về việc số hóa") -> str:
    """An incoming paper document with its text job, in one transaction as registration
    makes them; its id."""
    document_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    number = random.randrange(1, 10**9)
    async with AsyncSession(db) as session, session.begin():
        await session.execute(
            insert(documents).values(
                id=document_id,
                direction="incoming",
                status="registered",
                document_type="Công văn",
                subject=subject,
                priority="normal",
                secrecy="none",
                secrecy_rank=0,
                code_number="12",
                code_notation="UBND-VP",
                issuer_code="000.00.00.G22",
                issuer_name="Ủy ban nhân dân tỉnh Demo",
                issued_date=date(2026, 11, 2),
                register_id="incoming",
                reg_year=2026,
                reg_number=number,
                registered_at=now,
                received_via="paper",
                search_head=document_search_text(
                    subject=subject,
                    code_number="12",
                    code_notation="UBND-VP",
                    issuer_name="Ủy ban nhân dân tỉnh Demo",
                ),
                search_tsv=func.to_tsvector(text("'simple'::regconfig"), subject),
                created_by="van-thu-1",
                created_at=now,
                updated_at=now,
            )
        )
        await queue_text_job(session, document_id=document_id, sha256=sha256, now=now)
    return document_id


async def job_of(db: AsyncEngine, document_id: str) -> Any:
    async with db.connect() as connection:
        return (
            await connection.execute(select(jobs).where(jobs.c.document_id == document_id))
        ).one()


async def until(
    check: Callable[[], Awaitable[bool]], *, within: float = 120.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def ended(db: AsyncEngine, document_id: str) -> Any:
    async def check() -> bool:
        return (await job_of(db, document_id)).state in ("done", "failed")

    await until(check, what=f"the text job of {document_id} to end")
    return await job_of(db, document_id)


async def found(db: AsyncEngine, query: str) -> set[str]:
    async with db.connect() as connection:
        rows = await connection.execute(
            text("SELECT id FROM documents WHERE search_tsv @@ to_tsquery('simple', :q)"),
            {"q": query},
        )
        return set(rows.scalars())


async def events_about(db: AsyncEngine, document_id: str) -> list[DocumentUpdated]:
    outbox = platform_tables.outbox
    async with db.connect() as connection:
        rows = await connection.execute(
            select(outbox.c.subject, outbox.c.event_type, outbox.c.payload).order_by(outbox.c.id)
        )
        events = []
        for row in rows:
            if row.subject != "vanban.documents.document.updated":
                continue
            assert row.event_type == "vanban.documents.v1.DocumentUpdated"
            event = DocumentUpdated.FromString(row.payload)
            if event.document_id == document_id:
                events.append(event)
        return events


async def audit_of(db: AsyncEngine, document_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    audit = platform_tables.audit
    async with db.connect() as connection:
        rows = await connection.execute(
            select(audit.c.actor, audit.c.action, audit.c.after)
            .where(audit.c.resource == f"documents/{document_id}")
            .order_by(audit.c.id)
        )
        return [(row.actor, row.action, row.after) for row in rows]


async def digitization(db: AsyncEngine, document_id: str) -> pb.Digitization | None:
    async with AsyncSession(db) as session:
        return await latest_digitization(session, document_id=document_id)


async def test_a_200_dpi_scan_of_a_vietnamese_letter_is_found_by_a_word_of_its_image(
    db: AsyncEngine, archive: str, mint: TokenMint, workers: WorkerFactory
) -> None:
    scan = scan_pdf((scanned_page(200), 200))
    sha256 = await store(archive, mint, scan)
    document_id = await register(db, sha256)
    # Only the head is indexed until the text is extracted: no word of the letter finds it.
    assert document_id not in await found(db, "quyet")
    queued = await digitization(db, document_id)
    assert queued == pb.Digitization(state=pb.Digitization.STATE_QUEUED)

    async with workers():
        job = await ended(db, document_id)

    assert (job.state, job.error, job.attempts) == ("done", None, 1)
    assert job.pages_done == job.pages_total == 1
    assert job.warnings == []  # PDF 1.4, 200 dpi: the standard is met
    # Without diacritics, as a person types it: "quyết" is on the scan's image only.
    assert document_id in await found(db, "quyet")
    assert document_id in await found(db, "so & hoa & luu & tru")
    async with db.connect() as connection:
        stored = (
            await connection.execute(
                select(document_texts).where(document_texts.c.document_id == document_id)
            )
        ).one()
    assert stored.source == "ocr"
    assert "quyet dinh" in fold(stored.text)
    assert "nghi dinh so 30/2020/nd-cp" in fold(stored.text)
    # The original is only read: the archive still gives the same bytes under the same hash.
    original = await archived(archive, mint, sha256)
    assert original == scan
    assert hashlib.sha256(original).hexdigest() == sha256

    [event] = await events_about(db, document_id)
    assert (event.direction, list(event.changed)) == (pb.DIRECTION_INCOMING, ["text"])
    assert event.agency_code == DEMO_AGENCY
    [(actor, action, after)] = await audit_of(db, document_id)
    assert (actor, action) == ("service:documents", "document.text_extracted")
    assert (after["source"], after["pages"]) == ("ocr", 1)
    assert await digitization(db, document_id) == pb.Digitization(
        state=pb.Digitization.STATE_DONE, pages_total=1, pages_done=1
    )


async def test_the_standard_warnings_name_the_page_and_a_text_layer_is_read_without_ocr(
    db: AsyncEngine, archive: str, mint: TokenMint, workers: WorkerFactory
) -> None:
    typed = text_pdf("Kế hoạch cải cách hành chính năm 2027 của Sở Nội vụ", version=(1, 3))
    document_id = await register(db, await store(archive, mint, typed))

    async with workers():
        job = await ended(db, document_id)

    assert (job.state, job.pages_done, job.pages_total) == ("done", 1, 1)
    assert job.warnings == ["PDF version 1.3 is below 1.4"]
    assert document_id in await found(db, "cai & cach & hanh & chinh")
    async with db.connect() as connection:
        source = await connection.scalar(
            select(document_texts.c.source).where(document_texts.c.document_id == document_id)
        )
    assert source == "text_layer"
    shown = await digitization(db, document_id)
    assert shown is not None and shown.warnings == ["PDF version 1.3 is below 1.4"]

    low = scan_pdf((scanned_page(300), 300), (scanned_page(150), 150))
    scanned_id = await register(db, await store(archive, mint, low))
    async with workers():
        scanned = await ended(db, scanned_id)
    assert (scanned.state, scanned.pages_done, scanned.pages_total) == ("done", 2, 2)
    assert scanned.warnings == ["page 2: image at 150 dpi, below 200 dpi"]


async def test_a_broken_file_fails_after_three_attempts_with_its_error_visible(
    db: AsyncEngine, archive: str, mint: TokenMint, workers: WorkerFactory
) -> None:
    # The archive keeps any bytes; only opening them tells they are no PDF.
    broken = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
    document_id = await register(db, await store(archive, mint, broken))

    async with workers():
        job = await ended(db, document_id)

    error = "the file cannot be opened as a PDF: it is damaged or not a PDF document"
    assert (job.state, job.attempts, job.error) == ("failed", 3, error)
    assert job.finished_at is not None
    assert await digitization(db, document_id) == pb.Digitization(
        state=pb.Digitization.STATE_FAILED, error=error
    )
    async with db.connect() as connection:
        texts = await connection.scalar(
            select(func.count()).where(document_texts.c.document_id == document_id)
        )
    assert texts == 0
    assert await events_about(db, document_id) == []
    [(actor, action, after)] = await audit_of(db, document_id)
    assert (actor, action, after["attempts"]) == ("service:documents", "document.text_failed", 3)


async def test_a_file_missing_from_the_archive_fails_naming_the_archive(
    db: AsyncEngine, workers: WorkerFactory
) -> None:
    document_id = await register(db, hashlib.sha256(b"never stored").hexdigest())

    async with workers():
        job = await ended(db, document_id)

    assert (job.state, job.attempts) == ("failed", 3)
    assert job.error.startswith("the archive did not give the file: NOT_FOUND")


async def test_several_workers_extract_each_document_exactly_once(
    db: AsyncEngine, archive: str, mint: TokenMint, workers: WorkerFactory
) -> None:
    ids = [
        await register(
            db, await store(archive, mint, text_pdf(f"Báo cáo tổng kết số {n} năm 2026"))
        )
        for n in range(8)
    ]

    async with workers(count=3):
        finished = [await ended(db, document_id) for document_id in ids]

    assert {(job.state, job.attempts, job.pages_done) for job in finished} == {("done", 1, 1)}
    for document_id in ids:
        assert len(await events_about(db, document_id)) == 1
        assert [action for _, action, _ in await audit_of(db, document_id)] == [
            "document.text_extracted"
        ]
    assert set(ids) <= await found(db, "bao & cao & tong & ket")


async def test_a_job_whose_worker_died_is_taken_over_and_the_last_attempt_fails(
    db: AsyncEngine, archive: str, mint: TokenMint, workers: WorkerFactory
) -> None:
    sha256 = await store(archive, mint, text_pdf("Thông báo kết luận cuộc họp giao ban"))
    resumed, exhausted = await register(db, sha256), await register(db, sha256)
    past = datetime.now(UTC) - timedelta(minutes=1)
    async with db.begin() as connection:
        # Both claimed by a worker that stopped: leases ran out, after 1 and after 3 attempts.
        for document_id, attempts in ((resumed, 1), (exhausted, 3)):
            await connection.execute(
                update(jobs)
                .where(jobs.c.document_id == document_id)
                .values(state="running", attempts=attempts, locked_until=past, pages_total=1)
            )

    async with workers():
        taken_over = await ended(db, resumed)
        given_up = await ended(db, exhausted)

    assert (taken_over.state, taken_over.attempts) == ("done", 2)
    assert (given_up.state, given_up.attempts) == ("failed", 3)
    assert given_up.error == "the text worker stopped during every attempt"
    assert resumed in await found(db, "giao & ban")
    assert exhausted not in await found(db, "giao & ban")


async def stored_text(db: AsyncEngine, document_id: str) -> str | None:
    async with db.connect() as connection:
        return await connection.scalar(
            select(document_texts.c.text).where(document_texts.c.document_id == document_id)
        )


async def test_a_long_typed_file_is_read_up_to_the_page_limit_and_says_so(
    db: AsyncEngine, archive: str, mint: TokenMint, workers: WorkerFactory
) -> None:
    typed = text_pdf(*(f"Phụ lục trang {n}: danh mục hồ sơ lưu trữ năm 2026" for n in range(5)))
    document_id = await register(db, await store(archive, mint, typed))

    async with workers(text_max_pages=3):
        job = await ended(db, document_id)

    assert (job.state, job.pages_done, job.pages_total) == ("done", 3, 5)
    assert job.warnings == ["only the first 3 pages were read"]
    text_read = await stored_text(db, document_id)
    assert text_read is not None
    assert "trang 2:" in text_read and "trang 3:" not in text_read
    shown = await digitization(db, document_id)
    assert shown is not None and list(shown.warnings) == ["only the first 3 pages were read"]


async def test_ocr_stops_at_its_page_limit_and_page_warnings_are_cut_after_20(
    db: AsyncEngine, archive: str, mint: TokenMint, workers: WorkerFactory
) -> None:
    # 25 small blank pages scanned at 150 dpi: each below the standard, each needing OCR.
    scan = scan_pdf(*[(Image.new("L", (150, 150), 255), 150) for _ in range(25)])
    document_id = await register(db, await store(archive, mint, scan))

    async with workers(ocr_max_pages=2):
        job = await ended(db, document_id)

    assert (job.state, job.pages_done, job.pages_total) == ("done", 2, 25)
    assert job.warnings == [
        *(f"page {n}: image at 150 dpi, below 200 dpi" for n in range(1, 21)),
        "… and 5 more pages below the standard",
        "only the first 2 pages were read",
    ]
    shown = await digitization(db, document_id)
    assert shown is not None and len(shown.warnings) == 22


async def test_a_version_superseded_before_it_was_read_is_not_read(
    db: AsyncEngine, archive: str, mint: TokenMint, workers: WorkerFactory
) -> None:
    first = await store(archive, mint, text_pdf("Dự thảo lần một: tờ trình về biên chế"))
    document_id = await register(db, first)
    later = await store(archive, mint, text_pdf("Dự thảo lần hai: tờ trình về tinh giản"))
    async with AsyncSession(db) as session, session.begin():
        # The draft's next version, queued while the first still waits for a worker.
        await queue_text_job(session, document_id=document_id, sha256=later, now=datetime.now(UTC))

    async with workers():

        async def both_ended() -> bool:
            async with db.connect() as connection:
                states = (
                    await connection.scalars(
                        select(jobs.c.state).where(jobs.c.document_id == document_id)
                    )
                ).all()
            return set(states) == {"done"}

        await until(both_ended, what="both versions' jobs to end")

    async with db.connect() as connection:
        old, new = (
            await connection.execute(
                select(jobs)
                .where(jobs.c.document_id == document_id)
                .order_by(jobs.c.created_at, jobs.c.id)
            )
        ).all()
    assert (old.sha256, new.sha256) == (first, later)
    # The first version was never opened: no page counted, no attempt, only the reason.
    assert (old.attempts, old.pages_total, old.pages_done) == (0, 0, 0)
    assert old.warnings == ["superseded by a later version"]
    assert old.finished_at is not None
    assert (new.attempts, new.pages_done) == (1, 1)
    assert "tinh giản" in (await stored_text(db, document_id) or "")
    # One extraction, the later version's: one event, one audit entry.
    assert len(await events_about(db, document_id)) == 1
    assert [action for _, action, _ in await audit_of(db, document_id)] == [
        "document.text_extracted"
    ]
