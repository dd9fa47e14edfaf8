"""Documents of the agency (Decree 30/2020, appendix VI)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime

from vanban.platform.clearance import Secrecy
from vanban.platform.errors import invalid_fields


class Priority(enum.Enum):
    """Độ khẩn."""

    NORMAL = "normal"  # thường
    URGENT = "urgent"  # khẩn
    VERY_URGENT = "very_urgent"  # thượng khẩn
    FLASH = "flash"  # hỏa tốc


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file held by the archive service, identified by its SHA-256."""

    sha256: str
    size: int
    content_type: str
    file_name: str


# Field sizes are those of Decree 30/2020, appendix VI.
ISSUER_CODE_MAX = 13
ISSUER_NAME_MAX = 200
CODE_NUMBER_MAX = 11
CODE_NOTATION_MAX = 30
TYPE_NAME_MAX = 100
SUBJECT_MAX = 500
FILE_NAME_MAX = 255
# The width of the database column: a longer value must be refused here, not fail the insert.
CONTENT_TYPE_MAX = 127
# Mã định danh (Decision 20/2020): digits, capitals and dots, e.g. 000.00.00.G22. The contract
# declares the same rule on RegisterIncomingDocumentRequest, for the gateway to check first.
ISSUER_CODE_PATTERN = r"^[0-9A-Z][0-9A-Z.]*$"
_ISSUER_CODE_RE = re.compile(ISSUER_CODE_PATTERN)
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class IncomingDraft:
    """What a clerk enters for an arriving document, before it has an arrival number."""

    issuer_code: str
    issuer_name: str
    code_number: str
    code_notation: str
    issued_date: str
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    file: FileRef

    def validated(self, *, arrival_day: date) -> tuple[IncomingDraft, date]:
        """Trims the text fields and checks every one; raises one error naming all problems."""
        draft = IncomingDraft(
            issuer_code=self.issuer_code.strip(),
            issuer_name=self.issuer_name.strip(),
            code_number=self.code_number.strip(),
            code_notation=self.code_notation.strip(),
            issued_date=self.issued_date.strip(),
            document_type=self.document_type.strip(),
            subject=self.subject.strip(),
            priority=self.priority,
            secrecy=self.secrecy,
            file=self.file,
        )
        problems: dict[str, str] = {}

        def text(name: str, value: str, limit: int) -> None:
            if not value:
                problems[name] = "is required"
            elif _CONTROL_RE.search(value):
                problems[name] = "must not contain control characters"
            elif len(value) > limit:
                problems[name] = f"must be at most {limit} characters"

        text("issuer_code", draft.issuer_code, ISSUER_CODE_MAX)
        if "issuer_code" not in problems and not _ISSUER_CODE_RE.match(draft.issuer_code):
            problems["issuer_code"] = "must be an agency identifier such as 000.00.00.G22"
        text("issuer_name", draft.issuer_name, ISSUER_NAME_MAX)
        text("code_number", draft.code_number, CODE_NUMBER_MAX)
        text("code_notation", draft.code_notation, CODE_NOTATION_MAX)
        text("document_type", draft.document_type, TYPE_NAME_MAX)
        text("subject", draft.subject, SUBJECT_MAX)
        issued: date | None = None
        try:
            issued = date.fromisoformat(draft.issued_date)
            if len(draft.issued_date) != 10:
                raise ValueError
        except ValueError:
            problems["issued_date"] = "must be a date written YYYY-MM-DD"
        if issued is not None and issued > arrival_day:
            problems["issued_date"] = "cannot be later than the day of arrival"
        if not _SHA256_RE.match(draft.file.sha256):
            problems["file.sha256"] = "must be a lower-case hex SHA-256"
        if draft.file.size <= 0:
            problems["file.size"] = "must be positive"
        if _CONTROL_RE.search(draft.file.file_name + draft.file.content_type):
            problems["file"] = "names must not contain control characters"
        if len(draft.file.file_name) > FILE_NAME_MAX:
            problems["file.file_name"] = f"must be at most {FILE_NAME_MAX} characters"
        if len(draft.file.content_type) > CONTENT_TYPE_MAX:
            problems["file.content_type"] = f"must be at most {CONTENT_TYPE_MAX} characters"
        if problems:
            raise invalid_fields(problems, reason="INVALID_INCOMING_DOCUMENT")
        assert issued is not None
        return draft, issued


@dataclass(frozen=True, slots=True)
class IncomingDocument:
    """Văn bản đến: a registered incoming document."""

    id: str
    arrival_number: int
    arrival_year: int
    arrived_at: datetime
    issuer_code: str
    issuer_name: str
    code_number: str
    code_notation: str
    issued_date: date
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    file: FileRef
    registered_by: str
