"""The dossier as one PDF, and the handover and disposition records, read back with PDFium as
a reader would see them: page counts, Vietnamese text, page ranges in the list of documents."""

from __future__ import annotations

import asyncio
import hashlib
import io
import unicodedata
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from reportlab.pdfgen.canvas import Canvas

from vanban.archive.adapters.export.dossier_pdf import build_pdf
from vanban.archive.adapters.export.model import (
    Coded,
    DispositionRecord,
    DossierMetadata,
    ExportDocument,
    ExportFile,
    HandoverRecord,
)
from vanban.archive.adapters.export.records import (
    disposition_record_pdf,
    handover_record_pdf,
    long_vn_date,
)
from vanban.platform.pdf import PDFIUM_LOCK

FILE_CODE = "000.00.00.H99.2026.01.TCCB"


class FakeStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def add(self, data: bytes, name: str, content_type: str = "application/pdf") -> ExportFile:
        sha256 = hashlib.sha256(data).hexdigest()
        self.blobs[sha256] = data
        return ExportFile(sha256=sha256, size=len(data), content_type=content_type, name=name)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        data = self.blobs[sha256]
        for start in range(0, len(data), 4096):
            await asyncio.sleep(0)
            yield data[start : start + 4096]


def make_pdf(pages: int, marker: str, *, password: str | None = None) -> bytes:
    out = io.BytesIO()
    encrypt = None
    if password is not None:
        from reportlab.lib.pdfencrypt import StandardEncryption

        encrypt = StandardEncryption(password, canPrint=0)
    canvas = Canvas(out, invariant=1, encrypt=encrypt)
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
        "maintenance": Coded("02", "70 năm"),
        "rights": Coded("02", "Sử dụng có điều kiện"),
        "creator": "Phòng Tổ chức cán bộ",
        "language": "vi",
        "start_date": date(2026, 1, 5),
        "end_date": date(2026, 11, 30),
        "doc_total": 2,
        "page_total": 6,
        "description": "Ghi chú: <b>không</b> phải markup & vẫn in đúng",
    }
    return DossierMetadata(**(values | overrides))


def make_document(position: int, *files: ExportFile, **overrides: Any) -> ExportDocument:
    values: dict[str, Any] = {
        "position": position,
        "kind": "incoming",
        "document_id": f"doc-{position}",
        "identifier": f"id-{position}",
        "code_number": f"{position:02d}",
        "code_notation": "QĐ-UBND",
        "issued_date": date(2026, 2, 3),
        "issuer_name": "Bộ Nội vụ",
        "document_type": "Quyết định",
        "subject": f"Về việc tuyển dụng công chức đợt {position}",
        "page_amount": 2,
        "secrecy": "none",
        "files": files,
    }
    return ExportDocument(**(values | overrides))


def pages_text(pdf: bytes | Path) -> list[str]:
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            texts = [str(page.get_textpage().get_text_range()) for page in document]
        finally:
            document.close()
    # Normalise line breaks the table wraps and the composed form of Vietnamese letters.
    return [unicodedata.normalize("NFC", " ".join(t.split())) for t in texts]


async def test_the_pdf_is_cover_list_then_every_page_of_every_document(tmp_path: Path) -> None:
    store = FakeStore()
    documents = [
        make_document(2, store.add(make_pdf(3, "SECOND"), "Tờ trình.pdf")),
        make_document(1, store.add(make_pdf(2, "FIRST"), "Quyết định.pdf")),
    ]

    path = await build_pdf(make_meta(), documents, read=store.read, workdir=tmp_path)

    assert path == tmp_path / f"{FILE_CODE}.pdf"
    texts = pages_text(path)
    assert len(texts) == 2 + 2 + 3
    cover, listing = texts[0], texts[1]
    assert "HỒ SƠ" in cover
    assert "ỦY BAN NHÂN DÂN TỈNH HÀ TĨNH" in cover
    assert FILE_CODE in cover
    assert "Hồ sơ tuyển dụng công chức năm 2026" in cover
    assert "Thời hạn bảo quản: 70 năm" in cover
    assert "Chế độ sử dụng: Sử dụng có điều kiện" in cover
    assert "Từ ngày 05/01/2026 đến ngày 30/11/2026" in cover
    assert "Gồm 2 văn bản, 6 trang" in cover
    assert "<b>không</b> phải markup & vẫn in đúng" in cover
    assert "MỤC LỤC VĂN BẢN" in listing
    assert "01/QĐ-UBND" in listing and "02/QĐ-UBND" in listing
    assert "Về việc tuyển dụng công chức đợt 1" in listing
    assert "3–4" in listing and "5–7" in listing
    assert [t.split(" page")[0] for t in texts[2:]] == ["FIRST"] * 2 + ["SECOND"] * 3


