"""Names of files inside an export: whatever the clerk typed, a safe, unique, stable path."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from vanban.archive.adapters.export.model import ExportDocument, ExportFile
from vanban.archive.adapters.export.names import ascii_name, payload_files, safe_file_name

SAFE = re.compile(r"^documents/[0-9]{3,}-[0-9]{2,}-[A-Za-z0-9][A-Za-z0-9._-]*$")


def make_file(name: str, *, content_type: str = "application/pdf", digit: str = "a") -> ExportFile:
    return ExportFile(sha256=digit * 64, size=10, content_type=content_type, name=name)


def make_document(position: int, *names: str, **overrides: Any) -> ExportDocument:
    values: dict[str, Any] = {
        "position": position,
        "kind": "incoming",
        "document_id": f"doc-{position}",
        "identifier": f"000.00.00.H99.2026.{position}",
        "code_number": str(position),
        "code_notation": "QĐ-UBND",
        "issued_date": date(2026, 1, 5),
        "issuer_name": "Ủy ban nhân dân tỉnh Hà Tĩnh",
        "document_type": "Quyết định",
        "subject": "Về việc tuyển dụng công chức",
        "page_amount": 2,
        "secrecy": "none",
        "files": tuple(make_file(n) for n in names),
    }
    return ExportDocument(**(values | overrides))


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("Quyết định số 12.pdf", "application/pdf", "Quyet_dinh_so_12.pdf"),
        ("ĐỀ ÁN Đổi mới.PDF", "application/pdf", "DE_AN_Doi_moi.pdf"),
        ("../../etc/passwd", "text/plain", "passwd.txt"),
        ("..\\..\\Windows\\win.ini", "text/plain", "win.ini"),
        ("/absolute/path/to/report.docx", "application/pdf", "report.docx"),
        ("", "application/pdf", "file.pdf"),
        ("....", "application/octet-stream", "file"),
        ("a\x00b\x07c\nd.pdf", "application/pdf", "a_b_c_d.pdf"),
        ("bảng lương", "application/vnd.ms-excel", "bang_luong.xls"),
        ("报告.pdf", "application/pdf", "file.pdf"),
        ("CON", "text/plain", "CON.txt"),
        ("a..b...c.pdf", "application/pdf", "a.b.c.pdf"),
        ("  spaced   out .pdf ", "application/pdf", "spaced_out.pdf"),
        ("%0A%0D.pdf", "application/pdf", "0A_0D.pdf"),
    ],
)
def test_a_hostile_name_becomes_a_tame_file_name(
    name: str, content_type: str, expected: str
) -> None:
    assert safe_file_name(name, content_type=content_type) == expected


def test_a_very_long_name_is_cut_but_keeps_its_extension() -> None:
    name = safe_file_name("x" * 10_000 + ".pdf", content_type="application/pdf")

    assert name.endswith(".pdf")
    assert len(name) <= 84


def test_ascii_name_removes_vietnamese_marks_and_keeps_letters() -> None:
    assert ascii_name("Tờ trình về việc Đào tạo") == "To_trinh_ve_viec_Dao_tao"


def test_every_path_is_safe_and_unique_even_with_duplicate_names() -> None:
    hostile = ["", "../x.pdf", "X.PDF", "x.pdf", "x.pdf", "\x00", "a/b/c", "." * 300]
    documents = [
        make_document(2, *hostile),
        make_document(1, *hostile),
        # Two documents at one position (a bug upstream) still get distinct paths.
        make_document(3, "x.pdf", "X.pdf"),
        make_document(3, "x.pdf"),
    ]

    paths = [item.path for item in payload_files(documents)]

    assert len(paths) == 2 * len(hostile) + 3
    assert len({p.lower() for p in paths}) == len(paths)
    for path in paths:
        assert SAFE.match(path), path
        assert ".." not in path
        assert len(path) < 120


def test_paths_follow_the_dossier_order_and_keep_the_original_file() -> None:
    first = make_document(1, "Tờ trình.pdf", "Phụ lục.pdf")
    second = make_document(2, "Quyết định.pdf")

    items = payload_files([second, first])

    assert [i.path for i in items] == [
        "documents/001-01-To_trinh.pdf",
        "documents/001-02-Phu_luc.pdf",
        "documents/002-01-Quyet_dinh.pdf",
    ]
    assert items[0].file.name == "Tờ trình.pdf"
    assert items[2].document is second
    assert [i.index for i in items] == [1, 2, 1]


def test_the_same_documents_always_give_the_same_paths() -> None:
    documents = [make_document(p, "a.pdf", "a.pdf", "") for p in (3, 1, 2)]

    assert [i.path for i in payload_files(documents)] == [
        i.path for i in payload_files(list(reversed(documents)))
    ]


def test_positions_past_999_widen_every_prefix_alike() -> None:
    items = payload_files([make_document(7, "a.pdf"), make_document(1200, "b.pdf")])

    assert [i.path for i in items] == ["documents/0007-01-a.pdf", "documents/1200-01-b.pdf"]


def test_a_file_that_is_not_a_sha256_is_refused() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        ExportFile(sha256="../../etc/passwd", size=1, content_type="text/plain", name="x")
