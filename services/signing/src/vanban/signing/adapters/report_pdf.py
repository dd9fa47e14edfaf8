"""The validation report as a PDF for people to read and keep, in Vietnamese.

DejaVu Sans (Debian `fonts-dejavu-core`) is embedded, so that every Vietnamese letter renders and
text extraction gives it back; text is NFC-normalised first, because reportlab places combining
marks without shaping. Times are Vietnam time (UTC+07:00, no daylight saving), ISO 8601.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from vanban.signing.domain.model import CertificateSummary, SignatureCheck, ValidationResult

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT = "DejaVuSans"
_FONT_BOLD = "DejaVuSans-Bold"
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")

TITLE = "Báo cáo kiểm tra chữ ký số"
VALID = "Hợp lệ"
INVALID = "Không hợp lệ"

_COVERAGE = {
    "ENTIRE_FILE": "Toàn bộ tệp",
    "ENTIRE_REVISION": "Toàn bộ phiên bản được ký; tệp có cập nhật sau khi ký",
    "CONTIGUOUS_BLOCK_FROM_START": "Một phần đầu tệp, không trọn phiên bản được ký",
    "UNCLEAR": "Không rõ ràng (vùng ký bất thường)",
}
_MODIFICATION = {
    "NONE": "Không có",
    "LTA_UPDATES": "Chỉ bổ sung dữ liệu phục vụ kiểm tra dài hạn",
    "FORM_FILLING": "Điền biểu mẫu hoặc thêm chữ ký",
    "ANNOTATIONS": "Thêm chú thích",
    "OTHER": "Thay đổi khác, không được phép",
}
_GREEN = colors.HexColor("#1b7a35")
_RED = colors.HexColor("#b3261e")
_GREY = colors.HexColor("#c8c8c8")
_CN = re.compile(r"(?:^|, )CN=((?:[^,\\]|\\.)*)")


def render_report(
    result: ValidationResult, *, file_name: str, validated_at: datetime, validated_by: str
) -> bytes:
    """The report as an A4 PDF; the same inputs give the same bytes."""
    if validated_at.tzinfo is None:
        raise ValueError("validated_at must be timezone-aware")
    _register_fonts()
    styles = _Styles()
    verdict = VALID if result.ok else INVALID
    story: list[Flowable] = [
        Paragraph(_text(TITLE), styles.title),
        _table(
            [
                ("Tệp", file_name),
                ("SHA-256", result.file_sha256),
                ("Kích thước", f"{result.file_size:,} byte".replace(",", ".")),
                ("Thời điểm kiểm tra", _time(validated_at)),
                ("Người kiểm tra", validated_by),
                ("Số chữ ký", str(len(result.signatures))),
            ],
            styles,
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            f"Kết luận: <font color='{_hex(_GREEN if result.ok else _RED)}'>{verdict}</font>",
            styles.verdict,
        ),
    ]
    if not result.signatures:
        story.append(Paragraph(_text("Tệp không có chữ ký số nào."), styles.body))
    for number, signature in enumerate(result.signatures, start=1):
        story.append(Spacer(1, 5 * mm))
        story.append(
            KeepTogether(
                [
                    Paragraph(
                        _text(f"Chữ ký {number}: {signature.field_name}"),
                        styles.heading,
                    ),
                    _table(_signature_rows(signature), styles, verdict=signature.ok),
                ]
            )
        )
    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            _text(
                "Thời gian theo giờ Việt Nam (UTC+07:00). Chữ ký hợp lệ khi nội dung được ký "
                "không bị thay đổi, chữ ký đúng, chứng thư của người ký dẫn tới một chứng thư gốc "
                "tin cậy và sau khi ký không có thay đổi nào ngoài những thay đổi được phép."
            ),
            styles.note,
        )
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=TITLE,
        author=_nfc(validated_by),
        subject=_nfc(file_name),
        creator="Vanban",
        lang="vi-VN",
        invariant=1,
    )
    document.build(story)
    return buffer.getvalue()


def _signature_rows(signature: SignatureCheck) -> list[tuple[str, str]]:
    signer = signature.signer
    rows = [
        ("Người ký", _person(signer)),
        ("Loại chứng thư", _certificate_kind(signature)),
        ("Tổ chức cấp", _issuer(signer)),
        ("Số hiệu chứng thư", signer.serial_number if signer else "Không đọc được"),
        (
            "Hiệu lực chứng thư",
            f"Từ {_time(signer.not_before)} đến {_time(signer.not_after)}" if signer else "—",
        ),
        (
            "Thời điểm ký",
            _time(signature.signing_time) if signature.signing_time else "Không có",
        ),
        ("Dấu thời gian", _timestamp(signature)),
        ("Mức PAdES", signature.level.value if signature.level else "Không xác định"),
        ("Toàn vẹn", _integrity(signature)),
        ("Tin cậy", _trust(signature)),
        ("Phạm vi", _COVERAGE.get(signature.coverage, signature.coverage or "Không xác định")),
        ("Thay đổi sau khi ký", _changes(signature)),
        ("Lỗi", signature.error or "Không có"),
    ]
    if signature.summary:
        rows.append(("Tóm tắt kỹ thuật", signature.summary))
    return rows


def _person(signer: CertificateSummary | None) -> str:
    if signer is None:
        return "Không đọc được chứng thư của người ký"
    return _with_subject(signer.subject)


def _issuer(signer: CertificateSummary | None) -> str:
    return _with_subject(signer.issuer) if signer is not None else "Không đọc được"


def _with_subject(name: str) -> str:
    common = _common_name(name)
    return f"{common}\n{name}" if common and common != name else name


def _common_name(name: str) -> str:
    match = _CN.search(name)
    return re.sub(r"\\(.)", r"\1", match.group(1)) if match else ""


def _certificate_kind(signature: SignatureCheck) -> str:
    if signature.signer is None:
        return "Không xác định"
    return "Chứng thư của cơ quan, tổ chức" if signature.organisation else "Chứng thư cá nhân"


def _timestamp(signature: SignatureCheck) -> str:
    if not signature.has_timestamp:
        return "Không có"
    when = _time(signature.timestamp_time) if signature.timestamp_time else "không rõ thời điểm"
    return f"{when} ({'hợp lệ' if signature.timestamp_valid else 'không hợp lệ'})"


def _integrity(signature: SignatureCheck) -> str:
    if signature.error:
        return "Không kiểm tra được (chữ ký bị hỏng)"
    if not signature.intact:
        return "Không: nội dung được ký đã bị thay đổi"
    if not signature.valid:
        return "Không: chữ ký không khớp với chứng thư"
    return "Có: nội dung được ký không bị thay đổi"


def _trust(signature: SignatureCheck) -> str:
    if signature.trusted:
        return "Có: chứng thư dẫn tới chứng thư gốc tin cậy"
    problem = f" ({signature.trust_problem})" if signature.trust_problem else ""
    return f"Không{problem}"


def _changes(signature: SignatureCheck) -> str:
    level = signature.modification_level
    text = _MODIFICATION.get(level, level or "Không xác định")
    if signature.trailing_data:
        text += "\nCó dữ liệu lạ nối thêm sau phần cuối của tệp"
    return text


def _time(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_TIME).isoformat(timespec="seconds")


# --- layout ------------------------------------------------------------------------------------


class _Styles:
    def __init__(self) -> None:
        self.title = ParagraphStyle(
            "title", fontName=_FONT_BOLD, fontSize=16, leading=20, spaceAfter=6 * mm
        )
        self.heading = ParagraphStyle(
            "heading", fontName=_FONT_BOLD, fontSize=11.5, leading=15, spaceAfter=2 * mm
        )
        self.verdict = ParagraphStyle("verdict", fontName=_FONT_BOLD, fontSize=13, leading=17)
        self.label = ParagraphStyle("label", fontName=_FONT_BOLD, fontSize=9, leading=12)
        self.body = ParagraphStyle("body", fontName=_FONT, fontSize=9, leading=12)
        self.note = ParagraphStyle(
            "note", fontName=_FONT, fontSize=8, leading=11, textColor=colors.HexColor("#555555")
        )


def _table(
    rows: Iterable[tuple[str, str]], styles: _Styles, *, verdict: bool | None = None
) -> Table:
    data = [
        [Paragraph(_text(label), styles.label), Paragraph(_text(value), styles.body)]
        for label, value in rows
    ]
    if verdict is not None:
        color = _hex(_GREEN if verdict else _RED)
        data.append(
            [
                Paragraph(_text("Kết quả"), styles.label),
                Paragraph(
                    f"<font color='{color}'>{VALID if verdict else INVALID}</font>", styles.label
                ),
            ]
        )
    table = Table(data, colWidths=[42 * mm, None], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, _GREY),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
            ]
        )
    )
    return table


def _text(value: str) -> str:
    """Plain text as paragraph markup: escaped, NFC, line breaks kept."""
    return escape(_nfc(value)).replace("\n", "<br/>")


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _hex(color: colors.Color) -> str:
    return "#" + color.hexval()[2:]


@functools.cache
def _register_fonts() -> None:
    for name, file in ((_FONT, "DejaVuSans.ttf"), (_FONT_BOLD, "DejaVuSans-Bold.ttf")):
        path = FONT_DIR / file
        if not path.is_file():
            raise FileNotFoundError(f"font {path} is missing (Debian package fonts-dejavu-core)")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(_FONT, normal=_FONT, bold=_FONT_BOLD)