async def test_a_file_that_cannot_be_included_gets_a_page_saying_so(tmp_path: Path) -> None:
    store = FakeStore()
    text_file = store.add(b"not a pdf at all", "bảng kê.txt", "text/plain")
    locked = store.add(make_pdf(2, "LOCKED", password="secret"), "khóa.pdf")
    documents = [
        make_document(1, text_file, store.add(make_pdf(1, "REAL"), "ok.pdf"), locked),
        make_document(2, secrecy="confidential"),
    ]

    path = await build_pdf(make_meta(), documents, read=store.read, workdir=tmp_path)

    texts = pages_text(path)
    assert len(texts) == 2 + 1 + 1 + 1
    placeholder, real, protected = texts[2], texts[3], texts[4]
    assert "KHÔNG ĐƯA ĐƯỢC TỆP NÀY VÀO BẢN PDF" in placeholder
    assert "không phải là PDF" in placeholder
    assert "bảng kê.txt" in placeholder
    assert text_file.sha256 in placeholder
    assert real.startswith("REAL page 1")
    assert "mật khẩu" in protected
    assert locked.sha256 in protected
    listing = texts[1]
    assert "3–5" in listing
    assert "2 tệp không đưa vào được" in listing
    assert "Mật; Không có tệp" in listing


async def test_a_long_dossier_gives_each_document_its_true_pages(tmp_path: Path) -> None:
    store = FakeStore()
    count = 70  # the list runs over several pages
    documents = [
        make_document(
            n,
            store.add(make_pdf(1 + n % 3, f"DOC{n:03d}"), f"{n}.pdf"),
            subject=f"Về việc số {n} " + "rất dài " * 12,
        )
        for n in range(1, count + 1)
    ]

    path = await build_pdf(make_meta(), documents, read=store.read, workdir=tmp_path)

    texts = pages_text(path)
    body = sum(1 + n % 3 for n in range(1, count + 1))
    front = len(texts) - body
    assert front > 2
    listing = " ".join(texts[1:front])
    page = front + 1
    for n in range(1, count + 1):
        pages = 1 + n % 3
        # The page the list names is the one that holds the document's first page.
        assert texts[page - 1].startswith(f"DOC{n:03d} page 1")
        expected = str(page) if pages == 1 else f"{page}–{page + pages - 1}"
        assert f" {expected} " in f" {listing} "
        page += pages


async def test_a_dossier_without_documents_is_a_cover_and_an_empty_list(tmp_path: Path) -> None:
    path = await build_pdf(
        make_meta(doc_total=0, page_total=0), [], read=FakeStore().read, workdir=tmp_path
    )

    texts = pages_text(path)
    assert len(texts) == 2
    assert "Hồ sơ chưa có văn bản." in texts[1]


def dossier_summary(code: str, title: str, **overrides: Any) -> DossierMetadata:
    return make_meta(file_code=code, title=title, **overrides)


