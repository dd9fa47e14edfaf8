"""PDFs made by the tests: born-digital pages (reportlab) and scans (a page drawn with Pillow at
a given resolution, placed on a PDF page with no text layer), with Vietnamese text in DejaVu."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONTS = "/usr/share/fonts/truetype/dejavu"
A4_INCHES = (8.27, 11.69)

LETTER = (
    ("bold", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("regular", "Độc lập - Tự do - Hạnh phúc"),
    ("regular", ""),
    ("bold", "QUYẾT ĐỊNH"),
    ("regular", "Về việc thành lập tổ công tác số hóa tài liệu lưu trữ"),
    ("regular", ""),
    ("regular", "Căn cứ Nghị định số 30/2020/NĐ-CP về công tác văn thư;"),
    ("regular", "Chủ tịch Ủy ban nhân dân tỉnh quyết định giao Sở Nội vụ"),
    ("regular", "chủ trì việc số hóa hồ sơ của các cơ quan, đơn vị."),
)


def scanned_page(dpi: int, lines: tuple[tuple[str, str], ...] = LETTER) -> Image.Image:
    """An A4 page as a scanner at `dpi` would give it: grey pixels, black text."""
    width, height = (round(side * dpi) for side in A4_INCHES)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    fonts = {
        "regular": ImageFont.truetype(f"{FONTS}/DejaVuSans.ttf", round(12 / 72 * dpi)),
        "bold": ImageFont.truetype(f"{FONTS}/DejaVuSans-Bold.ttf", round(14 / 72 * dpi)),
    }
    y = dpi
    for weight, line in lines:
        draw.text((round(0.9 * dpi), y), line, font=fonts[weight], fill=0)
        y += round(0.35 * dpi)
    return page


def scan_pdf(
    *pages: tuple[Image.Image, int] | tuple[Image.Image, int, int],
    version: tuple[int, int] = (1, 4),
) -> bytes:
    """A PDF of image-only pages: each image placed over a whole page at (dpi) or (horizontal
    dpi, vertical dpi)."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pdfVersion=version)
    for image, dpi_x, *rest in pages:
        dpi_y = rest[0] if rest else dpi_x
        size = (image.width / dpi_x * 72, image.height / dpi_y * 72)
        pdf.setPageSize(size)
        pdf.drawImage(ImageReader(image), 0, 0, *size)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def text_pdf(*pages: str, version: tuple[int, int] = (1, 7), logo_dpi: int | None = None) -> bytes:
    """A born-digital PDF, one page of text per argument; with a 1-inch logo image at
    `logo_dpi` on each page when given."""
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", f"{FONTS}/DejaVuSans.ttf"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pdfVersion=version)
    for text in pages:
        pdf.setFont("DejaVuSans", 12)
        for number, line in enumerate(text.splitlines()):
            pdf.drawString(72, 720 - 16 * number, line)
        if logo_dpi is not None:
            logo = Image.new("L", (logo_dpi, logo_dpi), 128)
            pdf.drawImage(ImageReader(logo), 72, 760, 72, 72)
        pdf.showPage()
    pdf.save()
    return out.getvalue()
