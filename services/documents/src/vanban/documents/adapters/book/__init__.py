"""Register books rendered to files: `render_book` for a list of rows, `book_writer` for rows
that arrive in batches (from a database cursor)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import BinaryIO, Protocol

from vanban.documents.adapters.book.pdf import PdfBookWriter
from vanban.documents.adapters.book.xlsx import XlsxBookWriter
from vanban.documents.domain.register_book import BookFormat, BookHeading, BookRow


class BookWriter(Protocol):
    def add(self, rows: Iterable[BookRow]) -> None: ...

    def close(self) -> None: ...


def book_writer(fmt: BookFormat, out: BinaryIO, heading: BookHeading) -> BookWriter:
    if fmt is BookFormat.PDF:
        return PdfBookWriter(out, heading)
    return XlsxBookWriter(out, heading)


def render_book(rows: Iterable[BookRow], heading: BookHeading, fmt: BookFormat) -> bytes:
    """The whole file of the book: pure, from its rows (in the order given) and heading."""
    out = io.BytesIO()
    writer = book_writer(fmt, out, heading)
    writer.add(rows)
    writer.close()
    return out.getvalue()