def test_the_handover_record_lists_the_dossiers_and_both_sides() -> None:
    record = HandoverRecord(
        agency_code="000.00.00.H99",
        agency_name="Ủy ban nhân dân tỉnh Hà Tĩnh",
        handover_id="handover-42",
        handed_over_on=date(2027, 2, 5),
        handing_unit="Phòng Tổ chức cán bộ",
        handing_person="Nguyễn Thị Hương",
        handing_person_title="Chuyên viên",
        archivist="Trần Văn Đức",
        record_number="03/BB-LT",
        place="Hà Tĩnh",
        dossiers=(
            dossier_summary(FILE_CODE, "Hồ sơ tuyển dụng công chức năm 2026"),
            dossier_summary(
                "000.00.00.H99.2026.02.TCCB",
                "Hồ sơ nâng lương <2026> & phụ cấp\x07",
                start_date=date(2025, 12, 1),
                doc_total=5,
                page_total=11,
            ),
        ),
    )

    texts = pages_text(handover_record_pdf(record))

    whole = " ".join(texts)
    assert "BIÊN BẢN" in whole
    assert "Về việc giao nộp hồ sơ, tài liệu vào Lưu trữ cơ quan" in whole
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in whole
    assert "Hà Tĩnh, ngày 05 tháng 02 năm 2027" in whole
    assert "Số: 03/BB-LT" in whole
    assert "Nguyễn Thị Hương" in whole and "Trần Văn Đức" in whole
    assert FILE_CODE in whole and "000.00.00.H99.2026.02.TCCB" in whole
    assert "Hồ sơ nâng lương <2026> & phụ cấp" in whole
    assert "2 hồ sơ, 7 văn bản, 17 trang" in whole
    assert "từ 01/12/2025 đến 30/11/2026" in whole
    assert "ĐẠI DIỆN BÊN GIAO NỘP" in whole and "ĐẠI DIỆN BÊN NHẬN" in whole


def test_the_disposition_record_names_the_approval_and_every_dossier() -> None:
    dossiers = tuple(
        dossier_summary(
            f"000.00.00.H99.2016.{n:02d}.VP",
            f"Hồ sơ hết giá trị số {n}",
            maintenance=Coded("06", "10 năm"),
            end_date=date(2016, 12, 31),
            doc_total=1,
            page_total=2,
        )
        for n in range(1, 41)
    )
    record = DispositionRecord(
        agency_code="000.00.00.H99",
        agency_name="Ủy ban nhân dân tỉnh Hà Tĩnh",
        proposal_id="proposal-7",
        reason="Hết thời hạn bảo quản 10 năm,\nkhông còn giá trị",
        approver_name="Lê Văn Minh",
        approver_title="Chánh Văn phòng",
        approved_on=date(2027, 3, 1),
        destroyed_on=date(2027, 3, 15),
        performed_by="Trần Văn Đức",
        dossiers=dossiers,
    )

    pdf = disposition_record_pdf(record)

    texts = pages_text(pdf)
    whole = " ".join(texts)
    assert len(texts) >= 2  # forty rows do not fit on one page
    assert "Về việc hủy tài liệu hết giá trị" in whole
    assert "proposal-7" in whole
    assert "Hết thời hạn bảo quản 10 năm, không còn giá trị" in whole
    assert "Chánh Văn phòng Lê Văn Minh phê duyệt ngày 01 tháng 3 năm 2027" in whole
    assert all(d.file_code in whole for d in dossiers)
    assert "40 hồ sơ, 40 văn bản, 80 trang" in whole
    assert "lưu giữ vĩnh viễn" in whole
    assert pdf == disposition_record_pdf(record)


def test_dates_in_records_take_a_zero_before_small_days_and_early_months() -> None:
    assert long_vn_date(date(2027, 2, 5)) == "ngày 05 tháng 02 năm 2027"
    assert long_vn_date(date(2027, 11, 25)) == "ngày 25 tháng 11 năm 2027"
    assert long_vn_date(date(2027, 3, 1)) == "ngày 01 tháng 3 năm 2027"


async def test_hostile_text_never_breaks_the_pdf(tmp_path: Path) -> None:
    store = FakeStore()
    junk = "X" * 5000 + ' <b>&amp; <para> \x00\x01\ud800 "' + " từ" * 3000
    hostile = store.add(b"junk", "N" * 100_000 + "\x00/..", "\x00/\x01")
    documents = [
        make_document(1, hostile, subject=junk, issuer_name=junk, code_notation=junk),
        make_document(2, store.add(make_pdf(1, "AFTER"), "after.pdf")),
    ]
    meta = make_meta(title=junk, description=junk, creator=junk, agency_name=junk)

    path = await build_pdf(meta, documents, read=store.read, workdir=tmp_path)

    texts = pages_text(path)
    assert texts[-1].startswith("AFTER page 1")
    assert any("<b>&amp; <para>" in t for t in texts)
    assert any(hostile.sha256 in t for t in texts)
