"""The validation report renders as a PDF whose Vietnamese text a reader gets back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pypdfium2 as pdfium

from services.signing.tests.unit.test_validation import (
    make_ca,
    make_leaf,
    make_name,
    make_pdf,
    sign,
)
from vanban.signing.adapters.report_pdf import render_report
from vanban.signing.adapters.validation import validate_pdf
from vanban.signing.domain.model import (
    CertificateSummary,
    PadesLevel,
    SignatureCheck,
    ValidationResult,
)

VALIDATED_AT = datetime(2026, 11, 29, 3, 4, 5, tzinfo=UTC)
SIGNED_AT = datetime(2026, 11, 28, 17, 30, 0, tzinfo=UTC)


def make_certificate(**overrides: object) -> CertificateSummary:
    values: dict[str, object] = {
        "subject": "CN=Nguyễn Văn An, SN=Nguyễn, givenName=Văn An, O=Ủy ban nhân dân tỉnh Demo, C=VN",
        "issuer": "CN=Ủy ban nhân dân tỉnh Demo - CA (development), C=VN",
        "serial_number": "0a1b2c3d",
        "not_before": datetime(2026, 1, 1, tzinfo=UTC),
        "not_after": datetime(2029, 1, 1, tzinfo=UTC),
        "sha256": "ab" * 32,
    }
    values.update(overrides)
    return CertificateSummary(**values)  # type: ignore[arg-type]


def make_check(**overrides: object) -> SignatureCheck:
    signer = make_certificate()
    values: dict[str, object] = {
        "field_name": "Sig1",
        "signer": signer,
        "chain": (signer,),
        "intact": True,
        "valid": True,
        "trusted": True,
        "signing_time": SIGNED_AT,
        "coverage": "ENTIRE_FILE",
        "modification_level": "NONE",
        "docmdp_ok": True,
        "level": PadesLevel.B_B,
        "summary": "INTACT:TRUSTED,UNTOUCHED",
        "ok": True,
    }
    values.update(overrides)
    return SignatureCheck(**values)  # type: ignore[arg-type]


def make_result(*signatures: SignatureCheck) -> ValidationResult:
    return ValidationResult(file_sha256="cd" * 32, file_size=12345, signatures=signatures)


def render(result: ValidationResult) -> bytes:
    return render_report(
        result,
        file_name="Quyết định 12/QĐ-UBND <bản chính>.pdf",
        validated_at=VALIDATED_AT,
        validated_by="Trần Thị Bình",
    )


def text_of(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        pages = (page.get_textpage().get_text_range() for page in document)
        return "\n".join(pages).replace("\r\n", "\n")
    finally:
        document.close()


def test_a_good_signature_reads_valid() -> None:
    pdf = render(make_result(make_check()))

    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Báo cáo kiểm tra chữ ký số" in text
    assert "Kết luận: Hợp lệ" in text
    assert "Không hợp lệ" not in text
    assert "Nguyễn Văn An" in text
    assert "Quyết định 12/QĐ-UBND <bản chính>.pdf" in text
    assert "cd" * 32 in text
    assert "Trần Thị Bình" in text
    # Vietnam time: 17:30 UTC is half past midnight the next day.
    assert "2026-11-29T00:30:00+07:00" in text
    assert "2026-11-29T10:04:05+07:00" in text
    assert "Toàn bộ tệp" in text


def test_a_broken_signature_reads_invalid_with_its_error() -> None:
    broken = make_check(
        intact=False,
        valid=False,
        trusted=False,
        ok=False,
        level=None,
        summary="",
        error="SignatureValidationError: Signing certificate attribute does not match",
        trailing_data=True,
    )

    text = text_of(render(make_result(broken)))

    assert "Kết luận: Không hợp lệ" in text
    assert "Kết luận: Hợp lệ" not in text
    assert "Nguyễn Văn An" in text
    assert "Signing certificate attribute does not match" in text
    assert "dữ liệu lạ" in text


def test_one_broken_signature_of_two_makes_the_file_invalid() -> None:
    good = make_check()
    altered = make_check(
        field_name="Sig2",
        signer=make_certificate(subject="CN=Ủy ban nhân dân tỉnh Demo, organizationIdentifier=H99"),
        organisation=True,
        coverage="ENTIRE_REVISION",
        modification_level="OTHER",
        docmdp_ok=False,
        ok=False,
    )

    text = text_of(render(make_result(good, altered)))

    assert "Kết luận: Không hợp lệ" in text
    assert "Chữ ký 1: Sig1" in text and "Chữ ký 2: Sig2" in text
    assert "Chứng thư của cơ quan, tổ chức" in text
    assert "Thay đổi khác, không được phép" in text


def test_a_file_without_signatures_says_so() -> None:
    text = text_of(render(make_result()))

    assert "Kết luận: Không hợp lệ" in text
    assert "không có chữ ký số nào" in text


def test_decomposed_vietnamese_is_rendered_composed() -> None:
    decomposed = "CN=Nguye\u0302\u0303n Va\u0306n An, C=VN"  # NFD, as some CAs write names
    signer = make_certificate(subject=decomposed)

    text = text_of(render(make_result(make_check(signer=signer))))

    assert "Nguyễn Văn An" in text


def test_the_same_result_renders_the_same_bytes() -> None:
    result = make_result(make_check(), replace(make_check(), field_name="Sig2", ok=False))

    assert render(result) == render(result)


async def test_the_report_of_a_real_validation_names_the_signer() -> None:
    ca = make_ca()
    signer = make_leaf(ca, make_name("Nguyễn Văn An", GIVEN_NAME="Văn An", SURNAME="Nguyễn"))
    signed = await sign(make_pdf(), signer, ca)
    good = await validate_pdf(signed, trust_roots=[ca.cert])
    broken = await validate_pdf(signed.replace(b"Quyet", b"Quyit"), trust_roots=[ca.cert])

    good_text, broken_text = text_of(render(good)), text_of(render(broken))

    assert "Kết luận: Hợp lệ" in good_text and "Không hợp lệ" not in good_text
    assert "Kết luận: Không hợp lệ" in broken_text
    assert "Người ký Nguyễn Văn An\nCN=Nguyễn Văn An, " in good_text  # the name, then the subject
    assert "Demo CA" in good_text  # the issuer
