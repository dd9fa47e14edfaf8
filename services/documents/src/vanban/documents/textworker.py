"""The text worker (`python -m vanban.documents textworker`): extracts the text of documents'
PDF files for search, apart from the gRPC replicas, since OCR is CPU-bound for seconds a page
(ADR 0009, 5).

It claims a `text_jobs` row (SKIP LOCKED: run as many workers as there are cores to spare),
streams the file from the archive as the documents service, checks the digitization standard,
reads each page's text layer or else OCRs the page rendered at 300 dpi, records progress after
every page, and at the end stores the text, refreshes the document's `search_tsv` and records
`documents.document.updated` in one transaction. A failed attempt is retried; the third ends
the job 'failed' with its error. The original bytes are only read, never written.

It serves gRPC health (its own port) so the launcher and Kubernetes can tell it is up; it has
no NATS connection: its events leave through the outbox, which the documents service's relay
publishes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import grpc
from pydantic import Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.contracts.archive.v1 import archive_pb2, archive_pb2_grpc
from vanban.documents.adapters.db import text_jobs
from vanban.documents.adapters.db.tables import platform_tables
from vanban.documents.adapters.db.text_jobs import ClaimedJob, Extracted, LostJobError
from vanban.documents.adapters.pdf import (
    MIN_TEXT_CHARS,
    OcrError,
    PageTooLargeError,
    PdfFile,
    Tesseract,
    capped_warnings,
)
from vanban.documents.adapters.transaction import DOCUMENT_UPDATED, document_updated
from vanban.documents.settings import DocumentsSettings
from vanban.platform.command import Command
from vanban.platform.db import UnitOfWork
from vanban.platform.log import configure_logging
from vanban.platform.pdf import UnreadablePdfError
from vanban.platform.runtime import run
from vanban.platform.service import ServiceHost
from vanban.platform.telemetry import setup_telemetry
from vanban.platform.transaction import ServiceTransaction

logger = logging.getLogger(__name__)

ACTOR = "service:documents"
ARCHIVE_TIMEOUT_SECONDS = 120.0


class TextWorkerSettings(DocumentsSettings):
    """The documents settings (VANBAN_DOCUMENTS_*) and the worker's own."""

    # How often an idle worker looks for a job.
    text_poll_seconds: float = Field(default=2.0, gt=0)
    # A claim lasts this long and is renewed after each page: longer than one page can take.
    text_lease_seconds: float = Field(default=600.0, gt=0)
    text_max_attempts: int = Field(default=3, ge=1)
    # A failed attempt is tried again after this long.
    text_retry_seconds: float = Field(default=30.0, ge=0)
    ocr_languages: str = Field(default="vie+eng", pattern=r"^[a-z_]+(\+[a-z_]+)*$")
    ocr_timeout_seconds: float = Field(default=180.0, gt=0)
    # OpenMP threads tesseract uses per page (OMP_THREAD_LIMIT). One: measured faster per page
    # than its default on this project's 2-core machines (bench/ocr.py); scale with workers.
    ocr_threads: int | None = Field(default=1, ge=1)
    # Pages read per document, in order; the reading stops (the job still 'done', with the
    # warning "only the first N pages were read") at the first page past either limit. A text
    # layer page costs under 5 ms, an OCRed one about 10 s (ADR 0009, 5): 2,000 text pages are
    # seconds (and more than BODY_MAX_CHARS of text indexes anyway); 200 scanned pages are about
    # 35 minutes of one worker, a thick dossier, while a 20,000-page file would hold a worker
    # for days.
    text_max_pages: int = Field(default=2000, ge=1)
    ocr_max_pages: int = Field(default=200, ge=1)

    @model_validator(mode="after")
    def _lease_outlasts_a_page(self) -> TextWorkerSettings:
        if self.text_lease_seconds <= self.ocr_timeout_seconds:
            raise ValueError("text_lease_seconds must be longer than ocr_timeout_seconds")
        return self


def describe(exc: BaseException) -> str:
    """The error as the job shows it: plain English, no internals."""
    if isinstance(exc, UnreadablePdfError):
        return f"the file cannot be opened as a PDF: {exc.reason}"
    if isinstance(exc, OcrError):
        return f"OCR failed: {exc}"
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"the archive did not give the file: {exc.code().name} {exc.details() or ''}".strip()
    if isinstance(exc, FileIntegrityError):
        return str(exc)
    return f"internal error ({type(exc).__name__})"


