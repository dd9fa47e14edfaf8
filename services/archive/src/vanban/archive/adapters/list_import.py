"""Reading a dossier list (danh mục hồ sơ) from a CSV or XLSX file into numbered rows for
`check_entries`.

Lines are numbered as a spreadsheet shows them: the header is line 1; in CSV every record is a
line, a blank one included and a quoted value with line breaks counted once; in XLSX the line is
the row number. Empty rows are skipped, their numbers kept.

The header names the columns, in English (`code`, `title`, `retention`, `retention_years`,
`access`, `creator_unit`, `responsible`, `notes`) or as the official form prints them ("Số và ký
hiệu hồ sơ", "Tên đề mục và tiêu đề hồ sơ", "Thời hạn bảo quản", ...), compared without case,
diacritics or punctuation. A numbering column (STT) is ignored. A file this module cannot read
at all raises `ListFileError` naming every problem it found (a header without a required column,
an unknown column, a file that is not CSV UTF-8 or XLSX); `check_file` turns that into a report.

Cells are data, never formulas: CSV text such as `=HYPERLINK(...)` or `+84...` is kept as typed,
and an XLSX formula gives the value the spreadsheet last computed and saved (nothing if it never
computed one); nothing is evaluated here. Whoever exports these values to CSV or XLSX later must
neutralise cells that start with `=`, `+`, `-`, `@`, a tab or a carriage return (CSV injection),
e.g. by prefixing an apostrophe, or a spreadsheet will run them.

XLSX is a zip: its declared uncompressed sizes are added up and checked before openpyxl opens it
(a zip bomb is refused unexpanded). Python's zipfile never yields more than a member declares,
so a member that lies about its size is cut short and fails its CRC rather than expanding; only
the methods Excel writes (stored, deflate) are accepted, deflate being inflated in bounded steps.
The sheet XML is parsed by the standard library's expat, which limits entity expansion.
"""

from __future__ import annotations

import csv
import enum
import io
import zipfile
import zlib
from collections.abc import Generator, Sequence
from datetime import date, datetime, time
from pathlib import PureWindowsPath

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from vanban.archive.domain.dossier_list import (
    COLUMNS,
    MAX_LIST_FILE_BYTES,
    MAX_LIST_ROWS,
    REQUIRED_COLUMNS,
    WHOLE_FILE,
    ImportProblem,
    ImportReport,
    ListFileError,
    check_entries,
    folded,
)

MAX_XLSX_EXPANDED_BYTES = 20 * 1024 * 1024
HEADER_LINE = 1
CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_DELIMITERS = (",", ";")

# Header names, folded (see `folded`): the column names and what the official form prints.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "code": ("code", "Số và ký hiệu hồ sơ", "Ký hiệu hồ sơ", "Số ký hiệu hồ sơ", "Mã hồ sơ"),
    "title": ("title", "Tên đề mục và tiêu đề hồ sơ", "Tiêu đề hồ sơ", "Tên hồ sơ"),
    "retention": ("retention", "Thời hạn bảo quản"),
    "retention_years": ("retention_years", "Số năm bảo quản"),
    "access": ("access", "Chế độ sử dụng", "Chế độ truy cập"),
    # The form's "Đơn vị/người lập hồ sơ" column holds the unit.
    "creator_unit": ("creator_unit", "Đơn vị lập hồ sơ", "Đơn vị/người lập hồ sơ"),
    "responsible": ("responsible", "Người lập hồ sơ"),
    "notes": ("notes", "Ghi chú"),
}
# A numbering column, as most forms have: ignored, the line number is what a problem names.
IGNORED_HEADERS = ("STT", "Số TT", "Số thứ tự")

_FIELD_BY_HEADER = {folded(name): field for field, names in HEADER_NAMES.items() for name in names}
_IGNORED = frozenset(folded(name) for name in IGNORED_HEADERS)
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_ZIP_ENCRYPTED = 0x1
# What openpyxl raises on a zip that is not a well-formed workbook (a missing part, bad XML, an
# attribute of the wrong type, a corrupt or truncated member).
_BROKEN_WORKBOOK = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    SyntaxError,  # xml.etree's ParseError and lxml's XMLSyntaxError
    InvalidFileException,
)
_NOT_XLSX = (
    "is not an XLSX workbook; save it from the spreadsheet as Excel Workbook (.xlsx), "
    "without a password, or as CSV UTF-8"
)

