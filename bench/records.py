"""How long a dossier's exports take to build, and how fast the audit chain is hashed.

usage: uv run python bench/records.py [--files 100] [--size-kb 500] [--pages 5] [--entries 100000]

Exports: one dossier of `--files` documents, each one file of `--size-kb` random bytes behind a
PDF header for the BagIt bag and the E-ARK-style package (a signed PDF's streams are compressed:
as incompressible as random bytes), and a real `--pages`-page PDF each for the dossier PDF. The
builders are the archive's own (`vanban.archive.adapters.export`), reading through an in-memory
reader that checks each file's SHA-256 as the service's reader does; the S3 read itself is not
measured here. Printed: the time to build each, the size made, MB/s.

Audit chain: `--entries` entries like the archive writes (a dossier's action, resource,
before/after as JSON), chained with `vanban.platform.audit_chain.chain` as the unit of work does
at commit and verified as `GET /v1/audit/verify` recomputes them: entries per second each way.
The database round trips of both are not measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import platform
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from reportlab.pdfgen import canvas

from vanban.archive.adapters.export.bag import build_bagit
from vanban.archive.adapters.export.dossier_pdf import build_pdf
from vanban.archive.adapters.export.eark import build_eark
from vanban.archive.adapters.export.model import (
    Coded,
    DossierMetadata,
    ExportDocument,
    ExportFile,
)
from vanban.platform.audit_chain import GENESIS, chain, entry_hash

CHUNK = 256 * 1024


def pdf(pages: int, label: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    for n in range(pages):
        page.drawString(72, 720, f"{label} trang {n + 1}")
        page.showPage()
    page.save()
    return buffer.getvalue()


def dossier(contents: list[bytes]) -> tuple[DossierMetadata, list[ExportDocument]]:
    meta = DossierMetadata(
        dossier_id="00000000-0000-4000-8000-000000000001",
        agency_code="000.00.00.H99",
        agency_name="Ủy ban nhân dân tỉnh Demo",
        year=2026,
        file_code="000.00.00.H99.2026.01.VP",
        title="Hồ sơ đo thời gian xuất",
        maintenance=Coded("06", "10 năm"),
        rights=Coded("01", "Công khai"),
        creator="VP",
        language="vi",
        start_date=date(2026, 1, 5),
        end_date=date(2026, 11, 28),
        doc_total=len(contents),
        page_total=len(contents),
        description="",
    )
    documents = [
        ExportDocument(
            position=n,
            kind="incoming",
            document_id=f"00000000-0000-4000-8000-{n:012d}",
            identifier="",
            code_number=str(n),
            code_notation="QĐ-UBND",
            issued_date=date(2026, 3, 1),
            issuer_name="UBND tỉnh",
            document_type="Quyết định",
            subject=f"Văn bản số {n}",
            page_amount=1,
            secrecy="none",
            files=(
                ExportFile(
                    sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data),
                    content_type="application/pdf",
                    name=f"van-ban-{n}.pdf",
                ),
            ),
        )
        for n, data in enumerate(contents, start=1)
    ]
    return meta, documents


def reader(contents: list[bytes]) -> Callable[[str], AsyncIterator[bytes]]:
    by_hash = {hashlib.sha256(data).hexdigest(): data for data in contents}

    async def read(sha256: str) -> AsyncIterator[bytes]:
        data = by_hash[sha256]
        check = hashlib.sha256()
        for start in range(0, len(data), CHUNK):
            chunk = data[start : start + CHUNK]
            check.update(chunk)
            yield chunk
        assert check.hexdigest() == sha256

    return read


async def exports(args: argparse.Namespace) -> None:
    random_files = [b"%PDF-1.7\n" + os.urandom(args.size_kb * 1024) for _ in range(args.files)]
    pdfs = [pdf(args.pages, f"Van ban {n}") for n in range(args.files)]
    for name, build, contents in (
        ("BagIt zip", build_bagit, random_files),
        ("E-ARK-style zip", build_eark, random_files),
        ("dossier PDF", build_pdf, pdfs),
    ):
        meta, documents = dossier(contents)
        with tempfile.TemporaryDirectory() as workdir:
            started = time.perf_counter()
            path = await build(meta, documents, read=reader(contents), workdir=Path(workdir))
            took = time.perf_counter() - started
            size = path.stat().st_size
        rate = (
            f"{len(contents) * args.pages / took:,.0f} pages/s"
            if build is build_pdf
            else f"{size / 1e6 / took:.0f} MB/s"
        )
        print(
            f"{name:16} {len(contents)} files, {sum(map(len, contents)) / 1e6:.1f} MB in: "
            f"{took:.2f} s, {size / 1e6:.1f} MB out, {rate}"
        )


def audit(entries: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "occurred_at": now,
            "actor": "c4d0f1a2-0000-4000-8000-000000000001",
            "on_behalf_of": None,
            "action": "dossier.document.add",
            "resource": f"dossiers/00000000-0000-4000-8000-{n % 1000:012d}",
            "before": None,
            "after": {"document_id": f"doc-{n}", "kind": "incoming", "doc_total": n % 200},
            "trace_id": "0af7651916cd43dd8448eb211c80319c",
        }
        for n in range(entries)
    ]
    started = time.perf_counter()
    chained = chain(rows, head=GENESIS)
    written = time.perf_counter() - started
    started = time.perf_counter()
    previous = GENESIS
    for row in chained:
        assert row["previous_hash"] == previous and entry_hash(row) == row["entry_hash"]
        previous = str(row["entry_hash"])
    verified = time.perf_counter() - started
    print(
        f"audit chain      {entries} entries: chained at {entries / written:,.0f}/s, "
        f"verified at {entries / verified:,.0f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--size-kb", type=int, default=500)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    asyncio.run(exports(args))
    audit(args.entries)


if __name__ == "__main__":
    main()
