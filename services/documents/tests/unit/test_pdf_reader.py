"""The digitization standard check, the text layer and page rendering, by the real PDFium on
PDFs the tests make (ADR 0009, 5)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from services.documents.tests.pdfs import scan_pdf, scanned_page, text_pdf
from vanban.documents.adapters.pdf import (
    PageTooLargeError,
    PdfFile,
    capped_warnings,
    check_standard,
    page_count,
)
from vanban.documents.adapters.pdf.reader import MAX_RENDER_PIXELS, RenderedPage
from vanban.platform.pdf import UnreadablePdfError


def test_a_pdf_older_than_1_4_is_warned_about_and_still_read() -> None:
    report = check_standard(text_pdf("Công văn số 12/UBND-VP", version=(1, 3)))

    assert report.version == "1.3"
    assert report.pages == 1
    assert report.warnings == ["PDF version 1.3 is below 1.4"]


def test_a_page_scanned_at_150_dpi_is_warned_about_by_its_page_number() -> None:
    pdf = scan_pdf((scanned_page(300), 300), (scanned_page(150), 150))

    report = check_standard(pdf)

    assert report.version == "1.4"
    assert report.pages == 2
    assert report.warnings == ["page 2: image at 150 dpi, below 200 dpi"]


def test_a_scan_at_200_dpi_meets_the_standard() -> None:
    assert check_standard(scan_pdf((scanned_page(200), 200))).warnings == []


def test_both_directions_must_reach_200_dpi() -> None:
    report = check_standard(scan_pdf((scanned_page(150), 150, 300)))

    assert report.warnings == ["page 1: image at 150×300 dpi, below 200 dpi"]


def test_a_small_logo_of_a_born_digital_page_is_not_a_scan() -> None:
    # A 1-inch logo at 72 dpi on a typed page: the standard is about scanned pages.
    assert check_standard(text_pdf("Quyết định số 05/QĐ-UBND", logo_dpi=72)).warnings == []


def test_the_standard_check_reads_a_file_from_disk_too(tmp_path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scan_pdf((scanned_page(150), 150), version=(1, 3)))

    assert check_standard(path).warnings == [
        "PDF version 1.3 is below 1.4",
        "page 1: image at 150 dpi, below 200 dpi",
    ]
    assert page_count(path) == 1


def test_the_text_layer_of_each_page_is_read_with_its_diacritics() -> None:
    pdf = text_pdf("Quyết định số 05/QĐ-UBND", "Về việc số hóa tài liệu lưu trữ")

    with PdfFile(pdf) as document:
        assert document.pages == 2
        assert document.text_layer(0).strip() == "Quyết định số 05/QĐ-UBND"
        assert document.text_layer(1).strip() == "Về việc số hóa tài liệu lưu trữ"


def test_a_scan_has_no_text_layer_and_renders_at_300_dpi_in_grey() -> None:
    with PdfFile(scan_pdf((scanned_page(200), 200))) as document:
        assert document.text_layer(0).strip() == ""
        page = document.render(0)

    assert page.dpi == 300
    magic, size, depth, pixels = page.pgm.split(b"\n", 3)
    width, height = (int(side) for side in size.split())
    assert (magic, depth) == (b"P5", b"255")
    # A4 (8.27 × 11.69 in) at 300 dpi, one byte a pixel.
    assert (width, height) == pytest.approx((2481, 3507), abs=2)
    assert len(pixels) == width * height


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", id="no-pages"),
        pytest.param(text_pdf("Quyết định")[:300] + b"\n%%EOF\n", id="truncated"),
        pytest.param(b"PK\x03\x04 a zip", id="not-a-pdf"),
    ],
)
def test_a_file_pdfium_cannot_open_is_unreadable(content: bytes) -> None:
    with pytest.raises(UnreadablePdfError) as caught:
        check_standard(content)

    assert caught.value.reason == "it is damaged or not a PDF document"


def poster_pdf(width_pt: float, height_pt: float) -> bytes:
    """One empty page of this size (PDFium's largest is 14,400 pt a side)."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(width_pt, height_pt))
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def pgm_size(page: RenderedPage) -> tuple[int, int]:
    _, size, _, _ = page.pgm.split(b"\n", 3)
    width, height = (int(side) for side in size.split())
    return width, height


def test_the_largest_page_renders_within_the_pixel_limit_at_a_lower_resolution() -> None:
    # 200 × 200 inches: 72 dpi alone would be 207 million pixels.
    with PdfFile(poster_pdf(14_400, 14_400)) as document:
        page = document.render(0)

    width, height = pgm_size(page)
    assert width * height <= MAX_RENDER_PIXELS
    assert page.dpi == 31  # the highest resolution that fits
    assert (width, height) == (6200, 6200)


def test_a_page_that_fits_only_below_the_lowest_useful_resolution_is_not_rendered() -> None:
    with PdfFile(poster_pdf(14_400, 14_400)) as document:
        with pytest.raises(PageTooLargeError, match=r"^page 1: too large to read by OCR"):
            document.render(0, max_pixels=1_000_000)  # would need 5 dpi


def test_a_long_list_of_pages_below_the_standard_is_cut_after_20_with_a_count() -> None:
    # 25 small pages scanned at 150 dpi, each image covering its page.
    pdf = scan_pdf(*[(Image.new("L", (150, 150), 255), 150) for _ in range(25)])

    report = check_standard(pdf)

    assert report.warnings == [
        *(f"page {n}: image at 150 dpi, below 200 dpi" for n in range(1, 21)),
        "… and 5 more pages below the standard",
    ]
    assert capped_warnings(["a"] * 20) == ["a"] * 20
