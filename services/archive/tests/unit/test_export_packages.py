"""A dossier exported as a BagIt bag and as an E-ARK-style SIP, from an in-memory store: the bag
validates with `bagit` in a process of its own, every file is the registered one, and a build
that meets other bytes fails without leaving anything that could be served."""

from __future__ import annotations

import asyncio
import hashlib
import io
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from reportlab.pdfgen.canvas import Canvas

from vanban.archive.adapters.export.bag import build_bagit, read_manifest
from vanban.archive.adapters.export.dossier_pdf import build_pdf
from vanban.archive.adapters.export.eark import METS_NS, XLINK_NS, build_eark
from vanban.archive.adapters.export.metadata import NAMESPACE
from vanban.archive.adapters.export.model import (
    Coded,
    DossierMetadata,
    ExportDocument,
    ExportFile,
    Reader,
)
from vanban.archive.domain.errors import FixityMismatchError

CHUNK = 64 * 1024
NOW = datetime(2026, 12, 1, 9, 30, 0)
FILE_CODE = "000.00.00.H99.2026.01.TCCB"
HOSTILE_NAMES = ["../../etc/passwd", "", "Quyết định.pdf", "Quyết định.pdf", "a\x00b\nc.PDF"]

VALIDATE = """
import sys
import bagit
bag = bagit.Bag(sys.argv[1])
bag.validate()
print("valid", len(bag.payload_entries()))
"""


