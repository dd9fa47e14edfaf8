"""Register books (sổ đăng ký văn bản đến / đi, Decree 30/2020, appendix IV): who may have one,
for which period, and what each row and column holds. Rendering to PDF and XLSX is an adapter
(`adapters/book`); this module decides the content only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from vanban.documents.domain.numbering import Register, RegisterKind
from vanban.documents.domain.service import READ_ALL_ROLES
from vanban.platform.clearance import Clearance
from vanban.platform.errors import NotFoundError, PermissionDeniedError, invalid_fields

# A book covers at most one year: `to` comes before the same day a year after `from` (1 January
# to 31 December; 366 days in a leap year). A register's numbers restart every year, and a
# longer record is an archival export, not a book.
BOOK_MAX_DAYS = 366
# The days a book may name: far wider than any register, and clear of the calendar's end (the
# period's bounds reach a day past `to`).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
# Those who may print a book: the roles that read every document of the agency, since a book
# lists every document of its register.
BOOK_ROLES = READ_ALL_ROLES


class BookFormat(enum.Enum):
    PDF = "pdf"
    XLSX = "xlsx"

    @property
    def content_type(self) -> str:
        if self is BookFormat.PDF:
            return "application/pdf"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class BookPeriod:
    """The days of the book, both included, as dates of the agency's calendar."""

    start: date
    end: date

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The instants [from, until) of the period: from midnight of its first day to midnight
        after its last, in the agency's time zone (a document registered at 00:30 on 1 April,
        Vietnam time, belongs to April though it is still 31 March in UTC)."""
        return (
            datetime.combine(self.start, time(), tz),
            datetime.combine(self.end + timedelta(days=1), time(), tz),
        )


def parse_period(from_text: str, to_text: str) -> BookPeriod:
    """The period of `from` and `to` (YYYY-MM-DD, both included): from ≤ to, at most
    `BOOK_MAX_DAYS` days. Each problem names its field."""
    problems: dict[str, str] = {}
    start = _parse_day(from_text, "from", problems)
    end = _parse_day(to_text, "to", problems)
    if start is not None and end is not None:
        if end < start:
            problems["to"] = "must not be before from"
        elif end >= _one_year_after(start):
            problems["to"] = (
                "the period must be at most one year (to before the same day a year after from)"
            )
    if problems or start is None or end is None:
        raise invalid_fields(problems, reason="INVALID_BOOK_REQUEST")
    return BookPeriod(start=start, end=end)


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February: a year later is 1 March
        return date(day.year + 1, 3, 1)


def _parse_day(text: str, field: str, problems: dict[str, str]) -> date | None:
    if not text:
        problems[field] = "is required, as YYYY-MM-DD"
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        problems[field] = "must be a date as YYYY-MM-DD"
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        problems[field] = f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"
        return None
    return day


def parse_format(text: str) -> BookFormat:
    try:
        return BookFormat(text)
    except ValueError:
        raise invalid_fields(
            {"format": "must be pdf or xlsx"}, reason="INVALID_BOOK_REQUEST"
        ) from None


@dataclass(frozen=True, slots=True)
class BookReader:
    """Who asks for a book: roles and clearance from the caller token; services read all."""

    roles: frozenset[str]
    clearance: Clearance
    is_service: bool = False


def require_book_role(reader: BookReader) -> None:
    """Checked before the register is looked up, so that a refusal tells nothing about it."""
    if reader.is_service or reader.roles.intersection(BOOK_ROLES):
        return
    raise PermissionDeniedError(
        f"a register book needs one of the roles: {', '.join(sorted(BOOK_ROLES))}",
        reason="ROLE_REQUIRED",
        metadata={"roles": ",".join(sorted(BOOK_ROLES))},
    )


def may_see_register(register: Register, clearance: Clearance, *, is_service: bool) -> bool:
    """A register numbering a secrecy level above the reader's clearance is not theirs to know
    of: its list and its book skip it."""
    return is_service or all(clearance.covers(level) for level in register.secrecy_levels)


def readable_register(
    register: Register | None, reader: BookReader, *, register_id: str
) -> Register:
    """The register of the book, or REGISTER_NOT_FOUND: also for one above the reader's
    clearance, whose book would list documents they may not know of."""
    if register is None or not may_see_register(
        register, reader.clearance, is_service=reader.is_service
    ):
        raise NotFoundError(
            "no register with this id that you may read",
            reason="REGISTER_NOT_FOUND",
            metadata={"register_id": register_id[:64]},
        )
    return register


@dataclass(frozen=True, slots=True)
class BookHeading:
    """The title page: the agency, the register and the period."""

    agency_name: str
    register_name: str
    kind: RegisterKind
    period: BookPeriod

    @property
    def title(self) -> str:
        if self.kind is RegisterKind.INCOMING:
            return "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
        return "SỔ ĐĂNG KÝ VĂN BẢN ĐI"

    @property
    def year(self) -> str:
        first, last = self.period.start.year, self.period.end.year
        return f"Năm {first}" if first == last else f"Năm {first} - {last}"

    @property
    def period_text(self) -> str:
        return f"Từ ngày {vn_date(self.period.start)} đến ngày {vn_date(self.period.end)}"


@dataclass(frozen=True, slots=True)
class BookRow:
    """One number of the register: a document, or a number cancelled with its reason.

    `number` is the số đến (incoming) or the số (outgoing) as an integer, `code` the số and
    ký hiệu as written ("05/QĐ-UBND"). `recipients`: incoming, the unit or person it went to;
    outgoing, the nơi nhận. `keeper` and `copies`: outgoing, who keeps the filed copy and how
    many copies were made.
    """

    year: int
    number: int
    registered_on: date | None
    code: str
    issued_date: date | None
    issuer: str
    document_type: str
    subject: str
    signer: str = ""
    recipients: str = ""
    keeper: str = ""
    copies: int | None = None
    note: str = ""
    cancelled: bool = False
    cancel_reason: str | None = None

    @property
    def remark(self) -> str:
        """Ghi chú: a cancelled number says so with its reason, before any other note."""
        parts = []
        if self.cancelled:
            reason = (self.cancel_reason or "").strip()
            parts.append(f"Đã hủy số: {reason}" if reason else "Đã hủy số")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    # Relative width: PDF column widths share the page in this proportion, XLSX widths are it
    # in characters.
    width: int


# Appendix IV of Decree 30/2020: the columns of the sổ đăng ký văn bản đến.
INCOMING_COLUMNS = (
    Column("Ngày đến", 11),
    Column("Số đến", 8),
    Column("Tác giả", 22),
    Column("Số, ký hiệu", 16),
    Column("Ngày tháng", 11),
    Column("Tên loại và trích yếu nội dung", 42),
    Column("Đơn vị hoặc người nhận", 20),
    Column("Ký nhận", 10),
    Column("Ghi chú", 20),
)
# ... and of the sổ đăng ký văn bản đi.
OUTGOING_COLUMNS = (
    Column("Số, ký hiệu văn bản", 16),
    Column("Ngày tháng văn bản", 11),
    Column("Tên loại và trích yếu nội dung văn bản", 44),
    Column("Người ký", 18),
    Column("Nơi nhận văn bản", 24),
    Column("Đơn vị, người nhận bản lưu", 18),
    Column("Số lượng bản", 8),
    Column("Ghi chú", 20),
)


def columns(kind: RegisterKind) -> tuple[Column, ...]:
    return INCOMING_COLUMNS if kind is RegisterKind.INCOMING else OUTGOING_COLUMNS


Value = str | int | date | None


def values(row: BookRow, kind: RegisterKind) -> tuple[Value, ...]:
    """The row's values in the order of `columns(kind)`: numbers and dates as such (a
    spreadsheet keeps them sortable), everything else as text."""
    type_and_subject = f"{row.document_type}: {row.subject}" if row.document_type else row.subject
    if kind is RegisterKind.INCOMING:
        return (
            row.registered_on,
            row.number,
            row.issuer,
            row.code,
            row.issued_date,
            type_and_subject,
            row.recipients,
            "",  # Ký nhận: signed by hand in the printed book
            row.remark,
        )
    return (
        row.code,
        row.issued_date,
        type_and_subject,
        row.signer,
        row.recipients,
        row.keeper,
        row.copies,
        row.remark,
    )


def cells(row: BookRow, kind: RegisterKind) -> tuple[str, ...]:
    """The row's values as printed text."""
    return tuple(_text(value) for value in values(row, kind))


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return vn_date(value)
    return str(value)


def vn_date(day: date | None) -> str:
    """Dates as Vietnamese documents write them: 05/03/2026."""
    return "" if day is None else day.strftime("%d/%m/%Y")


def file_name(register_id: str, period: BookPeriod, fmt: BookFormat) -> str:
    """`so-dang-ky-<register>-<from>-<to>.<ext>`: ASCII, safe in a Content-Disposition."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in register_id)
    return f"so-dang-ky-{safe}-{period.start.isoformat()}-{period.end.isoformat()}.{fmt.value}"
