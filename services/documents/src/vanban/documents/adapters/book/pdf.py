"""A register book as PDF: landscape A4, DejaVu Sans embedded (every Vietnamese glyph), a title
page, then the appendix IV table with its header row repeated on every page.

Drawn on the canvas row by row rather than as one platypus Table: a year's book can hold
tens of thousands of rows, which a Table keeps whole and splits page by page (slow, and all in
memory); here each row is measured, drawn and forgotten.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from vanban.documents.domain.register_book import BookHeading, BookRow, cells, columns

# Debian's fonts-dejavu-core (installed by `make bootstrap` and the documents image).
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 28.0  # about 1 cm
FONT_SIZE = 8.0
LEADING = 10.0
PADDING = 3.0
FOOTER = 16.0

_fonts_lock = threading.Lock()


def register_fonts(font_dir: Path = FONT_DIR) -> None:
    """Makes DejaVu Sans known to reportlab once per process; a clear error when the font is
    not installed (Debian package fonts-dejavu-core)."""
    with _fonts_lock:
        # Each face on its own: other code of the process may have registered one of them.
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name in (REGULAR, BOLD):
            if name in registered:
                continue
            path = font_dir / f"{name}.ttf"
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} is missing: install the Debian package fonts-dejavu-core"
                )
            pdfmetrics.registerFont(TTFont(name, str(path)))


class PdfBookWriter:
    """Writes the book to `out` as rows arrive (`add`), finished by `close`."""

    def __init__(self, out: BinaryIO, heading: BookHeading, *, font_dir: Path = FONT_DIR) -> None:
        register_fonts(font_dir)
        self._heading = heading
        self._columns = columns(heading.kind)
        usable = PAGE_WIDTH - 2 * MARGIN
        total = sum(c.width for c in self._columns)
        self._widths = [usable * c.width / total for c in self._columns]
        self._canvas = Canvas(
            out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1, invariant=1
        )
        self._canvas.setTitle(f"{heading.title} - {heading.register_name}")
        self._canvas.setAuthor(heading.agency_name)
        self._page = 0
        self._rows = 0
        self._title_page()
        self._y = 0.0
        self._new_table_page()

    def add(self, rows: Iterable[BookRow]) -> None:
        for row in rows:
            self._row(cells(row, self._heading.kind), bold=False)
            self._rows += 1

    def close(self) -> None:
        if self._rows == 0:
            self._canvas.setFont(REGULAR, FONT_SIZE + 1)
            self._canvas.drawString(
                MARGIN,
                self._y - LEADING - PADDING,
                "Không có văn bản nào trong khoảng thời gian này.",
            )
        self._footer()
        self._canvas.showPage()
        self._canvas.save()

    def _title_page(self) -> None:
        c, h = self._canvas, self._heading
        self._page += 1
        c.setFont(BOLD, 12)
        c.drawString(MARGIN * 2, PAGE_HEIGHT - MARGIN * 2, h.agency_name.upper())
        middle = PAGE_WIDTH / 2
        c.setFont(BOLD, 26)
        c.drawCentredString(middle, PAGE_HEIGHT * 0.62, h.title)
        c.setFont(REGULAR, 14)
        c.drawCentredString(middle, PAGE_HEIGHT * 0.62 - 36, h.register_name)
        c.setFont(BOLD, 16)
        c.drawCentredString(middle, PAGE_HEIGHT * 0.62 - 70, h.year)
        c.setFont(REGULAR, 13)
        c.drawCentredString(middle, PAGE_HEIGHT * 0.62 - 96, h.period_text)
        c.showPage()

    def _new_table_page(self) -> None:
        self._page += 1
        self._y = PAGE_HEIGHT - MARGIN
        self._canvas.setFont(BOLD, FONT_SIZE + 2)
        self._canvas.drawString(
            MARGIN, self._y - 10, f"{self._heading.title} - {self._heading.period_text}"
        )
        self._y -= 18
        self._row(tuple(col.header for col in self._columns), bold=True)

    def _footer(self) -> None:
        self._canvas.setFont(REGULAR, FONT_SIZE)
        self._canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN / 2, f"Trang {self._page}")

    def _row(self, texts: tuple[str, ...], *, bold: bool) -> None:
        font = BOLD if bold else REGULAR
        # The lines one page can hold below its header: a longer cell is cut with an ellipsis.
        max_lines = int((PAGE_HEIGHT - 2 * MARGIN - FOOTER - 80) // LEADING)
        lines = [
            _clip(_wrap(text, font, width - 2 * PADDING), max_lines)
            for text, width in zip(texts, self._widths, strict=True)
        ]
        height = max(1, *(len(cell) for cell in lines)) * LEADING + 2 * PADDING
        if not bold and self._y - height < MARGIN + FOOTER:
            self._footer()
            self._canvas.showPage()
            self._new_table_page()
        c = self._canvas
        x = MARGIN
        c.setLineWidth(0.5)
        c.setFont(font, FONT_SIZE)
        for cell, width in zip(lines, self._widths, strict=True):
            c.rect(x, self._y - height, width, height, stroke=1, fill=0)
            baseline = self._y - PADDING - FONT_SIZE
            for line in cell:
                if line and bold:
                    c.drawCentredString(x + width / 2, baseline, line)
                elif line:
                    c.drawString(x + PADDING, baseline, line)
                baseline -= LEADING
            x += width
        self._y -= height


@functools.lru_cache(maxsize=65536)
def _width(word: str, font: str) -> float:
    # Vietnamese text is made of a few thousand distinct syllables: measured once each.
    return pdfmetrics.stringWidth(word, font, FONT_SIZE)


def _wrap(text: str, font: str, width: float) -> list[str]:
    """Lines of `text` no wider than `width`, broken between words; a word too long for a
    line is cut inside."""
    lines: list[str] = []
    space = _width(" ", font)
    for paragraph in text.splitlines() or [""]:
        line: list[str] = []
        used = 0.0
        for word in paragraph.split():
            word_width = _width(word, font)
            while word_width > width:  # cut a long word: what fits goes on a line of its own
                if line:
                    lines.append(" ".join(line))
                    line, used = [], 0.0
                cut = len(word) - 1
                while cut > 1 and _width(word[:cut], font) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
                word_width = _width(word, font)
            needed = word_width if not line else used + space + word_width
            if needed <= width:
                line.append(word)
                used = needed
            else:
                lines.append(" ".join(line))
                line, used = [word], word_width
        lines.append(" ".join(line))
    return lines


def _clip(lines: list[str], max_lines: int) -> list[str]:
    if len(lines) <= max_lines:
        return lines
    return [*lines[: max_lines - 1], lines[max_lines - 1] + " …"]


def render_pdf(rows: Iterable[BookRow], heading: BookHeading, out: BinaryIO) -> None:
    writer = PdfBookWriter(out, heading)
    writer.add(rows)
    writer.close()
