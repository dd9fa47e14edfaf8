"""A register book as XLSX: the heading rows, the appendix IV header row (bold, frozen, repeated
on printed pages) and one row per number, numbers and dates as such.

openpyxl's write-only mode streams each appended row to a temporary file, so a year's book is
never held as a sheet of cell objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from vanban.documents.domain.register_book import BookHeading, BookRow, columns, values

DATE_FORMAT = "DD/MM/YYYY"
PAPER_A4 = "9"  # the OOXML paper size code of A4
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, horizontal="center", vertical="center")
_BOLD = Font(bold=True)
# Rows above the header row: agency, title, register, year, period, a blank line.
HEADER_ROW = 7


class XlsxBookWriter:
    """Writes the book to `out` as rows arrive (`add`), finished by `close`."""

    def __init__(self, out: BinaryIO, heading: BookHeading) -> None:
        self._out = out
        self._heading = heading
        self._columns = columns(heading.kind)
        self._book = Workbook(write_only=True)
        sheet = self._book.create_sheet("Sổ đăng ký")
        assert isinstance(sheet, WriteOnlyWorksheet)
        self._sheet = sheet
        # Dimensions and panes must be set before the first row is written. A write-only sheet
        # has them (taken over from Worksheet at run time), its stubs do not.
        layout: Any = sheet
        for index, column in enumerate(self._columns, start=1):
            layout.column_dimensions[get_column_letter(index)].width = column.width
        layout.freeze_panes = f"A{HEADER_ROW + 1}"
        layout.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        layout.page_setup.orientation = "landscape"
        layout.page_setup.paperSize = PAPER_A4
        for text, bold in (
            (heading.agency_name.upper(), True),
            (heading.title, True),
            (heading.register_name, False),
            (heading.year, True),
            (heading.period_text, False),
            ("", False),
        ):
            sheet.append([self._cell(text, font=_BOLD if bold else None)])
        sheet.append(
            [
                self._cell(column.header, font=_BOLD, alignment=_HEADER_ALIGN, border=_BORDER)
                for column in self._columns
            ]
        )

    def add(self, rows: Iterable[BookRow]) -> None:
        for row in rows:
            self._sheet.append(
                [
                    self._cell(value, alignment=_WRAP, border=_BORDER)
                    for value in values(row, self._heading.kind)
                ]
            )

    def close(self) -> None:
        self._book.save(self._out)

    def _cell(
        self,
        value: str | int | date | None,
        *,
        font: Font | None = None,
        alignment: Alignment | None = None,
        border: Border | None = None,
    ) -> Cell:
        if isinstance(value, date):  # a spreadsheet date is a midnight
            value = datetime.combine(value, time())
        cell = WriteOnlyCell(self._sheet, value=value)
        if font is not None:
            cell.font = font
        if alignment is not None:
            cell.alignment = alignment
        if border is not None:
            cell.border = border
        if isinstance(value, datetime):
            cell.number_format = DATE_FORMAT
        return cell


def render_xlsx(rows: Iterable[BookRow], heading: BookHeading, out: BinaryIO) -> None:
    writer = XlsxBookWriter(out, heading)
    writer.add(rows)
    writer.close()
