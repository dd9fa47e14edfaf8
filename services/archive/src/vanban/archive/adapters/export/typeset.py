"""What every PDF of the archive shares: DejaVu Sans embedded (every Vietnamese glyph), the
styles, the national heading of an administrative record, and rendering to bytes.

Clerk-typed text always goes through `para`, which escapes it: reportlab reads a Paragraph's
text as markup, and a subject holding "<b" must print as typed, not break the page.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from vanban.archive.adapters.export.text import one_line

# Debian's fonts-dejavu-core (installed by `make bootstrap` and the service images).
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN

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


@dataclass(frozen=True, slots=True)
class Styles:
    body: ParagraphStyle
    body_bold: ParagraphStyle
    centre: ParagraphStyle
    centre_bold: ParagraphStyle
    title: ParagraphStyle
    cover: ParagraphStyle
    heading: ParagraphStyle
    cell: ParagraphStyle
    cell_centre: ParagraphStyle
    cell_head: ParagraphStyle


def styles() -> Styles:
    """The styles of every PDF here; makes the fonts known first (a Paragraph is measured with
    its font as soon as it is made)."""
    register_fonts()

    def style(name: str, **values: object) -> ParagraphStyle:
        base: dict[str, object] = {
            "fontName": REGULAR,
            "fontSize": 11,
            "leading": 14.5,
            "alignment": TA_LEFT,
            "spaceAfter": 3,
        }
        base.update(values)
        return ParagraphStyle(name, **base)  # type: ignore[arg-type]

    return Styles(
        body=style("body"),
        body_bold=style("body_bold", fontName=BOLD),
        centre=style("centre", alignment=TA_CENTER),
        centre_bold=style("centre_bold", fontName=BOLD, alignment=TA_CENTER),
        title=style(
            "title", fontName=BOLD, fontSize=14, leading=18, alignment=TA_CENTER, spaceAfter=6
        ),
        cover=style(
            "cover", fontName=BOLD, fontSize=32, leading=40, alignment=TA_CENTER, spaceAfter=6
        ),
        heading=style("heading", fontName=BOLD, fontSize=12, leading=15, spaceBefore=6),
        cell=style("cell", fontSize=8, leading=10, spaceAfter=0),
        cell_centre=style("cell_centre", fontSize=8, leading=10, spaceAfter=0, alignment=TA_CENTER),
        cell_head=style(
            "cell_head", fontName=BOLD, fontSize=8, leading=10, spaceAfter=0, alignment=TA_CENTER
        ),
    )


def para(text: str, style: ParagraphStyle, *, lines: bool = False) -> Paragraph:
    """A paragraph of plain text; with `lines`, its line breaks are kept."""
    if lines:
        parts = [escape(one_line(line)) for line in text.splitlines()]
        return Paragraph("<br/>".join(parts), style)
    return Paragraph(escape(one_line(text)), style)


def national_heading(agency_name: str, s: Styles) -> Table:
    """Tên cơ quan on the left, Quốc hiệu and Tiêu ngữ on the right, as on every record."""
    left = [para(agency_name.upper(), s.centre_bold)]
    right = [
        para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s.centre_bold),
        para("Độc lập - Tự do - Hạnh phúc", s.centre_bold),
    ]
    table = Table([[left, right]], colWidths=[FRAME_WIDTH * 0.42, FRAME_WIDTH * 0.58])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def grid(rows: Sequence[Sequence[object]], widths: Sequence[float]) -> Table:
    """A table with ruled cells whose first row (the header) repeats on every page."""
    # splitInRow: a row taller than a page (a very long subject) is split, not refused.
    table = Table([list(row) for row in rows], colWidths=list(widths), repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(REGULAR, 8)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN / 2, f"Trang {doc.page}")
    canvas.restoreState()


def render(
    story: Sequence[Flowable], *, title: str, author: str, numbered: bool = True
) -> tuple[bytes, int]:
    """The PDF of `story` on A4 and its number of pages."""
    register_fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=one_line(title),
        author=one_line(author),
        lang="vi",
        invariant=1,
        pageCompression=1,
    )
    on_page = _page_number if numbered else _no_decoration
    doc.build(list(story), onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue(), int(doc.page)


def _no_decoration(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    return None
