"""Digitization costs per page, with the text worker's own parts (PDFium, tesseract) on this
machine: the standard check, reading a text layer, rendering a scan at 300 dpi and OCR with
`-l vie+eng`, with tesseract's default threads and with one (OMP_THREAD_LIMIT=1, for several
workers side by side).

usage: uv run python bench/ocr.py [--pages 5]

The scans are full A4 pages of Vietnamese text (35 lines) drawn at 200 dpi by the tests' own
generator. Prints
seconds per page (median and worst) and what a worker does per minute.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.documents.tests.pdfs import LETTER, scan_pdf, scanned_page, text_pdf
from vanban.documents.adapters.pdf import PdfFile, Tesseract, check_standard
from vanban.documents.domain.search_text import fold

T = TypeVar("T")

# A full page: the letter's head and 26 lines of body, about what a typed A4 page holds.
BODY = (
    "Điều 1. Thành lập tổ công tác số hóa tài liệu lưu trữ của các cơ quan, đơn vị",
    "thuộc Ủy ban nhân dân tỉnh; tổ công tác có trách nhiệm kiểm tra chất lượng bản",
    "số hóa theo tiêu chuẩn định dạng PDF phiên bản 1.4 trở lên, độ phân giải 200 dpi.",
)
FULL_PAGE = LETTER + tuple(("regular", text) for _ in range(9) for text in BODY)


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def line(what: str, seconds: list[float]) -> None:
    median, worst = statistics.median(seconds), max(seconds)
    print(f"{what:<44} median {median:7.3f} s   worst {worst:7.3f} s   n={len(seconds)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=5)
    args = parser.parse_args()

    scan = scan_pdf(*[(scanned_page(200, FULL_PAGE), 200)] * args.pages)
    typed = text_pdf(*["Quyết định về việc số hóa tài liệu lưu trữ của Sở Nội vụ"] * args.pages)
    print(f"{args.pages}-page A4 scan at 200 dpi: {len(scan) / 1024:.0f} KiB")

    _, standard = timed(lambda: check_standard(scan))
    print(f"{'standard check, whole scan':<44} {standard:7.3f} s")
    with PdfFile(typed) as pdf:
        layer = [timed(partial(pdf.text_layer, i))[1] for i in range(pdf.pages)]
    line("text layer, per page", layer)

    with PdfFile(scan) as pdf:
        rendered = [timed(partial(pdf.render, i)) for i in range(pdf.pages)]
    line("render at 300 dpi (grey), per page", [seconds for _, seconds in rendered])

    for label, threads in (("default threads", None), ("OMP_THREAD_LIMIT=1", 1)):
        tesseract = Tesseract(threads=threads)
        seconds: list[float] = []
        for page, _ in rendered:
            started = time.perf_counter()
            text = asyncio.run(tesseract.read(page))
            took = time.perf_counter() - started
            assert "quyet dinh" in fold(text), "OCR lost the letter's words"
            seconds.append(took)
        line(f"OCR vie+eng at 300 dpi, {label}, per page", seconds)
        render = statistics.median(s for _, s in rendered)
        per_page = render + statistics.median(seconds)
        print(f"  one worker: about {60 / per_page:.0f} scanned pages a minute")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