_DAMAGED_SHEET = (
    "cannot be read: the worksheet is damaged from this row on; save the workbook again"
)


class ListFormat(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"


# What a header cell names: a field, `_SKIP` (a numbering column), or None (nothing it knows).
_Column = str | None
_SKIP = ""
_Lines = Generator[tuple[int, Sequence[str]], None, None]


def list_format(*, media_type: str | None = None, filename: str | None = None) -> ListFormat:
    """By the media type, else by the file name (browsers send CSV as octet-stream, text/plain
    or even application/vnd.ms-excel)."""
    kind = (media_type or "").split(";")[0].strip().lower()
    if kind in CSV_MEDIA_TYPES:
        return ListFormat.CSV
    if kind == XLSX_MEDIA_TYPE:
        return ListFormat.XLSX
    suffix = PureWindowsPath(filename or "").suffix.lower()  # either kind of separator
    if suffix == ".csv":
        return ListFormat.CSV
    if suffix == ".xlsx":
        return ListFormat.XLSX
    message = "must be a CSV or XLSX file: send it as text/csv or XLSX, or name it .csv or .xlsx"
    if suffix in (".xls", ".ods", ".xlsm", ".xlsb"):
        message = f"is a {suffix} file; save it as Excel Workbook (.xlsx) or as CSV UTF-8"
    raise ListFileError([ImportProblem(WHOLE_FILE, "", message)])


def read_rows(
    data: bytes, *, media_type: str | None = None, filename: str | None = None
) -> list[tuple[int, dict[str, str]]]:
    """The non-empty rows under the header, each with its line number and its values by field
    (a value in a column without a header is named by its column, such as `column F`).

    Stops after `MAX_LIST_ROWS` + 1 rows: `check_entries` refuses the list then anyway.
    """
    file_format = list_format(media_type=media_type, filename=filename)
    if len(data) > MAX_LIST_FILE_BYTES:
        raise ListFileError(
            [
                ImportProblem(
                    WHOLE_FILE,
                    "",
                    f"is {len(data)} bytes; a list file takes at most {MAX_LIST_FILE_BYTES}",
                )
            ]
        )
    if not data:
        raise ListFileError([ImportProblem(WHOLE_FILE, "", "is empty")])
    lines = _csv_lines(data) if file_format is ListFormat.CSV else _xlsx_lines(data)
    try:
        return _rows(lines)
    finally:
        lines.close()  # an XLSX workbook holds the zip open until then


def check_file(
    data: bytes, *, year: int, media_type: str | None = None, filename: str | None = None
) -> ImportReport:
    """The dry run of an import: every problem of the file, by line; nothing is stored."""
    try:
        rows = read_rows(data, media_type=media_type, filename=filename)
    except ListFileError as exc:
        return ImportReport(rows=0, entries=(), problems=exc.problems)
    return check_entries(rows, year=year)


def _rows(lines: _Lines) -> list[tuple[int, dict[str, str]]]:
    first = next(lines, None)
    if first is None or first[0] != HEADER_LINE or not any(cell.strip() for cell in first[1]):
        raise ListFileError(
            [ImportProblem(HEADER_LINE, "", "must be the header naming the columns, such as code")]
        )
    columns = _columns(first[1])
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in lines:
        row = _row(columns, cells)
        if row is None:
            continue
        rows.append((number, row))
        if len(rows) > MAX_LIST_ROWS:
            break
    return rows


def _columns(header: Sequence[str]) -> list[_Column]:
    """The field of every header cell; every problem of the header at once."""
    problems: list[ImportProblem] = []
    columns: list[_Column] = []
    named: dict[str, str] = {}
    for cell in header:
        name = " ".join(cell.split())
        key = folded(name)
        if not key:
            columns.append(None)
        elif key in _IGNORED:
            columns.append(_SKIP)
        elif key not in _FIELD_BY_HEADER:
            problems.append(
                ImportProblem(
                    HEADER_LINE,
                    name,
                    f"is not a column of the dossier list; the columns are {', '.join(COLUMNS)} "
                    "or their names on the official form",
                )
            )
            columns.append(None)
        else:
            field = _FIELD_BY_HEADER[key]
            if field in named:
                problems.append(
                    ImportProblem(HEADER_LINE, name, f"is the same column as {named[field]}")
                )
                columns.append(None)
            else:
                named[field] = name
                columns.append(field)
    problems.extend(
        ImportProblem(
            HEADER_LINE, field, f"is a required column (“{HEADER_NAMES[field][1]}” on the form)"
        )
        for field in REQUIRED_COLUMNS
        if field not in named
    )
    if problems:
        raise ListFileError(problems)
    return columns


def _row(columns: Sequence[_Column], cells: Sequence[str]) -> dict[str, str] | None:
    """The values by field, or None for a row with nothing (but a number) in it."""
    row: dict[str, str] = {}
    for index, value in enumerate(cells):
        column = columns[index] if index < len(columns) else None
        if column == _SKIP:
            continue
        if column is not None:
            row[column] = value
        elif value.strip():
            row[f"column {get_column_letter(index + 1)}"] = value
    return row if any(value.strip() for value in row.values()) else None


def _csv_lines(data: bytes) -> _Lines:
    text = _decoded(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    number = 0
    while True:
        number += 1
        try:
            record = next(reader, None)
        except csv.Error as exc:
            raise ListFileError(
                [ImportProblem(number, "", f"cannot be read as CSV: {exc}")]
            ) from exc
        if record is None:
            return
        yield number, record


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text_line = data[: exc.start].count(b"\n") + 1
        raise ListFileError(
            [
                ImportProblem(
                    WHOLE_FILE,
                    "",
                    f"is not UTF-8 text (first at text line {text_line}); save it from the "
                    "spreadsheet as CSV UTF-8",
                )
            ]
        ) from exc


def _delimiter(text: str) -> str:
    """Comma or semicolon (Excel's CSV where the decimal mark is a comma, as in Vietnam): the one
    the header line uses more, outside quotes."""
    counts = dict.fromkeys(CSV_DELIMITERS, 0)
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in ("\n", "\r"):
            break
        elif not quoted and char in counts:
            counts[char] += 1
    return max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])


