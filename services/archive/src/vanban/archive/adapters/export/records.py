"""Records of the agency's archive as PDF: the handover record (biên bản giao nộp hồ sơ, tài
liệu vào Lưu trữ cơ quan) and the disposition record (biên bản hủy tài liệu hết giá trị, kept
for ever). Small documents: built whole in memory, returned as bytes; blocking (reportlab),
so the service calls them in a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from vanban.archive.adapters.export.model import DispositionRecord, DossierMetadata, HandoverRecord
from vanban.archive.adapters.export.text import clip, vn_date
from vanban.archive.adapters.export.typeset import (
    FRAME_WIDTH,
    Styles,
    grid,
    national_heading,
    para,
    render,
    styles,
)


def long_vn_date(value: date) -> str:
    """ "ngày 05 tháng 3 năm 2026": a day below 10 and the months 1 and 2 take a leading zero
    (Decree 30/2020, appendix I)."""
    month = f"{value.month:02d}" if value.month <= 2 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


def handover_record_pdf(record: HandoverRecord) -> bytes:
    """The handover record of `record.dossiers`, with the list of the dossiers and a place for
    both sides to sign."""
    s = styles()
    dossiers = record.dossiers
    story: list[Flowable] = [
        *_opening(record.agency_name, record.record_number, record.place, record.handed_over_on, s)
    ]
    story += [
        para("BIÊN BẢN", s.title),
        para("Về việc giao nộp hồ sơ, tài liệu vào Lưu trữ cơ quan", s.centre_bold),
        Spacer(1, 6 * mm),
        para(f"Hôm nay, {long_vn_date(record.handed_over_on)}, chúng tôi gồm:", s.body),
        para(f"BÊN GIAO NỘP: {record.handing_unit}", s.body_bold),
        para(
            f"Ông (bà): {record.handing_person}"
            + (f" - Chức vụ: {record.handing_person_title}" if record.handing_person_title else ""),
            s.body,
        ),
        para(f"BÊN NHẬN: Lưu trữ cơ quan - {record.agency_name}", s.body_bold),
        para(f"Ông (bà): {record.archivist} - Người làm lưu trữ cơ quan", s.body),
        para("Thống nhất lập biên bản giao nhận hồ sơ, tài liệu như sau:", s.body),
        para(f"1. Tên khối tài liệu giao nộp: hồ sơ điện tử của {record.handing_unit}.", s.body),
        para(f"2. Thời gian của tài liệu: {_span(dossiers)}.", s.body),
        para(f"3. Số lượng tài liệu: {_totals(dossiers)}.", s.body),
        para("4. Mục lục hồ sơ, tài liệu giao nộp:", s.body),
    ]
    header = [
        "STT",
        "Mã hồ sơ",
        "Tiêu đề hồ sơ",
        "Thời gian bắt đầu - kết thúc",
        "Thời hạn bảo quản",
        "Số văn bản",
        "Số trang",
    ]
    rows: list[list[object]] = [[para(text, s.cell_head) for text in header]]
    for number, dossier in enumerate(dossiers, start=1):
        rows.append(
            [
                para(str(number), s.cell_centre),
                para(dossier.file_code, s.cell),
                para(clip(dossier.title), s.cell),
                para(
                    f"{vn_date(dossier.start_date) or '...'} - {vn_date(dossier.end_date) or '...'}",
                    s.cell_centre,
                ),
                para(dossier.maintenance.label, s.cell_centre),
                para(str(dossier.doc_total), s.cell_centre),
                para(str(dossier.page_total), s.cell_centre),
            ]
        )
    rows.append(_total_row(dossiers, s, label_column=2, width=7, doc_column=5))
    story.append(grid(rows, _widths([9, 46, 52, 24, 19, 15, 15])))
    if record.note.strip():
        story.append(para(f"Ghi chú: {record.note}", s.body, lines=True))
    story += [
        Spacer(1, 3 * mm),
        para(
            "Biên bản này được lập thành hai bản; bên giao nộp giữ một bản, Lưu trữ cơ quan "
            "giữ một bản.",
            s.body,
        ),
        para(f"Mã giao nộp trên hệ thống: {record.handover_id}", s.body),
        Spacer(1, 6 * mm),
        _signatures(
            ("ĐẠI DIỆN BÊN GIAO NỘP", record.handing_person),
            ("ĐẠI DIỆN BÊN NHẬN", record.archivist),
            s,
        ),
    ]
    pdf, _ = render(
        story,
        title="Biên bản giao nộp hồ sơ, tài liệu vào Lưu trữ cơ quan",
        author=record.agency_name,
    )
    return pdf


def disposition_record_pdf(record: DispositionRecord) -> bytes:
    """The record of the destruction of `record.dossiers`, once approved."""
    s = styles()
    dossiers = record.dossiers
    approver = " ".join(p for p in (record.approver_title, record.approver_name) if p.strip())
    basis = record.decision_ref.strip() or f"đề nghị hủy tài liệu mã {record.proposal_id}"
    story: list[Flowable] = [
        *_opening(record.agency_name, record.record_number, record.place, record.destroyed_on, s)
    ]
    story += [
        para("BIÊN BẢN", s.title),
        para("Về việc hủy tài liệu hết giá trị", s.centre_bold),
        Spacer(1, 6 * mm),
        para(
            f"Căn cứ {basis}, đã được {approver} phê duyệt {long_vn_date(record.approved_on)};",
            s.body,
        ),
        para(
            f"Hôm nay, {long_vn_date(record.destroyed_on)}, {record.performed_by} đã tiến hành "
            "hủy các hồ sơ, tài liệu hết giá trị dưới đây.",
            s.body,
        ),
        para(f"Mã đề nghị hủy: {record.proposal_id}", s.body),
        para(f"Lý do hủy: {record.reason}", s.body, lines=True),
        para("Hình thức hủy: xóa dữ liệu điện tử.", s.body),
        para("Danh mục hồ sơ, tài liệu đã hủy:", s.body),
    ]
    header = [
        "STT",
        "Mã hồ sơ",
        "Tiêu đề hồ sơ",
        "Thời hạn bảo quản",
        "Ngày kết thúc",
        "Số văn bản",
        "Số trang",
    ]
    rows: list[list[object]] = [[para(text, s.cell_head) for text in header]]
    for number, dossier in enumerate(dossiers, start=1):
        rows.append(
            [
                para(str(number), s.cell_centre),
                para(dossier.file_code, s.cell),
                para(clip(dossier.title), s.cell),
                para(dossier.maintenance.label, s.cell_centre),
                para(vn_date(dossier.end_date) or "...", s.cell_centre),
                para(str(dossier.doc_total), s.cell_centre),
                para(str(dossier.page_total), s.cell_centre),
            ]
        )
    rows.append(_total_row(dossiers, s, label_column=2, width=7, doc_column=5))
    story.append(grid(rows, _widths([9, 46, 57, 19, 19, 15, 15])))
    story += [
        para(f"Tổng cộng: {_totals(dossiers)}.", s.body_bold),
        para("Biên bản này được lưu giữ vĩnh viễn tại Lưu trữ cơ quan.", s.body),
        Spacer(1, 6 * mm),
        _signatures(
            ("NGƯỜI THỰC HIỆN", record.performed_by),
            ("NGƯỜI PHÊ DUYỆT", record.approver_name),
            s,
        ),
    ]
    pdf, _ = render(story, title="Biên bản hủy tài liệu hết giá trị", author=record.agency_name)
    return pdf


def _opening(agency_name: str, number: str, place: str, day: date, s: Styles) -> list[Flowable]:
    number_text = f"Số: {number}" if number.strip() else ""
    where = f"{place}, {long_vn_date(day)}" if place.strip() else long_vn_date(day).capitalize()
    line = Table(
        [[para(number_text, s.centre), para(where, s.centre)]],
        colWidths=[FRAME_WIDTH * 0.42, FRAME_WIDTH * 0.58],
    )
    line.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [national_heading(agency_name, s), line, Spacer(1, 8 * mm)]


def _span(dossiers: Sequence[DossierMetadata]) -> str:
    starts = [d.start_date for d in dossiers if d.start_date is not None]
    ends = [d.end_date for d in dossiers if d.end_date is not None]
    if not starts and not ends:
        return "không rõ"
    first = vn_date(min(starts)) if starts else "..."
    last = vn_date(max(ends)) if ends else "..."
    return f"từ {first} đến {last}"


def _totals(dossiers: Sequence[DossierMetadata]) -> str:
    documents = sum(d.doc_total for d in dossiers)
    pages = sum(d.page_total for d in dossiers)
    return f"{len(dossiers)} hồ sơ, {documents} văn bản, {pages} trang"


def _total_row(
    dossiers: Sequence[DossierMetadata],
    s: Styles,
    *,
    label_column: int,
    width: int,
    doc_column: int,
) -> list[object]:
    row: list[object] = [para("", s.cell) for _ in range(width)]
    row[label_column] = para(f"Cộng: {len(dossiers)} hồ sơ", s.cell_head)
    row[doc_column] = para(str(sum(d.doc_total for d in dossiers)), s.cell_head)
    row[doc_column + 1] = para(str(sum(d.page_total for d in dossiers)), s.cell_head)
    return row


def _widths(relative: Sequence[float]) -> list[float]:
    # In millimetres on the A4 frame (180): a file code of 26 characters fits one line.
    scale = FRAME_WIDTH / sum(relative)
    return [w * scale for w in relative]


def _signatures(left: tuple[str, str], right: tuple[str, str], s: Styles) -> Flowable:
    def block(role: str, name: str) -> list[Flowable]:
        return [
            para(role, s.centre_bold),
            para("(Ký, ghi rõ họ tên)", s.centre),
            Spacer(1, 22 * mm),
            para(name, s.centre_bold),
        ]

    table = Table([[block(*left), block(*right)]], colWidths=[FRAME_WIDTH / 2, FRAME_WIDTH / 2])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    # A signature block is never split from its names across a page.
    return KeepTogether([table])