class TextTransaction(ServiceTransaction):
    def open_repositories(self, session: AsyncSession) -> None:
        self.session = session


class FileIntegrityError(Exception):
    """The bytes the archive streamed do not hash to the job's SHA-256."""


class TextWorker:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        archive: archive_pb2_grpc.ArchiveServiceAsyncStub,
        tesseract: Tesseract,
        settings: TextWorkerSettings,
    ) -> None:
        self._uow_factory = uow_factory
        self._archive = archive
        self._tesseract = tesseract
        self._settings = settings
        self._transaction = TextTransaction.factory(uow_factory, actor=ACTOR)

    async def run(self, stop: asyncio.Event) -> None:
        """Works until `stop` is set; a job in hand when it is set goes back to the queue."""
        while not stop.is_set():
            try:
                worked = await self.run_once(stop)
            except Exception as exc:  # the database away: wait, then try again
                logger.warning(
                    "text worker could not reach its database", extra={"error": repr(exc)}
                )
                worked = False
            if not worked:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self._settings.text_poll_seconds)
                except TimeoutError:
                    pass

    async def run_once(self, stop: asyncio.Event | None = None) -> bool:
        """Claims and works one job; whether there was one."""
        settings = self._settings
        async with self._transaction() as tx:
            failed = await text_jobs.fail_abandoned(
                tx.session, max_attempts=settings.text_max_attempts
            )
            superseded = await text_jobs.finish_superseded(tx.session)
            job = await text_jobs.claim(
                tx.session,
                lease_seconds=settings.text_lease_seconds,
                max_attempts=settings.text_max_attempts,
            )
            await tx.commit()
        if failed:
            logger.warning("text jobs abandoned by stopped workers failed", extra={"jobs": failed})
        if superseded:
            logger.info(
                "text jobs superseded by later versions finished unread",
                extra={"jobs": superseded},
            )
        if job is None:
            return False
        logger.info(
            "text job claimed",
            extra={"job_id": job.id, "document_id": job.document_id, "attempt": job.attempt},
        )
        try:
            await self._work(job, stop or asyncio.Event())
        except LostJobError:
            logger.warning(
                "text job taken over by another worker, or ended by its document's destruction",
                extra={"job_id": job.id},
            )
        except _Stopping:
            async with self._transaction() as tx:
                await text_jobs.release(tx.session, job)
                await tx.commit()
            logger.info("text job given back on stop", extra={"job_id": job.id})
        except Exception as exc:
            await self._fail(job, exc)
        return True

    async def _fail(self, job: ClaimedJob, exc: Exception) -> None:
        error = describe(exc)
        async with self._transaction() as tx:
            final = await text_jobs.fail(
                tx.session,
                job,
                error=error,
                max_attempts=self._settings.text_max_attempts,
                retry_after_seconds=self._settings.text_retry_seconds,
            )
            if final:
                tx.audit(
                    action="document.text_failed",
                    resource=f"documents/{job.document_id}",
                    after={"job_id": job.id, "attempts": job.attempt, "error": error},
                )
            await tx.commit()
        logger.warning(
            "text job attempt failed",
            extra={"job_id": job.id, "attempt": job.attempt, "final": final, "error": error},
            exc_info=not isinstance(exc, UnreadablePdfError | OcrError | FileIntegrityError),
        )

    async def _work(self, job: ClaimedJob, stop: asyncio.Event) -> None:
        settings = self._settings
        with tempfile.TemporaryDirectory(prefix="vanban-text-") as scratch:
            path = Path(scratch) / "file.pdf"
            await self._fetch(job.sha256, path)
            pdf = await asyncio.to_thread(PdfFile, path)
            try:
                found = await asyncio.to_thread(
                    pdf.standard_warnings, pages=settings.text_max_pages
                )
                warnings = capped_warnings(found)
                async with self._transaction() as tx:
                    await text_jobs.start(
                        tx.session,
                        job,
                        pages_total=pdf.pages,
                        warnings=warnings,
                        lease_seconds=settings.text_lease_seconds,
                    )
                    await tx.commit()
                pages: list[str] = []
                ocr_pages = 0  # pages that needed OCR, within ocr_max_pages
                used_ocr = False
                for index in range(pdf.pages):
                    if stop.is_set():
                        raise _Stopping
                    if index >= settings.text_max_pages:
                        break
                    text = await asyncio.to_thread(pdf.text_layer, index)
                    if sum(c.isalnum() for c in text) < MIN_TEXT_CHARS:
                        if ocr_pages >= settings.ocr_max_pages:
                            break
                        ocr_pages += 1
                        try:
                            rendered = await asyncio.to_thread(pdf.render, index)
                        except PageTooLargeError as exc:
                            warnings.append(str(exc))
                        else:
                            text = await self._tesseract.read(rendered)
                            used_ocr = True
                    pages.append(text.strip())
                    async with self._transaction() as tx:
                        await text_jobs.progress(
                            tx.session,
                            job,
                            pages_done=index + 1,
                            lease_seconds=settings.text_lease_seconds,
                        )
                        await tx.commit()
            finally:
                await asyncio.to_thread(pdf.close)
        if len(pages) < pdf.pages:
            warnings.append(f"only the first {len(pages)} pages were read")
        extracted = Extracted(
            text="\n\n".join(pages),
            source="ocr" if used_ocr else "text_layer",
            pages=len(pages),
            warnings=warnings,
        )
        async with self._transaction() as tx:
            direction = await text_jobs.finish(tx.session, job, extracted=extracted)
            if direction is not None:
                tx.record_event(
                    DOCUMENT_UPDATED,
                    document_updated(
                        job.document_id,
                        direction,
                        changed=["text"],
                        agency_code=settings.agency_code,
                    ),
                )
                tx.audit(
                    action="document.text_extracted",
                    resource=f"documents/{job.document_id}",
                    after={
                        "job_id": job.id,
                        "source": extracted.source,
                        "pages": extracted.pages,
                        "characters": len(extracted.text),
                        "warnings": warnings,
                    },
                )
            await tx.commit()
        logger.info(
            "text job done",
            extra={
                "job_id": job.id,
                "document_id": job.document_id,
                "pages": extracted.pages,
                "source": extracted.source,
                "stored": direction is not None,
            },
        )

    async def _fetch(self, sha256: str, path: Path) -> None:
        """Streams the file to `path`, checking it is the content the job names."""
        digest = hashlib.sha256()
        with path.open("wb") as out:
            async for part in self._archive.GetObject(
                archive_pb2.GetObjectRequest(sha256=sha256), timeout=ARCHIVE_TIMEOUT_SECONDS
            ):
                if part.WhichOneof("part") == "chunk":
                    digest.update(part.chunk)
                    await asyncio.to_thread(out.write, part.chunk)
        if digest.hexdigest() != sha256:
            raise FileIntegrityError("the archive gave bytes that do not match the file's SHA-256")


