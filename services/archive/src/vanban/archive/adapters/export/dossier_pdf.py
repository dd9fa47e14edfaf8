"""A dossier as one PDF: the cover sheet (bìa hồ sơ), the list of its documents (mục lục văn
bản, each with the pages it takes in this PDF), then every document's files page by page.

A file PDFium cannot open (not a PDF, damaged, protected by a password, without pages) is
replaced by one page saying so, with its name and SHA-256: the PDF is a reading copy, the
bags hold every file as registered.

The documents are merged first, so that the list can give each one's exact pages; the cover
and list are then drawn (again if their own length moved the pages) and put in front. PDFium
is not thread-safe: each use holds `PDFIUM_LOCK`, taken step by step so that other PDF work of
the process is not held up by a long merge. The merged document lives in PDFium's memory until
it is saved: a dossier's PDF costs about its size in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer

from vanban.archive.adapters.export.fetch import Fetcher, published, staging
from vanban.archive.adapters.export.model import (
    DossierMetadata,
    ExportDocument,
    Progress,
    Reader,
)
from vanban.archive.adapters.export.names import PayloadFile, package_name, payload_files
from vanban.archive.adapters.export.text import clip, vn_date
from vanban.archive.adapters.export.typeset import FRAME_WIDTH, grid, para, render, styles
from vanban.platform.pdf import PDFIUM_LOCK

SECRECY_LABELS = {
    "none": "",
    "confidential": "Mật",
    "secret": "Tối mật",
    "top_secret": "Tuyệt mật",
}
_OPEN_PROBLEMS = {
    pdfium_c.FPDF_ERR_PASSWORD: "tệp được bảo vệ bằng mật khẩu",
    pdfium_c.FPDF_ERR_SECURITY: "tệp được mã hóa theo cách không đọc được",
}
NOT_A_PDF = "tệp không phải là PDF hoặc đã bị hỏng"
NO_PAGES = "tệp PDF không có trang nào"
NOT_IMPORTED = "không chép được các trang của tệp"
# The list is drawn again while its own length changes the pages it gives; it settles at once
# unless a page number's width wraps a row, so a few rounds are plenty.
_LAYOUT_ROUNDS = 4


@dataclass(slots=True)
class _Part:
    item: PayloadFile
    first_page: int = 0  # 1-based, in the merged PDF
    pages: int = 0
    problem: str = ""


async def build_pdf(
    meta: DossierMetadata,
    documents: Iterable[ExportDocument],
    *,
    read: Reader,
    workdir: Path,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Path:
    """Builds `workdir/<file code>.pdf` and returns its path. `now` (default: the local
    time) is the date the cover says the PDF was made."""
    when = now if now is not None else datetime.now().astimezone()
    ordered = sorted(documents, key=lambda d: d.position)
    files = payload_files(ordered)
    fetcher = Fetcher(read, total=len(files), progress=progress)
    final = workdir / f"{package_name(meta)}.pdf"
    async with staging(workdir, ".pdf-") as stage:
        body = await asyncio.to_thread(_new_document)
        try:
            parts: list[_Part] = []
            for number, item in enumerate(files):
                path = stage / f"{number:06d}"
                await fetcher.copy_to(item.file, path)
                part = _Part(item=item)
                await asyncio.to_thread(_append, body, path, part)
                await asyncio.to_thread(path.unlink)
                parts.append(part)
            front, _ = await asyncio.to_thread(_front_matter, meta, ordered, parts, when)
            async with published(final) as partial:
                await asyncio.to_thread(_finish, body, front, partial)
        finally:
            await asyncio.to_thread(_close, body)
    return final


def _new_document() -> pdfium.PdfDocument:
    with PDFIUM_LOCK:
        document: pdfium.PdfDocument = pdfium.PdfDocument.new()
        return document


def _close(document: pdfium.PdfDocument) -> None:
    with PDFIUM_LOCK:
        document.close()


def _append(body: pdfium.PdfDocument, path: Path, part: _Part) -> None:
    """Appends the file's pages to `body`, or a page saying why it could not."""
    with PDFIUM_LOCK:
        part.first_page = len(body) + 1
        try:
            source = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            part.problem = _OPEN_PROBLEMS.get(exc.err_code, NOT_A_PDF)
        else:
            try:
                if len(source) == 0:
                    part.problem = NO_PAGES
                else:
                    body.import_pages(source)
                    part.pages = len(source)
            except pdfium.PdfiumError:
                part.problem = NOT_IMPORTED
                # A failed import may have added some pages: take them out again.
                while len(body) >= part.first_page:
                    body.del_page(len(body) - 1)
            finally:
                source.close()
    if part.problem:
        placeholder = _placeholder(part)
        with PDFIUM_LOCK:
            source = pdfium.PdfDocument(placeholder)
            try:
                body.import_pages(source)
                part.pages = len(source)
            finally:
                source.close()


def _finish(body: pdfium.PdfDocument, front: bytes, out: Path) -> None:
    with PDFIUM_LOCK:
        source = pdfium.PdfDocument(front)
        try:
            body.import_pages(source, index=0)
        finally:
            source.close()
        body.save(out)


def _front_matter(
    meta: DossierMetadata,
    documents: Sequence[ExportDocument],
    parts: Sequence[_Part],
    when: datetime,
) -> tuple[bytes, int]:
    def draw(offset: int) -> tuple[bytes, int]:
        return render(
            _front_story(meta, documents, parts, offset=offset, when=when),
            title=f"Hồ sơ {meta.file_code} - {meta.title}",
            author=meta.agency_name,
            numbered=False,
        )

    offset = 2  # a cover and a one-page list
    pdf, pages = draw(offset)
    for _ in range(_LAYOUT_ROUNDS):
        if pages == offset:
            break
        offset = pages
        pdf, pages = draw(offset)
    return pdf, pages


