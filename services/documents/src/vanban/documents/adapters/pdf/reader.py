"""A PDF read by PDFium: its version, the digitization standard, each page's text layer and the
page rendered for OCR. Every call into PDFium holds the platform's `PDFIUM_LOCK` (PDFium is not
thread-safe), so the methods may run in worker threads (`asyncio.to_thread`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from vanban.platform.pdf import PDFIUM_LOCK, open_document, version_text

# The digitization standard (ADR 0009, 5): PDF 1.4 or later, images at 200 dpi or more both
# ways. Not met: a warning, never a refusal.
MIN_PDF_VERSION = 14
MIN_IMAGE_DPI = 200
# An image covering at least this share of its page is a scanned page and held to the standard;
# a logo, a seal or a signature in a born-digital document is not.
SCAN_AREA_SHARE = 0.25
# A page whose text layer has fewer letters and digits than this is read by OCR instead (a
# scan, perhaps with a page number stamped on it).
MIN_TEXT_CHARS = 20
# OCR renders at this resolution (tesseract's best range is 300 dpi and up).
OCR_DPI = 300
# A page rendered larger than this many pixels is rendered at a lower resolution instead (an A4
# page at 300 dpi is 8.7 million; a poster-sized page must not take gigabytes). Strict: the
# resolution goes as low as it must (PDFium's largest page, 14,400 pt square, renders at 31 dpi).
MAX_RENDER_PIXELS = 40_000_000
# Below this resolution OCR reads nothing worth indexing: the page is not rendered at all
# (`PageTooLargeError`) and the worker warns and goes on.
MIN_RENDER_DPI = 20
# Stored and shown warnings: the first ones, then one line counting the rest, so a 20,000-page
# scan at 150 dpi does not store 20,000 lines that every read of the document returns.
MAX_WARNINGS = 20


@dataclass(frozen=True, slots=True)
class StandardReport:
    version: str | None
    pages: int
    # Plain English, each naming the page where it is about one: "page 2: image at 150 dpi,
    # below 200 dpi".
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A page as an 8-bit grey image in PGM (netpbm) form, which tesseract reads from stdin."""

    pgm: bytes
    dpi: int


class PageTooLargeError(Exception):
    """The page would need a resolution below MIN_RENDER_DPI to fit MAX_RENDER_PIXELS."""

    def __init__(self, index: int, dpi: int) -> None:
        super().__init__(f"page {index + 1}: too large to read by OCR (it fits only at {dpi} dpi)")


def capped_warnings(warnings: list[str], *, limit: int = MAX_WARNINGS) -> list[str]:
    """The first `limit` warnings, and one line counting the pages left out."""
    if len(warnings) <= limit:
        return list(warnings)
    rest = len(warnings) - limit
    return [*warnings[:limit], f"… and {rest} more pages below the standard"]


