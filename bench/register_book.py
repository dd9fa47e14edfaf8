"""How fast a register book renders, and how much memory a large one takes.

usage: uv run python bench/register_book.py [--rows 20000] [--format pdf|xlsx|both]

Renders a book of `--rows` realistic rows in the batches the documents service feeds it (500,
as its database cursor yields them) into a temporary file spooled to disk above 8 MiB, as
`RenderRegisterBook` does, and prints for each format: seconds, rows per second, the file's
size, and the growth of the process's peak resident memory while rendering (each format in a
fresh process, so that one does not hide the other's peak).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 500
SPOOL_BYTES = 8 * 1024 * 1024
ISSUERS = (
    "Bộ Nội vụ",
    "Văn phòng Chính phủ",
    "Sở Tài chính tỉnh Nghệ An",
    "Ủy ban nhân dân huyện Đô Lương",
)
SUBJECTS = (
    "Về việc triển khai thực hiện Nghị định số 30/2020/NĐ-CP về công tác văn thư",
    "Về việc phê duyệt kế hoạch đầu tư công trung hạn giai đoạn 2026 - 2030",
    "V/v cử cán bộ tham dự hội nghị tập huấn chuyển đổi số",
    "Về việc điều chỉnh dự toán ngân sách nhà nước năm 2026 của các đơn vị sự nghiệp",
)


def render(rows: int, fmt: str) -> dict[str, float]:
    from vanban.documents.adapters.book import book_writer
    from vanban.documents.domain.numbering import RegisterKind
    from vanban.documents.domain.register_book import BookFormat, BookHeading, BookPeriod, BookRow

    heading = BookHeading(
        agency_name="Ủy ban nhân dân tỉnh Nghệ An",
        register_name="Sổ văn bản đến",
        kind=RegisterKind.INCOMING,
        period=BookPeriod(date(2026, 1, 1), date(2026, 12, 31)),
    )

    def batches() -> Iterator[list[BookRow]]:
        for first in range(1, rows + 1, BATCH):
            yield [
                BookRow(
                    year=2026,
                    number=n,
                    registered_on=date(2026, 1, 1) + timedelta(days=n * 365 // rows),
                    code=f"{n:02d}/QĐ-UBND",
                    issued_date=date(2026, 1, 1) + timedelta(days=n * 365 // rows),
                    issuer=ISSUERS[n % len(ISSUERS)],
                    document_type="Quyết định",
                    subject=SUBJECTS[n % len(SUBJECTS)],
                    recipients="VP",
                    cancelled=n % 997 == 0,
                    cancel_reason="Vào sổ nhầm" if n % 997 == 0 else None,
                )
                for n in range(first, min(first + BATCH, rows + 1))
            ]

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        writer = book_writer(BookFormat(fmt), out, heading)  # type: ignore[arg-type]
        for batch in batches():
            writer.add(batch)
        writer.close()
        size = out.tell()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "bytes": size, "peak_growth_kib": peak - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--format", choices=("pdf", "xlsx", "both"), default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(render(args.rows, args.child)))
        return
    formats = ("pdf", "xlsx") if args.format == "both" else (args.format,)
    print(f"register book, {args.rows} rows, batches of {BATCH}")
    for fmt in formats:
        out = subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--child", fmt],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print(
            f"  {fmt:4}  {result['seconds']:6.1f} s  {args.rows / result['seconds']:8.0f} rows/s  "
            f"{result['bytes'] / 1024 / 1024:6.1f} MiB file  "
            f"peak memory +{result['peak_growth_kib'] / 1024:5.1f} MiB"
        )


if __name__ == "__main__":
    main()
