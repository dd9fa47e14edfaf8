"""Numbering registers (sổ đăng ký) and the số / ký hiệu of documents (Decree 30/2020).

Pure rules only. What the storage adapter must guarantee when it takes a number (next session):

- one counter per (register, year), where the year is `register_year` of the issuing instant;
- the number is taken inside the transaction that issues (or registers) the document, so a
  rolled-back issue takes no number: the series stays gapless;
- concurrency-safe across replicas (e.g. a row lock / `UPDATE ... RETURNING` on the counter row),
  never a max()+1 read outside the lock: two documents never get the same number;
- a number, once issued, is never handed out again, even when cancelled (`next_number`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from vanban.documents.domain.document_types import DocumentType
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    invalid_fields,
)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
CODE_NUMBER_MAX = 11  # CodeNumber S11, appendix VI
CODE_NOTATION_MAX = 30  # CodeNotation S30, appendix VI
CANCEL_REASON_MAX = 500


class RegisterKind(enum.Enum):
    INCOMING = "incoming"  # sổ văn bản đến: số đến
    OUTGOING = "outgoing"  # sổ văn bản đi: số of issued documents


def register_year(instant: datetime) -> int:
    """The register year of `instant`: numbering restarts at 00:00 Asia/Ho_Chi_Minh on 1 January,
    so 31 December 17:00 UTC already belongs to the next year."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("register_year needs an aware instant, not a naive datetime")
    return instant.astimezone(VIETNAM).year


@dataclass(frozen=True, slots=True)
class Register:
    """A numbering series of the agency, counted per year.

    `secrecy_levels`: the secrecy levels it numbers (secret documents have their own series).
    `document_types`: for an outgoing series, the names of the types it numbers (its type group);
    empty means every type not claimed by another series of the same secrecy. An incoming register
    numbers every arrival (paper and electronic alike) and names no types.
    """

    id: str
    name: str
    kind: RegisterKind
    secrecy_levels: frozenset[Secrecy]
    document_types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        if not self.id.strip():
            problems["id"] = "is required"
        if not self.name.strip():
            problems["name"] = "is required"
        if not self.secrecy_levels:
            problems["secrecy_levels"] = "must name at least one secrecy level"
        if self.kind is RegisterKind.INCOMING and self.document_types:
            problems["document_types"] = "an incoming register numbers every type"
        if problems:
            raise invalid_fields(problems, reason="INVALID_REGISTER")

    def serves(self, kind: RegisterKind, document_type: DocumentType, secrecy: Secrecy) -> bool:
        return (
            self.kind is kind
            and secrecy in self.secrecy_levels
            and (not self.document_types or document_type.name in self.document_types)
        )


def choose_register(
    registers: Iterable[Register],
    kind: RegisterKind,
    document_type: DocumentType,
    secrecy: Secrecy,
) -> Register:
    """The one register that numbers this document.

    A series naming the type wins over a series for every type; otherwise exactly one register
    must match, or the configuration is wrong and the document cannot be numbered.
    """
    matching = [r for r in registers if r.serves(kind, document_type, secrecy)]
    specific = [r for r in matching if document_type.name in r.document_types]
    candidates = specific or matching
    metadata = {"kind": kind.value, "document_type": document_type.name, "secrecy": secrecy.value}
    if not candidates:
        raise FailedPreconditionError(
            f"no {kind.value} register numbers a {document_type.name!r} of secrecy {secrecy.value}",
            reason="NO_REGISTER",
            metadata=metadata,
        )
    if len(candidates) > 1:
        ids = ", ".join(sorted(r.id for r in candidates))
        raise FailedPreconditionError(
            f"several {kind.value} registers number a {document_type.name!r} of secrecy "
            f"{secrecy.value}: {ids}",
            reason="AMBIGUOUS_REGISTER",
            metadata={**metadata, "registers": ids},
        )
    return candidates[0]


def _check_number(number: int) -> None:
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise invalid_fields({"number": "must be a whole number from 1"}, reason="INVALID_NUMBER")


def format_number(number: int) -> str:
    """The số as written: numbers below 10 get a leading zero ("05"), others as they are."""
    _check_number(number)
    text = f"{number:02d}"
    if len(text) > CODE_NUMBER_MAX:
        raise invalid_fields(
            {"number": f"must be at most {CODE_NUMBER_MAX} digits"}, reason="INVALID_NUMBER"
        )
    return text


def is_agency_abbreviation(value: str) -> bool:
    """Capitals (Vietnamese ones such as Đ included) and digits, starting with a letter."""
    return (
        bool(value)
        and value[0].isalpha()
        and all((c.isalpha() and c.isupper()) or c.isdigit() for c in value)
    )