class _Stopping(Exception):
    """The worker is stopping in the middle of a job."""


def build(settings: TextWorkerSettings) -> tuple[ServiceHost, TextWorker]:
    # No migrations (the documents service runs them) and no NATS (the outbox relay of the
    # documents service publishes what this records).
    host = ServiceHost(settings, service="documents", tables=platform_tables, uses_nats=False)
    worker = TextWorker(
        uow_factory=host.uow,
        archive=archive_pb2_grpc.ArchiveServiceStub(host.channel("archive")),
        tesseract=Tesseract(
            languages=settings.ocr_languages,
            timeout_seconds=settings.ocr_timeout_seconds,
            threads=settings.ocr_threads,
        ),
        settings=settings,
    )
    host.add_background("text-worker", worker.run)
    return host, worker


async def main(settings: TextWorkerSettings, stop: asyncio.Event) -> None:
    host, _ = build(settings)
    await host.run(stop)


def _run(args: argparse.Namespace) -> int:
    settings = TextWorkerSettings()  # from the environment
    configure_logging("documents-text", settings.log_level)
    telemetry = setup_telemetry("documents-text", agency_code=settings.agency_code)
    try:
        run(lambda stop: main(settings, stop))
    finally:
        telemetry.shutdown()
    return 0


COMMAND = Command(
    name="textworker",
    help="extract the text of documents' files (PDF text layer, else OCR) until SIGTERM",
    run=_run,
    description="Run a text worker: claim digitization jobs, read each page's text layer or "
    "OCR it with tesseract, and index the text for search, until SIGTERM or SIGINT.",
)