class FakeStore:
    """Registered bytes by SHA-256. `swap` serves other bytes for a hash; `strict` makes the
    reader raise at the end on a mismatch, as the service's reader does."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.swap: dict[str, bytes] = {}
        self.strict = False

    def add(self, data: bytes, name: str, content_type: str = "application/pdf") -> ExportFile:
        sha256 = hashlib.sha256(data).hexdigest()
        self.blobs[sha256] = data
        return ExportFile(sha256=sha256, size=len(data), content_type=content_type, name=name)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        data = self.swap.get(sha256, self.blobs[sha256])
        for start in range(0, len(data), CHUNK):
            await asyncio.sleep(0)
            yield data[start : start + CHUNK]
        if self.strict and hashlib.sha256(data).hexdigest() != sha256:
            raise FixityMismatchError("the stored bytes no longer match their SHA-256")


def make_pdf(pages: int, marker: str) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)
    for page in range(1, pages + 1):
        canvas.drawString(72, 720, f"{marker} page {page}")
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def make_meta(**overrides: Any) -> DossierMetadata:
    values: dict[str, Any] = {
        "dossier_id": "dossier-1",
        "agency_code": "000.00.00.H99",
        "agency_name": "Ủy ban nhân dân tỉnh Hà Tĩnh",
        "year": 2026,
        "file_code": FILE_CODE,
        "title": "Hồ sơ tuyển dụng công chức năm 2026",
        "maintenance": Coded("01", "Vĩnh viễn"),
        "rights": Coded("01", "Công khai"),
        "creator": "Phòng Tổ chức cán bộ",
        "language": "vi",
        "start_date": date(2026, 1, 5),
        "end_date": date(2026, 11, 30),
        "doc_total": 3,
        "page_total": 9,
        "description": "",
    }
    return DossierMetadata(**(values | overrides))


def make_document(position: int, *files: ExportFile, **overrides: Any) -> ExportDocument:
    values: dict[str, Any] = {
        "position": position,
        "kind": "incoming",
        "document_id": f"doc-{position}",
        "identifier": f"id-{position}",
        "code_number": str(position),
        "code_notation": "QĐ-UBND",
        "issued_date": date(2026, 2, 1 + position % 28),
        "issuer_name": "Bộ Nội vụ",
        "document_type": "Quyết định",
        "subject": f"Về việc tuyển dụng đợt {position}",
        "page_amount": 2,
        "secrecy": "none",
        "files": files,
    }
    return ExportDocument(**(values | overrides))


def dossier(store: FakeStore) -> list[ExportDocument]:
    """Three documents: hostile and duplicate file names, a non-PDF, a document without files."""
    first = make_document(
        1,
        *(store.add(make_pdf(2, f"one-{i}"), name) for i, name in enumerate(HOSTILE_NAMES)),
    )
    second = make_document(
        2,
        store.add(b"plain text, not a PDF\n" * 100, "ghi chú.txt", "text/plain"),
        store.add(make_pdf(3, "two"), "Tờ trình.pdf"),
    )
    third = make_document(3, secrecy="confidential")
    return [third, second, first]


def registered(documents: list[ExportDocument]) -> list[ExportFile]:
    return [f for d in sorted(documents, key=lambda d: d.position) for f in d.files]


def unzip(archive: Path, into: Path) -> list[str]:
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        opened.extractall(into)
    return names


def validate_elsewhere(bag: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", VALIDATE, str(bag)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_bag_validates_with_bagit_in_another_process(tmp_path: Path) -> None:
    store = FakeStore()
    documents = dossier(store)
    work, out = tmp_path / "work", tmp_path / "out"

    archive = await build_bagit(make_meta(), documents, read=store.read, workdir=work, now=NOW)

    assert archive == work / f"{FILE_CODE}-bagit.zip"
    names = unzip(archive, out)
    assert {n.split("/", 1)[0] for n in names} == {FILE_CODE}
    result = validate_elsewhere(out / FILE_CODE)
    assert result.returncode == 0, result.stderr
    files = registered(documents)
    # Every registered file and the metadata.
    assert result.stdout.split() == ["valid", str(len(files) + 1)]


async def test_each_payload_hash_in_the_manifest_is_the_registered_one(tmp_path: Path) -> None:
    store = FakeStore()
    documents = dossier(store)

    archive = await build_bagit(
        make_meta(), documents, read=store.read, workdir=tmp_path / "work", now=NOW
    )

    unzip(archive, tmp_path / "out")
    bag = tmp_path / "out" / FILE_CODE
    manifest = read_manifest(bag / "manifest-sha256.txt")
    files = registered(documents)
    documents_part = {p: h for p, h in manifest.items() if p.startswith("data/documents/")}
    assert sorted(documents_part.values()) == sorted(f.sha256 for f in files)
    for path, sha256 in documents_part.items():
        assert hashlib.sha256((bag / path).read_bytes()).hexdigest() == sha256
    # Hostile names became safe, distinct paths; the clerk's names stay in the metadata.
    assert all(".." not in p and "\n" not in p for p in manifest)
    xml = (bag / "data/metadata/dossier.xml").read_bytes()
    root = etree.fromstring(xml)
    names = [e.text or "" for e in root.iter(f"{{{NAMESPACE}}}FileName")]
    assert "../../etc/passwd" in names
    assert names.count("Quyết định.pdf") == 2
    assert manifest["data/metadata/dossier.xml"] == hashlib.sha256(xml).hexdigest()


async def test_bag_info_names_the_agency_and_the_file_code(tmp_path: Path) -> None:
    store = FakeStore()

    archive = await build_bagit(
        make_meta(), dossier(store), read=store.read, workdir=tmp_path / "work", now=NOW
    )

    unzip(archive, tmp_path / "out")
    info = (tmp_path / "out" / FILE_CODE / "bag-info.txt").read_text(encoding="utf-8")
    assert "Source-Organization: Ủy ban nhân dân tỉnh Hà Tĩnh\n" in info
    assert f"External-Identifier: {FILE_CODE}\n" in info
    assert "Bagging-Date: 2026-12-01\n" in info
    assert "Internal-Sender-Identifier: dossier-1\n" in info


async def test_the_validator_refuses_a_bag_whose_file_was_altered(tmp_path: Path) -> None:
    store = FakeStore()
    archive = await build_bagit(
        make_meta(), dossier(store), read=store.read, workdir=tmp_path / "work", now=NOW
    )
    unzip(archive, tmp_path / "out")
    bag = tmp_path / "out" / FILE_CODE
    victim = sorted((bag / "data" / "documents").iterdir())[0]
    victim.write_bytes(victim.read_bytes() + b"tampered")

    result = validate_elsewhere(bag)

    assert result.returncode != 0
    assert "BagValidationError" in result.stderr


async def test_the_same_dossier_and_time_give_the_same_bytes(tmp_path: Path) -> None:
    store = FakeStore()
    documents = dossier(store)

    first = await build_bagit(
        make_meta(), documents, read=store.read, workdir=tmp_path / "a", now=NOW
    )
    second = await build_bagit(
        make_meta(), documents, read=store.read, workdir=tmp_path / "b", now=NOW
    )
    sip_a = await build_eark(
        make_meta(), documents, read=store.read, workdir=tmp_path / "a", now=NOW
    )
    sip_b = await build_eark(
        make_meta(), documents, read=store.read, workdir=tmp_path / "b", now=NOW
    )

    assert first.read_bytes() == second.read_bytes()
    assert sip_a.read_bytes() == sip_b.read_bytes()


async def test_progress_counts_every_file(tmp_path: Path) -> None:
    store = FakeStore()
    documents = dossier(store)
    seen: list[tuple[int, int]] = []
    total = len(registered(documents))

    await build_bagit(
        make_meta(),
        documents,
        read=store.read,
        workdir=tmp_path,
        progress=lambda done, of: seen.append((done, of)),
    )

    assert seen == [(done, total) for done in range(total + 1)]


async def test_an_empty_dossier_still_makes_a_valid_bag(tmp_path: Path) -> None:
    store = FakeStore()

    archive = await build_bagit(
        make_meta(doc_total=0, page_total=0),
        [make_document(1)],
        read=store.read,
        workdir=tmp_path / "work",
    )

    unzip(archive, tmp_path / "out")
    result = validate_elsewhere(tmp_path / "out" / FILE_CODE)
    assert result.returncode == 0, result.stderr


BUILDERS = {"bagit": build_bagit, "eark": build_eark, "pdf": build_pdf}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("strict", [False, True], ids=["reader-silent", "reader-raises"])
async def test_bytes_other_than_the_registered_ones_fail_the_build_and_leave_nothing(
    tmp_path: Path, kind: str, strict: bool
) -> None:
    store = FakeStore()
    store.strict = strict
    documents = dossier(store)
    victim = registered(documents)[3]
    store.swap[victim.sha256] = store.blobs[victim.sha256][:-1] + b"X"
    work = tmp_path / "work"

    with pytest.raises(FixityMismatchError) as caught:
        await BUILDERS[kind](make_meta(), documents, read=store.read, workdir=work)

    if not strict:  # found by the builder itself, not by the reader
        assert caught.value.metadata["sha256"] == victim.sha256
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("kind", sorted(BUILDERS))
async def test_a_cancelled_build_leaves_nothing(tmp_path: Path, kind: str) -> None:
    store = FakeStore()
    documents = dossier(store)
    started = asyncio.Event()
    blocked = registered(documents)[2].sha256

    async def read(sha256: str) -> AsyncIterator[bytes]:
        if sha256 == blocked:
            started.set()
            await asyncio.Event().wait()
        async for chunk in store.read(sha256):
            yield chunk

    reader: Reader = read
    work = tmp_path / "work"
    task = asyncio.create_task(BUILDERS[kind](make_meta(), documents, read=reader, workdir=work))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert list(work.iterdir()) == []


async def test_the_sip_lists_every_file_with_its_registered_hash(tmp_path: Path) -> None:
    store = FakeStore()
    documents = dossier(store)

    archive = await build_eark(
        make_meta(), documents, read=store.read, workdir=tmp_path / "work", now=NOW
    )

    assert archive == tmp_path / "work" / f"{FILE_CODE}-sip.zip"
    names = unzip(archive, tmp_path / "out")
    assert {n.split("/", 1)[0] for n in names} == {FILE_CODE}
    package = tmp_path / "out" / FILE_CODE
    mets = etree.parse(str(package / "METS.xml")).getroot()
    ns = {"m": METS_NS}
    assert mets.get("OBJID") == FILE_CODE
    entries = mets.findall("m:fileSec/m:fileGrp/m:file", ns)
    files = registered(documents)
    assert len(entries) == len(files)
    for entry, file in zip(entries, files, strict=True):
        assert entry.get("CHECKSUMTYPE") == "SHA-256"
        assert entry.get("CHECKSUM") == file.sha256
        assert entry.get("SIZE") == str(file.size)
        assert entry.get("MIMETYPE") == file.content_type
        href = entry.find("m:FLocat", ns).get(f"{{{XLINK_NS}}}href")
        assert href.startswith("representations/rep1/data/documents/")
        assert hashlib.sha256((package / href).read_bytes()).hexdigest() == file.sha256
    # Each file is reached from the structural map, the metadata from its dmdSec.
    pointers = [p.get("FILEID") for p in mets.iter(f"{{{METS_NS}}}fptr")]
    assert sorted(pointers) == sorted(e.get("ID") for e in entries)
    md_ref = mets.find("m:dmdSec/m:mdRef", ns)
    descriptive = (package / md_ref.get(f"{{{XLINK_NS}}}href")).read_bytes()
    assert md_ref.get("CHECKSUM") == hashlib.sha256(descriptive).hexdigest()
    assert etree.fromstring(descriptive).findtext(f"{{{NAMESPACE}}}FileCode") == FILE_CODE


async def test_a_hostile_file_code_gives_a_safe_bounded_package_name(tmp_path: Path) -> None:
    store = FakeStore()
    meta = make_meta(file_code="../../" + "Hồ sơ/" * 100 + "\x00")

    archive = await build_bagit(meta, dossier(store), read=store.read, workdir=tmp_path / "work")

    assert archive.parent == tmp_path / "work"
    assert len(archive.name) <= 110
    names = unzip(archive, tmp_path / "out")
    top = {n.split("/", 1)[0] for n in names}
    assert len(top) == 1
    assert top.pop().startswith("Ho_so_Ho_so")
