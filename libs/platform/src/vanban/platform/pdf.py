"""Whether a file opens as a PDF, by PDFium (pypdfium2): one rule for the gateway, which refuses
an upload that fails it before anything is stored, and for documents, whose text worker opens
the same bytes later (ADR 0009, 5). Not domain code: a property of the bytes, like
`credentials` is of a sign-in's form.

PDFium is not thread-safe: every use of it in a process goes through `PDFIUM_LOCK` (this module
takes it; documents' PDF adapter too).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import IO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

PDFIUM_LOCK = threading.Lock()

_REASONS = {
    pdfium_c.FPDF_ERR_PASSWORD: "it is protected by a password",
    pdfium_c.FPDF_ERR_SECURITY: "it is encrypted in a way that cannot be read",
}


class UnreadablePdfError(Exception):
    """PDFium cannot open the file as a PDF with at least one page; `reason` says why in plain
    English, for the person who sent it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PdfFacts:
    pages: int
    # The version of the file header as "1.7"; None when PDFium cannot tell.
    version: str | None


def version_text(number: int | None) -> str | None:
    """PDFium's version number (14) as written in the header ("1.4")."""
    if number is None or number <= 0:
        return None
    return f"{number // 10}.{number % 10}"


def open_document(source: bytes | IO[bytes] | str) -> pdfium.PdfDocument:
    """The document, or UnreadablePdfError. Call it holding `PDFIUM_LOCK`; `source` is the
    bytes, a readable binary file (read from where it stands: rewind it first) or a path."""
    try:
        return pdfium.PdfDocument(source)
    except pdfium.PdfiumError as exc:
        raise UnreadablePdfError(
            _REASONS.get(exc.err_code, "it is damaged or not a PDF document")
        ) from None


def inspect(source: bytes | IO[bytes] | str) -> PdfFacts:
    """Opens the file (taking `PDFIUM_LOCK`) and says how many pages it has and its version;
    UnreadablePdfError when it does not open. A file is left where it was read to: the caller
    rewinds it."""
    with PDFIUM_LOCK:
        document = open_document(source)
        try:
            return PdfFacts(pages=len(document), version=version_text(document.get_version()))
        finally:
            document.close()


async def inspect_async(source: bytes | IO[bytes] | str) -> PdfFacts:
    """`inspect` off the event loop: opening a large or damaged file (PDFium rebuilds a broken
    cross-reference table by scanning it) must not hold up other requests."""
    return await asyncio.to_thread(inspect, source)