class PdfFile:
    """An open PDF (bytes or a path); `close()` it, or use it as a context manager. Raises
    `vanban.platform.pdf.UnreadablePdfError` when PDFium cannot open it."""

    def __init__(self, source: bytes | Path) -> None:
        with PDFIUM_LOCK:
            self._document = open_document(source if isinstance(source, bytes) else str(source))
            self.pages = len(self._document)
            self.version = version_text(self._document.get_version())
            self._version_number = self._document.get_version()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with PDFIUM_LOCK:
            self._document.close()

    def standard_warnings(self, *, pages: int | None = None) -> list[str]:
        """Where the file falls short of the digitization standard, in page order: all of it, or
        its first `pages` pages (those the text worker reads)."""
        warnings: list[str] = []
        if self._version_number is None or self._version_number <= 0:
            warnings.append("PDF version cannot be read from the file header")
        elif self._version_number < MIN_PDF_VERSION:
            warnings.append(f"PDF version {self.version} is below {version_text(MIN_PDF_VERSION)}")
        for index in range(self.pages if pages is None else min(pages, self.pages)):
            lowest = self._lowest_scan_dpi(index)
            if lowest is None:
                continue
            horizontal, vertical = lowest
            if min(horizontal, vertical) < MIN_IMAGE_DPI:
                dpi = f"{horizontal}" if horizontal == vertical else f"{horizontal}×{vertical}"
                warnings.append(f"page {index + 1}: image at {dpi} dpi, below {MIN_IMAGE_DPI} dpi")
        return warnings

    def _lowest_scan_dpi(self, index: int) -> tuple[int, int] | None:
        """The (horizontal, vertical) resolution of the page's scanned image with the lowest
        one, rounded to whole dpi; None when the page has no image as large as a scan."""
        with PDFIUM_LOCK:
            page = self._document[index]
            try:
                width, height = page.get_size()
                page_area = max(width * height, 1.0)
                lowest: tuple[int, int] | None = None
                for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
                    left, bottom, right, top = image.get_bounds()
                    if (right - left) * (top - bottom) < SCAN_AREA_SHARE * page_area:
                        continue
                    try:
                        metadata = image.get_metadata()
                    except pdfium.PdfiumError:
                        continue  # an image PDFium cannot describe is not judged
                    dpi = (round(metadata.horizontal_dpi), round(metadata.vertical_dpi))
                    if lowest is None or min(dpi) < min(lowest):
                        lowest = dpi
                return lowest
            finally:
                page.close()

    def text_layer(self, index: int) -> str:
        """The text PDFium finds on the page (a born-digital page, or a scan with an OCR layer
        already); empty for a bare scan."""
        with PDFIUM_LOCK:
            page = self._document[index]
            try:
                textpage = page.get_textpage()
                try:
                    text: str = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
        return text.replace("\r\n", "\n").replace("\x00", "")

    def render(
        self, index: int, *, dpi: int = OCR_DPI, max_pixels: int = MAX_RENDER_PIXELS
    ) -> RenderedPage:
        """The page in grey at `dpi`, or at the highest lower resolution whose image has at most
        `max_pixels`; `PageTooLargeError` when that is below MIN_RENDER_DPI."""
        with PDFIUM_LOCK:
            page = self._document[index]
            try:
                width, height = page.get_size()
                dpi = fitting_dpi(width, height, dpi=dpi, max_pixels=max_pixels)
                if dpi < MIN_RENDER_DPI:
                    raise PageTooLargeError(index, dpi)
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                try:
                    pgm = _pgm(bitmap)
                finally:
                    bitmap.close()
            finally:
                page.close()
        return RenderedPage(pgm=pgm, dpi=dpi)


def fitting_dpi(width_pt: float, height_pt: float, *, dpi: int, max_pixels: int) -> int:
    """`dpi`, or the highest lower whole resolution at which a page of this size (points)
    renders to at most `max_pixels` (PDFium rounds each side up at worst)."""

    def pixels(at: int) -> int:
        return math.ceil(width_pt / 72 * at) * math.ceil(height_pt / 72 * at)

    if pixels(dpi) > max_pixels:
        dpi = int(dpi * (max_pixels / pixels(dpi)) ** 0.5)
        while dpi > 0 and pixels(dpi) > max_pixels:
            dpi -= 1
    return dpi


def _pgm(bitmap: pdfium.PdfBitmap) -> bytes:
    width, height, stride = bitmap.width, bitmap.height, bitmap.stride
    if bitmap.n_channels != 1:
        raise ValueError("the page was not rendered in grey")
    raw = memoryview(bitmap.buffer).cast("B")
    if stride == width:
        rows = bytes(raw[: width * height])
    else:
        rows = b"".join(bytes(raw[r * stride : r * stride + width]) for r in range(height))
    return b"P5\n%d %d\n255\n" % (width, height) + rows


def check_standard(source: bytes | Path) -> StandardReport:
    """The file's PDF version and where it falls short of the digitization standard (PDF 1.4,
    scanned pages at 200 dpi or more). Never refuses a readable PDF; one PDFium cannot open
    raises `UnreadablePdfError`."""
    with PdfFile(source) as pdf:
        return StandardReport(
            version=pdf.version, pages=pdf.pages, warnings=capped_warnings(pdf.standard_warnings())
        )


def page_count(source: bytes | Path) -> int:
    with PdfFile(source) as pdf:
        return pdf.pages
