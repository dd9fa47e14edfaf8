"""Digitization of PDF files (ADR 0009, 5): the standard check, the text layer, page rendering
(PDFium through pypdfium2) and OCR (tesseract as a subprocess). Adapters: the domain knows none
of it."""

from vanban.documents.adapters.pdf.ocr import OcrError, Tesseract
from vanban.documents.adapters.pdf.reader import (
    MIN_IMAGE_DPI,
    MIN_PDF_VERSION,
    MIN_TEXT_CHARS,
    PageTooLargeError,
    PdfFile,
    StandardReport,
    capped_warnings,
    check_standard,
    page_count,
)

__all__ = [
    "MIN_IMAGE_DPI",
    "MIN_PDF_VERSION",
    "MIN_TEXT_CHARS",
    "OcrError",
    "PageTooLargeError",
    "PdfFile",
    "StandardReport",
    "Tesseract",
    "capped_warnings",
    "check_standard",
    "page_count",
]