# A list has eight columns of its own; a form may carry a few more (STT, notes) that are ignored.
MAX_COLUMNS = 40


def _xlsx_lines(data: bytes) -> _Lines:
    _check_package(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _BROKEN_WORKBOOK as exc:
        raise ListFileError([ImportProblem(WHOLE_FILE, "", _NOT_XLSX)]) from exc
    try:
        if not book.worksheets:
            raise ListFileError([ImportProblem(WHOLE_FILE, "", "has no worksheet")])
        sheet = book.worksheets[0]
        # The dimension a file declares may be wrong (other producers): read every cell there is.
        sheet.reset_dimensions()
        # Read up to MAX_COLUMNS: a row with a cell far right (column XFD) would otherwise be
        # padded with thousands of empty cells, seconds of CPU per row.
        values = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        number = 0
        while True:
            number += 1
            try:
                cells = next(values, None)
            except _BROKEN_WORKBOOK as exc:
                raise ListFileError([ImportProblem(number, "", _DAMAGED_SHEET)]) from exc
            if cells is None:
                return
            yield number, [_cell_text(value) for value in cells]
    finally:
        book.close()


def _check_package(data: bytes) -> None:
    """Refuses what is not a zip, a zip that is not a workbook, and a zip that would expand
    beyond `MAX_XLSX_EXPANDED_BYTES`, from its directory alone."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ListFileError([ImportProblem(WHOLE_FILE, "", _NOT_XLSX)]) from exc
    if "[Content_Types].xml" not in {member.filename for member in members}:
        raise ListFileError([ImportProblem(WHOLE_FILE, "", _NOT_XLSX)])
    if any(member.flag_bits & _ZIP_ENCRYPTED for member in members):
        raise ListFileError([ImportProblem(WHOLE_FILE, "", _NOT_XLSX)])
    if any(member.compress_type not in _ZIP_METHODS for member in members):
        raise ListFileError(
            [ImportProblem(WHOLE_FILE, "", "uses a compression spreadsheets do not write")]
        )
    expanded = sum(member.file_size for member in members)
    if expanded > MAX_XLSX_EXPANDED_BYTES:
        raise ListFileError(
            [
                ImportProblem(
                    WHOLE_FILE,
                    "",
                    f"expands to {expanded} bytes; a list workbook may hold at most "
                    f"{MAX_XLSX_EXPANDED_BYTES} uncompressed",
                )
            ]
        )


def _cell_text(value: object) -> str:
    """A cell as the text a person reads in it: 1 not 1.0, a date without midnight."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
