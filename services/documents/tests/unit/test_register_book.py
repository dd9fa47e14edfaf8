"""Register books (sổ đăng ký, Decree 30/2020 appendix IV): the period, who may print one, and
the PDF and XLSX files read back as a user would open them."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import openpyxl
import pypdfium2
import pytest

from vanban.documents.adapters.book import render_book
from vanban.documents.domain.numbering import Register, RegisterKind
from vanban.documents.domain.register_book import (
    BOOK_MAX_DAYS,
    INCOMING_COLUMNS,
    OUTGOING_COLUMNS,
    BookFormat,
    BookHeading,
    BookPeriod,
    BookReader,
    BookRow,
    file_name,
    parse_format,
    parse_period,
    readable_register,
    require_book_role,
)
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError

AGENCY = "Ủy ban nhân dân tỉnh Hà Tĩnh"
Q1 = BookPeriod(date(2026, 1, 1), date(2026, 3, 31))


def heading(kind: RegisterKind = RegisterKind.INCOMING, **overrides: Any) -> BookHeading:
    values: dict[str, Any] = {
        "agency_name": AGENCY,
        "register_name": "Sổ văn bản đến",
        "kind": kind,
        "period": Q1,
    }
    return BookHeading(**(values | overrides))


def make_row(number: int, **overrides: Any) -> BookRow:
    values: dict[str, Any] = {
        "year": 2026,
        "number": number,
        "registered_on": date(2026, 2, number % 28 + 1),
        "code": f"{number:02d}/QĐ-UBND",
        "issued_date": date(2026, 1, 20),
        "issuer": "Bộ Nội vụ",
        "document_type": "Quyết định",
        "subject": f"Về việc kiện toàn Hội đồng thi đua khen thưởng đợt {number}",
        "recipients": "Phòng Hành chính",
    }
    return BookRow(**(values | overrides))


ROWS = [
    make_row(1),
    make_row(2, cancelled=True, cancel_reason="Ghi nhầm trích yếu, đã cấp lại số 03"),
    make_row(3, subject="Về việc điều chỉnh quy hoạch đường Nguyễn Huệ, phường Bắc Hà"),
]


# --- the period and the request -----------------------------------------------------------


def test_a_period_is_both_days_included_and_read_as_iso_dates() -> None:
    assert parse_period("2026-01-01", "2026-03-31") == Q1
    assert parse_period("2026-05-04", "2026-05-04").start == date(2026, 5, 4)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-03-31", "2026-01-01", "to"),  # backwards
        ("2025-01-01", "2026-01-01", "to"),  # a year and a day
        ("2026-13-01", "2026-12-31", "from"),
        ("01/01/2026", "2026-12-31", "from"),
        ("", "2026-12-31", "from"),
        ("2026-01-01", "", "to"),
        ("2026-1-1", "2026-12-31", "from"),
        ("9999-12-31", "9999-12-31", "from"),  # no day after it to end the period
        ("0001-01-01", "0001-01-02", "from"),
    ],
)
def test_a_bad_period_names_its_field(start: str, end: str, field: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        parse_period(start, end)
    assert caught.value.reason == "INVALID_BOOK_REQUEST"
    assert field in {v.field for v in caught.value.violations}


def test_a_leap_year_is_one_period_and_a_day_more_is_not() -> None:
    whole = parse_period("2028-01-01", "2028-12-31")
    assert (whole.end - whole.start).days + 1 == BOOK_MAX_DAYS
    with pytest.raises(InvalidArgumentError):
        parse_period("2027-12-31", "2028-12-31")


def test_an_unknown_format_names_the_field() -> None:
    assert parse_format("xlsx") is BookFormat.XLSX
    with pytest.raises(InvalidArgumentError) as caught:
        parse_format("docx")
    assert [v.field for v in caught.value.violations] == ["format"]


def test_the_period_runs_from_vietnam_midnight_to_vietnam_midnight() -> None:
    from zoneinfo import ZoneInfo

    start, until = Q1.bounds(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert start.isoformat() == "2026-01-01T00:00:00+07:00"
    assert until.isoformat() == "2026-04-01T00:00:00+07:00"


def test_the_file_name_is_ascii() -> None:
    name = file_name("incoming-secret", Q1, BookFormat.PDF)
    assert name == "so-dang-ky-incoming-secret-2026-01-01-2026-03-31.pdf"
    assert file_name('a"b/ső', Q1, BookFormat.XLSX).isascii()


# --- who may print one --------------------------------------------------------------------

SECRET_REGISTER = Register(
    id="incoming-secret", name="Sổ văn bản đến (tối mật)", kind=RegisterKind.INCOMING,
    secrecy_levels=frozenset({Secrecy.SECRET}),
)  # fmt: skip


def test_a_specialist_may_not_print_a_book() -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        require_book_role(BookReader(roles=frozenset({"specialist"}), clearance=Clearance.SECRET))
    assert caught.value.reason == "ROLE_REQUIRED"
    require_book_role(BookReader(roles=frozenset({"archivist"}), clearance=Clearance.NONE))


def test_a_register_above_the_clearance_is_not_found() -> None:
    clerk = BookReader(roles=frozenset({"clerk"}), clearance=Clearance.CONFIDENTIAL)
    with pytest.raises(NotFoundError) as caught:
        readable_register(SECRET_REGISTER, clerk, register_id=SECRET_REGISTER.id)
    assert caught.value.reason == "REGISTER_NOT_FOUND"
    cleared = BookReader(roles=frozenset({"clerk"}), clearance=Clearance.TOP_SECRET)
    assert readable_register(SECRET_REGISTER, cleared, register_id="x") is SECRET_REGISTER
    with pytest.raises(NotFoundError):
        readable_register(None, cleared, register_id="nope")


# --- the files ----------------------------------------------------------------------------


def xlsx_rows(data: bytes) -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def pdf_pages(data: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def test_the_incoming_xlsx_has_the_appendix_iv_columns_and_the_rows_in_number_order() -> None:
    data = render_book(ROWS, heading(), BookFormat.XLSX)
    rows = xlsx_rows(data)
    assert rows[0][0] == AGENCY.upper()
    assert rows[1][0] == "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
    assert rows[3][0] == "Năm 2026"
    assert rows[4][0] == "Từ ngày 01/01/2026 đến ngày 31/03/2026"
    header = rows[6]
    assert header == (
        "Ngày đến",
        "Số đến",
        "Tác giả",
        "Số, ký hiệu",
        "Ngày tháng",
        "Tên loại và trích yếu nội dung",
        "Đơn vị hoặc người nhận",
        "Ký nhận",
        "Ghi chú",
    )
    body = rows[7:]
    assert [r[1] for r in body] == [1, 2, 3]
    assert body[0][0].date() == date(2026, 2, 2)  # a real date, sortable
    assert body[0][3] == "01/QĐ-UBND"
    assert body[0][5] == "Quyết định: Về việc kiện toàn Hội đồng thi đua khen thưởng đợt 1"
    assert body[1][8] == "Đã hủy số: Ghi nhầm trích yếu, đã cấp lại số 03"
    assert body[2][5].endswith("đường Nguyễn Huệ, phường Bắc Hà")


def test_the_xlsx_header_is_bold_frozen_and_the_columns_are_wide() -> None:
    data = render_book(ROWS, heading(), BookFormat.XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert all(cell.font.bold for cell in sheet[7])
    assert sheet.freeze_panes == "A8"
    assert sheet.column_dimensions["F"].width == INCOMING_COLUMNS[5].width


def test_the_outgoing_xlsx_has_the_outgoing_columns() -> None:
    row = make_row(
        7, signer="Nguyễn Văn Hùng, KT. Phó Chủ tịch", recipients="Sở Tài chính; Sở Nội vụ",
        keeper="VP", copies=12,
    )  # fmt: skip
    data = render_book([row], heading(RegisterKind.OUTGOING), BookFormat.XLSX)
    rows = xlsx_rows(data)
    assert rows[1][0] == "SỔ ĐĂNG KÝ VĂN BẢN ĐI"
    assert rows[6] == tuple(c.header for c in OUTGOING_COLUMNS)
    assert rows[6][2] == "Tên loại và trích yếu nội dung văn bản"
    assert rows[7][0] == "07/QĐ-UBND"
    assert rows[7][3] == "Nguyễn Văn Hùng, KT. Phó Chủ tịch"
    assert rows[7][4] == "Sở Tài chính; Sở Nội vụ"
    assert rows[7][6] == 12


def test_the_pdf_has_a_title_page_then_the_table_in_number_order() -> None:
    data = render_book(ROWS, heading(), BookFormat.PDF)
    assert data.startswith(b"%PDF-")
    pages = pdf_pages(data)
    title, table = pages[0], "\n".join(pages[1:])
    assert AGENCY.upper() in title
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in title
    assert "Năm 2026" in title
    assert "Từ ngày 01/01/2026 đến ngày 31/03/2026" in title
    flat = " ".join(table.split())  # headers and long cells wrap inside their column
    for column in INCOMING_COLUMNS:
        assert column.header in flat, column.header
    positions = [flat.index(f"{n:02d}/QĐ-UBND") for n in (1, 2, 3)]
    assert positions == sorted(positions)
    assert "Đã hủy số: Ghi nhầm trích yếu, đã cấp lại số 03" in flat
    assert "đường Nguyễn Huệ, phường Bắc Hà" in flat


def test_the_pdf_embeds_its_font() -> None:
    data = render_book(ROWS, heading(), BookFormat.PDF)
    assert b"/FontFile2" in data  # TrueType embedded: the glyphs travel with the file
    assert b"DejaVuSans" in data


def test_every_pdf_page_repeats_the_header_row() -> None:
    rows = [make_row(n) for n in range(1, 121)]
    pages = pdf_pages(render_book(rows, heading(), BookFormat.PDF))
    assert len(pages) > 3
    for page in pages[1:]:
        assert "Tên loại và trích yếu nội dung" in " ".join(page.split())
    flat = " ".join(" ".join(pages).split())
    assert flat.index("119/QĐ-UBND") < flat.index("120/QĐ-UBND")


def test_an_empty_period_still_gives_a_book_that_says_so() -> None:
    pages = pdf_pages(render_book([], heading(), BookFormat.PDF))
    assert "Không có văn bản nào" in pages[1]
    assert xlsx_rows(render_book([], heading(), BookFormat.XLSX))[7:] == []


def test_a_very_long_cell_is_wrapped_not_lost() -> None:
    row = make_row(4, issuer="Ủy ban nhân dân " + "x" * 120)
    flat = "".join(pdf_pages(render_book([row], heading(), BookFormat.PDF))[1].split())
    assert "x" * 120 in flat
