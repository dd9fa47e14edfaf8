"""The PDF check an uploaded file passes before a byte of it is sent to the archive."""

import io
import tempfile
import zipfile
from typing import BinaryIO, cast

import pytest
from reportlab.pdfgen import canvas
from starlette.datastructures import UploadFile

from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.upload import archive_chunks, check_pdf, file_name_of

MAX_BYTES = 1024 * 1024


def make_pdf(text: str = "Quyết định số 05/QĐ-UBND") -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return out.getvalue()


def make_upload(content: bytes, filename: str = "van-ban.pdf") -> UploadFile:
    return UploadFile(file=io.BytesIO(content), filename=filename)


def make_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("van-ban.docx", "Quyết định")
    return out.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


async def refusal(content: bytes, *, max_bytes: int = MAX_BYTES) -> HttpProblem:
    with pytest.raises(HttpProblem) as caught:
        await check_pdf(make_upload(content), max_bytes=max_bytes)
    return caught.value


async def test_a_real_pdf_is_accepted_with_its_size_and_rewound() -> None:
    pdf = make_pdf()
    upload = make_upload(pdf)

    size = await check_pdf(upload, max_bytes=MAX_BYTES)

    assert size == len(pdf)
    assert upload.file.tell() == 0
    # What is sent on to the archive is the whole file, from its first byte.
    assert await upload.read() == pdf


async def test_a_pdf_of_exactly_the_limit_is_accepted() -> None:
    pdf = make_pdf()

    assert await check_pdf(make_upload(pdf), max_bytes=len(pdf)) == len(pdf)


async def test_a_pdf_read_part_way_before_the_check_is_still_measured_whole() -> None:
    pdf = make_pdf()
    upload = make_upload(pdf)
    upload.file.read(100)

    assert await check_pdf(upload, max_bytes=MAX_BYTES) == len(pdf)
    assert upload.file.tell() == 0


async def test_an_empty_file_is_a_400_naming_the_file() -> None:
    problem = await refusal(b"")

    assert (problem.status, problem.code) == (400, "FILE_EMPTY")
    assert [v.field for v in problem.errors] == ["file"]


async def test_a_file_over_the_limit_is_a_413() -> None:
    pdf = make_pdf()

    problem = await refusal(pdf, max_bytes=len(pdf) - 1)

    assert (problem.status, problem.code) == (413, "FILE_TOO_LARGE")
    assert [v.field for v in problem.errors] == ["file"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(make_zip(), id="zip"),
        pytest.param(PNG, id="png"),
        pytest.param("Công văn số 12, không phải PDF\n".encode(), id="text"),
        pytest.param(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", id="pdf-header-without-eof"),
        pytest.param(b"MZ" + b"\x00" * 4000 + b"%%EOF\n", id="pdf-eof-without-header"),
    ],
)
async def test_a_file_that_is_not_a_pdf_is_a_415(content: bytes) -> None:
    problem = await refusal(content)

    assert (problem.status, problem.code) == (415, "NOT_A_PDF")
    assert [v.field for v in problem.errors] == ["file"]


async def test_a_pdf_renamed_to_png_is_judged_by_its_bytes_not_its_name() -> None:
    pdf = make_pdf()

    assert await check_pdf(make_upload(pdf, filename="scan.png"), max_bytes=MAX_BYTES) == len(pdf)


async def test_the_archive_and_the_registry_are_given_the_same_clean_name() -> None:
    # A name the archive would refuse as it came (over 255 characters, control characters):
    # the document is judged by its bytes, so both get the name cleaned and cut.
    name = "Quyết định\x00\x1f số 05 " + "rất dài " * 40 + ".pdf"
    upload = make_upload(make_pdf(), filename=name)
    size = await check_pdf(upload, max_bytes=MAX_BYTES)

    [first, *_] = [request async for request in archive_chunks(upload, size=size)]

    sent = first.header.file_name
    assert sent == file_name_of(upload)
    assert len(sent) == 255
    assert sent.startswith("Quyết định số 05 rất dài")


def make_protected_pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out, encrypt="mat-khau")
    page.drawString(72, 720, "Văn bản mật")
    page.showPage()
    page.save()
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "damaged", id="no-pages"),
        pytest.param(make_pdf()[:400] + b"\n%%EOF\n", "damaged", id="truncated"),
        pytest.param(make_protected_pdf(), "password", id="password"),
    ],
)
async def test_a_pdf_that_does_not_open_is_a_422_naming_the_file(
    content: bytes, reason: str
) -> None:
    # It has the header and the trailer marker, so only opening it tells.
    assert content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]

    problem = await refusal(content)

    assert (problem.status, problem.code) == (422, "INVALID_PDF")
    assert [v.field for v in problem.errors] == ["file"]
    assert reason in problem.detail


async def test_a_pdf_spooled_to_disk_is_opened_where_it_lies_and_rewound() -> None:
    # Starlette spools a large part to a temporary file: PDFium reads it there.
    pdf = make_pdf()
    spooled = tempfile.SpooledTemporaryFile(max_size=10)
    spooled.write(pdf)
    upload = UploadFile(file=cast(BinaryIO, spooled), filename="scan.pdf")

    assert await check_pdf(upload, max_bytes=MAX_BYTES) == len(pdf)
    assert await upload.read() == pdf