def notation(
    document_type: DocumentType, issuer_abbreviation: str, unit_abbreviation: str | None = None
) -> str:
    """The ký hiệu: type abbreviation and issuer ("QĐ-UBND"); for a công văn, the issuer and the
    drafting unit ("UBND-VP"), which a công văn requires and no other type takes."""
    problems: dict[str, str] = {}
    if not is_agency_abbreviation(issuer_abbreviation):
        problems["issuer_abbreviation"] = "must be capitals and digits, such as UBND"
    if document_type.is_cong_van:
        if unit_abbreviation is None:
            problems["unit_abbreviation"] = "is required for a công văn"
        elif not is_agency_abbreviation(unit_abbreviation):
            problems["unit_abbreviation"] = "must be capitals and digits, such as VP"
    elif unit_abbreviation is not None:
        problems["unit_abbreviation"] = "only a công văn names the drafting unit"
    if problems:
        raise invalid_fields(problems, reason="INVALID_NOTATION")
    if document_type.is_cong_van:
        text = f"{issuer_abbreviation}-{unit_abbreviation}"
    else:
        text = f"{document_type.abbreviation}-{issuer_abbreviation}"
    if len(text) > CODE_NOTATION_MAX:
        raise invalid_fields(
            {"notation": f"must be at most {CODE_NOTATION_MAX} characters"},
            reason="INVALID_NOTATION",
        )
    return text


def full_number(number: int, code_notation: str) -> str:
    """Số and ký hiệu together, as printed on the document: "05/QĐ-UBND"."""
    if not code_notation or code_notation != code_notation.strip() or "/" in code_notation:
        raise invalid_fields(
            {"notation": "is required, without spaces around it or a slash"},
            reason="INVALID_NOTATION",
        )
    return f"{format_number(number)}/{code_notation}"


@dataclass(frozen=True, slots=True)
class CancelledNumber:
    """A number of a register's year that was issued and then cancelled, kept with its reason.

    The number stays taken: it is never given to another document (see `next_number`).
    """

    register_id: str
    year: int
    number: int
    reason: str
    cancelled_by: str
    at: datetime

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        if not self.register_id.strip():
            problems["register_id"] = "is required"
        if isinstance(self.number, bool) or self.number < 1:
            problems["number"] = "must be a whole number from 1"
        if not self.reason.strip():
            problems["reason"] = "is required: say why the number is cancelled"
        elif len(self.reason) > CANCEL_REASON_MAX:
            problems["reason"] = f"must be at most {CANCEL_REASON_MAX} characters"
        if not self.cancelled_by.strip():
            problems["cancelled_by"] = "is required"
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            problems["at"] = "must be an aware instant"
        elif register_year(self.at) < self.year:
            problems["at"] = "cannot be before the register year"
        if problems:
            raise invalid_fields(problems, reason="INVALID_CANCELLATION")


def next_number(last_issued: int, cancellations: Sequence[CancelledNumber] = ()) -> int:
    """The next number of a register's year: always `last_issued + 1` (1 for a fresh year).

    Cancellations never free a number: a cancelled số stays on record with its reason and the
    series moves on, so a number means one document only, forever. They are passed so that an
    inconsistent record (a cancellation of a number never issued) is caught, not to be reused.
    """
    if isinstance(last_issued, bool) or last_issued < 0:
        raise ValueError("last_issued is 0 for a fresh year, never negative")
    for cancelled in cancellations:
        if cancelled.number > last_issued:
            raise ValueError(f"number {cancelled.number} is cancelled but was never issued")
    return last_issued + 1


def cancel_number(
    *,
    register_id: str,
    year: int,
    number: int,
    last_issued: int,
    cancellations: Iterable[CancelledNumber],
    reason: str,
    cancelled_by: str,
    at: datetime,
) -> CancelledNumber:
    """Records the cancellation of an issued number; a number is cancelled at most once."""
    cancelled = CancelledNumber(
        register_id=register_id,
        year=year,
        number=number,
        reason=reason.strip(),
        cancelled_by=cancelled_by,
        at=at,
    )
    if number > last_issued:
        raise FailedPreconditionError(
            f"number {number} of {year} has not been issued", reason="NUMBER_NOT_ISSUED"
        )
    for earlier in cancellations:
        if (earlier.register_id, earlier.year, earlier.number) == (register_id, year, number):
            raise AlreadyExistsError(
                f"number {number} of {year} is already cancelled", reason="NUMBER_ALREADY_CANCELLED"
            )
    return cancelled
