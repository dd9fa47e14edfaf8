"""Document types (tên loại văn bản) and their abbreviations, as data (Decree 30/2020, appendix III).

The catalogue is the agency's configuration: `DEFAULT_CATALOGUE` is the decree's list, which an
agency may extend or change later, so a type is a value, never an enum member.

A công văn has no type abbreviation: its ký hiệu is the agency's abbreviation followed by the
drafting unit's (see `numbering.notation`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vanban.platform.errors import InvalidArgumentError, invalid_fields

TYPE_NAME_MAX = 100  # TypeName S100, appendix VI
CONG_VAN = "Công văn"


def is_type_abbreviation(value: str) -> bool:
    """Letters only, the first a capital: the decree's abbreviations mix cases (QyĐ, CTr, TrS)."""
    return bool(value) and value.isalpha() and value[0].isupper()


@dataclass(frozen=True, slots=True)
class DocumentType:
    """A tên loại văn bản: its Vietnamese name and abbreviation (None for a công văn only)."""

    name: str
    abbreviation: str | None

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        if not self.name or self.name != self.name.strip():
            problems["name"] = "is required, without surrounding spaces"
        elif len(self.name) > TYPE_NAME_MAX:
            problems["name"] = f"must be at most {TYPE_NAME_MAX} characters"
        if self.abbreviation is not None and not is_type_abbreviation(self.abbreviation):
            problems["abbreviation"] = "must be letters starting with a capital, such as QĐ"
        if problems:
            raise invalid_fields(problems, reason="INVALID_DOCUMENT_TYPE")

    @property
    def is_cong_van(self) -> bool:
        """A công văn carries no type abbreviation in its ký hiệu."""
        return self.abbreviation is None


def cong_van(name: str = CONG_VAN) -> DocumentType:
    return DocumentType(name=name, abbreviation=None)


DEFAULT_CATALOGUE: tuple[DocumentType, ...] = (
    *(
        DocumentType(name=name, abbreviation=abbreviation)
        for name, abbreviation in (
            ("Nghị quyết", "NQ"),
            ("Quyết định", "QĐ"),
            ("Chỉ thị", "CT"),
            ("Quy chế", "QC"),
            ("Quy định", "QyĐ"),
            ("Thông cáo", "TC"),
            ("Thông báo", "TB"),
            ("Hướng dẫn", "HD"),
            ("Chương trình", "CTr"),
            ("Kế hoạch", "KH"),
            ("Phương án", "PA"),
            ("Đề án", "ĐA"),
            ("Dự án", "DA"),
            ("Báo cáo", "BC"),
            ("Biên bản", "BB"),
            ("Tờ trình", "TTr"),
            ("Hợp đồng", "HĐ"),
            ("Công điện", "CĐ"),
            ("Bản ghi nhớ", "BGN"),
            ("Bản thỏa thuận", "BTT"),
            ("Giấy ủy quyền", "GUQ"),
            ("Giấy mời", "GM"),
            ("Giấy giới thiệu", "GGT"),
            ("Giấy nghỉ phép", "GNP"),
            ("Phiếu gửi", "PG"),
            ("Phiếu chuyển", "PC"),
            ("Phiếu báo", "PB"),
            # DOMAIN.md: "Bản sao y SY, trích sao TrS, sao lục SL" -- the decree's "Bản ..." names.
            ("Bản sao y", "SY"),
            ("Bản trích sao", "TrS"),
            ("Bản sao lục", "SL"),
        )
    ),
    cong_van(),
)


def check_catalogue(types: Iterable[DocumentType]) -> tuple[DocumentType, ...]:
    """An agency's catalogue: names and abbreviations each unique (compared without case)."""
    catalogue = tuple(types)
    names = [t.name.casefold() for t in catalogue]
    abbreviations = [t.abbreviation for t in catalogue if t.abbreviation is not None]
    problems: dict[str, str] = {}
    if len(set(names)) != len(names):
        problems["name"] = "each document type needs its own name"
    if len(set(abbreviations)) != len(abbreviations):
        problems["abbreviation"] = "each document type needs its own abbreviation"
    if problems:
        raise invalid_fields(problems, reason="INVALID_DOCUMENT_TYPE_CATALOGUE")
    return catalogue


def type_named(types: Iterable[DocumentType], name: str) -> DocumentType:
    """The type of the catalogue called `name` (case and surrounding spaces ignored)."""
    wanted = name.strip().casefold()
    for document_type in types:
        if document_type.name.casefold() == wanted:
            return document_type
    raise InvalidArgumentError(
        f"unknown document type {name!r}",
        reason="UNKNOWN_DOCUMENT_TYPE",
        metadata={"document_type": name},
    )