def _number_and_notation(document: ExportDocument) -> str:
    parts = [p for p in (document.code_number.strip(), document.code_notation.strip()) if p]
    return "/".join(parts)


def _front_story(
    meta: DossierMetadata,
    documents: Sequence[ExportDocument],
    parts: Sequence[_Part],
    *,
    offset: int,
    when: datetime,
) -> list[Flowable]:
    s = styles()
    story: list[Flowable] = [
        para(clip(meta.agency_name).upper(), s.centre_bold),
        para(f"Mã cơ quan: {meta.agency_code}", s.centre),
        Spacer(1, 20 * mm),
        para(f"Mã hồ sơ: {meta.file_code}", s.centre_bold),
        Spacer(1, 12 * mm),
        para("HỒ SƠ", s.cover),
        Spacer(1, 6 * mm),
        para(clip(meta.title), s.title),
        Spacer(1, 14 * mm),
    ]
    period = (
        f"Từ ngày {vn_date(meta.start_date) or '...'} đến ngày {vn_date(meta.end_date) or '...'}"
    )
    facts = [
        period,
        f"Gồm {meta.doc_total} văn bản, {meta.page_total} trang",
        f"Thời hạn bảo quản: {meta.maintenance.label}",
        f"Chế độ sử dụng: {meta.rights.label}",
        f"Người lập hồ sơ: {clip(meta.creator)}",
        f"Năm: {meta.year}",
    ]
    story += [para(line, s.centre) for line in facts]
    if meta.description.strip():
        story += [
            Spacer(1, 6 * mm),
            para(f"Ghi chú: {clip(meta.description, 3000)}", s.centre, lines=True),
        ]
    story += [
        Spacer(1, 20 * mm),
        para(f"Bản PDF lập ngày {vn_date(when.date())} từ hệ thống quản lý văn bản.", s.centre),
        PageBreak(),
        para("MỤC LỤC VĂN BẢN", s.title),
        para(f"Hồ sơ {clip(meta.file_code)}: {clip(meta.title)}", s.centre),
        Spacer(1, 4 * mm),
    ]

    by_document: dict[int, list[_Part]] = {}
    for part in parts:
        by_document.setdefault(id(part.item.document), []).append(part)
    header = [
        para(text, s.cell_head)
        for text in (
            "STT",
            "Số và ký hiệu văn bản",
            "Ngày tháng văn bản",
            "Tác giả văn bản",
            "Trích yếu nội dung văn bản",
            "Tờ số",
            "Số trang",
            "Ghi chú",
        )
    ]
    rows: list[list[Paragraph]] = [header]
    for document in documents:
        own = by_document.get(id(document), [])
        pages = [p for p in own if p.pages]
        if pages:
            first = pages[0].first_page + offset
            last = pages[-1].first_page + pages[-1].pages - 1 + offset
            sheets = str(first) if first == last else f"{first}–{last}"
        else:
            sheets = "—"
        notes = [SECRECY_LABELS.get(document.secrecy, document.secrecy)]
        if not document.files:
            notes.append("Không có tệp")
        missing = sum(1 for p in own if p.problem)
        if missing:
            notes.append(f"{missing} tệp không đưa vào được")
        rows.append(
            [
                para(str(document.position), s.cell_centre),
                para(_number_and_notation(document), s.cell),
                para(vn_date(document.issued_date), s.cell_centre),
                para(clip(document.issuer_name), s.cell),
                para(clip(document.subject), s.cell),
                para(sheets, s.cell_centre),
                para(str(document.page_amount), s.cell_centre),
                para("; ".join(n for n in notes if n), s.cell),
            ]
        )
    if not documents:
        empty = [para("", s.cell) for _ in header]
        empty[4] = para("Hồ sơ chưa có văn bản.", s.cell)
        rows.append(empty)
    widths = [9, 25, 19, 27, 50, 19, 12, 19]  # mm, as wide as the frame
    scale = FRAME_WIDTH / (sum(widths) * mm)
    story.append(grid(rows, [w * mm * scale for w in widths]))
    return story


def _placeholder(part: _Part) -> bytes:
    s = styles()
    document, file = part.item.document, part.item.file
    story: list[Flowable] = [
        Spacer(1, 30 * mm),
        para("KHÔNG ĐƯA ĐƯỢC TỆP NÀY VÀO BẢN PDF", s.title),
        Spacer(1, 8 * mm),
        para(
            f"Một tệp của văn bản số thứ tự {document.position} không thể đưa vào bản PDF của "
            f"hồ sơ: {part.problem}. Tệp vẫn được lưu giữ nguyên vẹn và có trong gói xuất "
            "BagIt và E-ARK của hồ sơ.",
            s.body,
        ),
        Spacer(1, 4 * mm),
        para(f"Số và ký hiệu văn bản: {_number_and_notation(document) or '—'}", s.body),
        para(f"Trích yếu: {clip(document.subject) or '—'}", s.body),
        para(f"Tên tệp: {clip(file.name) or '(không có tên)'}", s.body),
        para(f"Kiểu tệp: {file.content_type or '—'}", s.body),
        para(f"Dung lượng: {file.size} byte", s.body),
        para(f"SHA-256: {file.sha256}", s.body),
    ]
    pdf, _ = render(story, title="Tệp không đưa vào được", author="", numbered=False)
    return pdf
