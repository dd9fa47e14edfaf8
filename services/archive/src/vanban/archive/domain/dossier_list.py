"""The dossier list (danh mục hồ sơ) an agency approves each year, and the checks of a list
imported from a file.

Every row is checked completely and every problem is reported with its line and field, so whoever
prepares the list fixes the whole file in one go (the dry run) before anything is imported. Lines
are numbered as a spreadsheet shows them: the header is line 1, the first entry usually line 2;
line 0 stands for the file as a whole.

One dossier has one spelling, so values are normalised before they are checked or compared:

- `code`: surrounding spaces dropped, Unicode NFC, upper-cased (`01.tccb` is `01.TCCB`, `01.đt`
  is `01.ĐT`); digits are kept as written, so `1.TCCB` and `01.TCCB` are two codes: the numbering
  is the agency's own.
- `title`: NFC, every run of white space (the line breaks of a wrapped cell included) one space.
- `notes`: NFC, line breaks kept as `\\n`, surrounding spaces dropped.
- `creator_unit`: upper-cased, as the directory writes unit codes; `responsible`: lower-cased, as
  the directory compares usernames and writes person ids.
- `retention`: its code; `N năm` is read as the code that keeps N years, and retention 07 (other)
  with the years of a listed code becomes that code (`07` + 10 years is `06`).
- `access`: its code; a code may be written without its leading zero or as its Vietnamese label.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from vanban.platform.errors import FieldViolation, InvalidArgumentError, invalid_fields

MAX_LIST_ROWS = 2000
MAX_LIST_FILE_BYTES = 2 * 1024 * 1024
YEAR_MIN = 2000
YEAR_MAX = 2100
CODE_MAX = 40
TITLE_MAX = 500
UNIT_CODE_MAX = 64
RESPONSIBLE_MAX = 128
NOTES_MAX = 1000
OTHER_YEARS_MIN = 1
OTHER_YEARS_MAX = 100
WHOLE_FILE = 0

COLUMNS = (
    "code",
    "title",
    "retention",
    "retention_years",
    "access",
    "creator_unit",
    "responsible",
    "notes",
)
# A file may leave out the others (retention_years is needed only by retention 07).
REQUIRED_COLUMNS = ("code", "title", "retention", "access", "creator_unit")


class Retention(enum.StrEnum):
    """Thời hạn bảo quản: how long a dossier is kept, by its code."""

    PERMANENT = "01"
    YEARS_70 = "02"
    YEARS_50 = "03"
    YEARS_30 = "04"
    YEARS_20 = "05"
    YEARS_10 = "06"
    OTHER = "07"

    @property
    def label(self) -> str:
        return _RETENTION_LABELS[self]

    @property
    def years(self) -> int | None:
        """The years the code stands for: None for PERMANENT, and for OTHER, whose years each
        entry gives (see `retention_years`)."""
        return _RETENTION_YEARS.get(self)


_RETENTION_LABELS = {
    Retention.PERMANENT: "Vĩnh viễn",
    Retention.YEARS_70: "70 năm",
    Retention.YEARS_50: "50 năm",
    Retention.YEARS_30: "30 năm",
    Retention.YEARS_20: "20 năm",
    Retention.YEARS_10: "10 năm",
    Retention.OTHER: "Khác",
}
_RETENTION_YEARS = {
    Retention.YEARS_70: 70,
    Retention.YEARS_50: 50,
    Retention.YEARS_30: 30,
    Retention.YEARS_20: 20,
    Retention.YEARS_10: 10,
}
_RETENTION_BY_YEARS = {years: code for code, years in _RETENTION_YEARS.items()}
RETENTION_CHOICES = (
    ", ".join(f"{code} ({code.label})" for code in list(Retention)[:-1])
    + f" or {Retention.OTHER} ({Retention.OTHER.label}, with retention_years)"
)


class AccessRegime(enum.StrEnum):
    """Chế độ sử dụng: who may read a dossier once it is archived."""

    PUBLIC = "01"
    CONDITIONAL = "02"
    SECRET = "03"

    @property
    def label(self) -> str:
        return _ACCESS_LABELS[self]


_ACCESS_LABELS = {
    AccessRegime.PUBLIC: "Công khai",
    AccessRegime.CONDITIONAL: "Sử dụng có điều kiện",
    AccessRegime.SECRET: "Mật",
}
ACCESS_CHOICES = ", ".join(f"{code} ({code.label})" for code in AccessRegime)


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One dossier of the year's list: what it will hold and how long it is kept.

    `retention_years` is None for a permanent dossier; `responsible` is a username or person id
    of the directory (empty: not named yet), resolved by the service.
    """

    year: int
    code: str
    title: str
    retention: str
    retention_years: int | None
    access: str
    creator_unit: str
    responsible: str
    notes: str
    # The directory's person id of `responsible`, once the service has found them.
    responsible_id: str = ""


@dataclass(frozen=True, slots=True, order=True)
class ImportProblem:
    """One thing wrong with a file: where (line, field; line 0 is the whole file) and what."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line != WHOLE_FILE else "file"
        return (
            f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What a dry run answers: how many rows were read, the entries that passed every check
    (in file order), and every problem, by line and then in the order of the columns. A list is
    imported only when there is no problem at all."""

    rows: int
    entries: tuple[ListEntry, ...]
    problems: tuple[ImportProblem, ...]
    # The line of each entry, in the same order.
    lines: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


class ListFileError(InvalidArgumentError):
    """The file cannot be read as a dossier list at all (not CSV or XLSX, too large, a header
    without the required columns); `problems` say where and why."""

    reason = "INVALID_DOSSIER_LIST_FILE"

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = sorted_problems(problems)
        super().__init__(
            "; ".join(str(problem) for problem in self.problems),
            violations=tuple(
                FieldViolation(
                    field=problem.field or "file",
                    description=f"line {problem.line}: {problem.message}",
                )
                for problem in self.problems
            ),
        )


def folded(text: str) -> str:
    """Text as people's spellings of one word compare: without case, diacritics (đ is d) and
    punctuation, one space between words (`Đơn vị/người lập` is `don vi nguoi lap`)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = re.sub(r"[\W_]+", " ", bare.casefold())
    return " ".join(words.split())


def retention_years(code: str, other_years: int | None = None) -> int | None:
    """The years a dossier of the retention code is kept, None for permanent; `other_years` is
    required by code 07 (other, 1 to 100) and, given with another code, must agree with it."""
    try:
        retention = Retention(code)
    except ValueError:
        raise InvalidArgumentError(
            f"unknown retention code {_shown(code)}; use {RETENTION_CHOICES}",
            reason="UNKNOWN_RETENTION_CODE",
            metadata={"retention": code[:CODE_MAX]},
        ) from None
    if retention is Retention.OTHER:
        if other_years is None:
            raise InvalidArgumentError(
                _OTHER_YEARS_REQUIRED,
                reason="RETENTION_YEARS_REQUIRED",
                metadata={"retention": code},
            )
        if not OTHER_YEARS_MIN <= other_years <= OTHER_YEARS_MAX:
            raise InvalidArgumentError(
                _years_out_of_range(other_years),
                reason="INVALID_RETENTION_YEARS",
                metadata={"retention": code, "retention_years": str(other_years)},
            )
        return other_years
    if other_years is not None and other_years != retention.years:
        raise InvalidArgumentError(
            _years_disagree(retention, other_years),
            reason="INVALID_RETENTION_YEARS",
            metadata={"retention": code, "retention_years": str(other_years)},
        )
    return retention.years


def validate_entry(raw: Mapping[str, str], *, year: int) -> ListEntry:
    """The entry of one row of a list (fields named as in `COLUMNS`), normalised; every field
    found wrong is named, each with one message (reason INVALID_DOSSIER_LIST_ENTRY)."""
    problems: dict[str, str] = {} if _year_ok(year) else {"year": _YEAR_MESSAGE}
    checked = _check_fields(raw)
    problems.update(checked.problems)
    if problems or checked.fields is None:
        raise invalid_fields(problems, reason="INVALID_DOSSIER_LIST_ENTRY")
    return checked.fields.entry(year)


def check_entries(rows: Sequence[tuple[int, Mapping[str, str]]], *, year: int) -> ImportReport:
    """Checks every row (its line number, its fields) on its own and against the others: a code
    used twice is a problem on each of its lines. Never stops at the first problem."""
    problems: list[ImportProblem] = []
    if not _year_ok(year):
        problems.append(ImportProblem(WHOLE_FILE, "year", _YEAR_MESSAGE))
    if not rows:
        problems.append(ImportProblem(WHOLE_FILE, "", "holds no dossiers"))
    elif len(rows) > MAX_LIST_ROWS:
        problems.append(
            ImportProblem(
                WHOLE_FILE,
                "",
                f"holds more than {MAX_LIST_ROWS} dossiers; a list takes at most {MAX_LIST_ROWS}",
            )
        )
    candidates: list[tuple[int, _Fields]] = []
    lines_by_code: dict[str, list[int]] = {}
    for line, raw in rows:
        checked = _check_fields(raw)
        problems.extend(
            ImportProblem(line, name, message) for name, message in checked.problems.items()
        )
        if checked.code is not None:
            lines_by_code.setdefault(checked.code, []).append(line)
        if checked.fields is not None:
            candidates.append((line, checked.fields))
    duplicated: set[int] = set()
    for code, lines in lines_by_code.items():
        if len(lines) < 2:
            continue
        for line in lines:
            others = [other for other in lines if other != line]
            problems.append(ImportProblem(line, "code", f"{code} also appears on {_lines(others)}"))
            duplicated.add(line)
    kept = [(line, fields) for line, fields in candidates if line not in duplicated]
    if not _year_ok(year):
        kept = []
    return ImportReport(
        rows=len(rows),
        entries=tuple(fields.entry(year) for _, fields in kept),
        problems=sorted_problems(problems),
        lines=tuple(line for line, _ in kept),
    )


def sorted_problems(problems: Iterable[ImportProblem]) -> tuple[ImportProblem, ...]:
    """By line, then in the order of the columns, then by message."""
    order = {name: index for index, name in enumerate(COLUMNS)}
    return tuple(
        sorted(problems, key=lambda p: (p.line, order.get(p.field, len(order)), p.field, p.message))
    )


_YEAR_MESSAGE = f"must be a year from {YEAR_MIN} to {YEAR_MAX}"
_OTHER_YEARS_REQUIRED = (
    f"is required with retention {Retention.OTHER} ({Retention.OTHER.label}): "
    f"the number of years, from {OTHER_YEARS_MIN} to {OTHER_YEARS_MAX}"
)
# Shown in messages: at most this much of a wrong value, so a pasted paragraph stays readable.
_SHOWN_MAX = 40
# Vietnamese letters beyond A-Z, in both cases (NFC): Latin-1, Ă Đ Ĩ Ũ Ơ Ư and U+1EA0-U+1EF9.
_VI_LETTERS = (
    "\u00c0-\u00c3\u00c8-\u00ca\u00cc\u00cd\u00d2-\u00d5\u00d9\u00da\u00dd"
    "\u00e0-\u00e3\u00e8-\u00ea\u00ec\u00ed\u00f2-\u00f5\u00f9\u00fa\u00fd"
    "\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9"
)
_CODE_RE = re.compile(rf"^[0-9][0-9A-Za-z{_VI_LETTERS}]*(?:[.-][0-9A-Za-z{_VI_LETTERS}]+)*$")
_UNIT_CODE_RE = re.compile(r"^[A-Za-z0-9._-]+$")
# The directory's usernames; a person id (a UUID) has the same shape.
_RESPONSIBLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_NUMBER_RE = re.compile(r"^[0-9]{1,4}$")
_YEARS_RE = re.compile(r"^([0-9]{1,4}) ?(?:nam|years?)$")
# What is typed for a code, once folded: its number (with or without the leading zero) or label.
_RETENTION_WORDS = {
    "vinh vien": Retention.PERMANENT,
    "permanent": Retention.PERMANENT,
    "khac": Retention.OTHER,
    "other": Retention.OTHER,
}
_ACCESS_WORDS = {
    "cong khai": AccessRegime.PUBLIC,
    "public": AccessRegime.PUBLIC,
    "su dung co dieu kien": AccessRegime.CONDITIONAL,
    "co dieu kien": AccessRegime.CONDITIONAL,
    "conditional": AccessRegime.CONDITIONAL,
    "mat": AccessRegime.SECRET,
    "secret": AccessRegime.SECRET,
}
# Line feed and tab are kept in notes; every other control or format character is refused.
_NOTE_WHITESPACE = frozenset("\n\t")


@dataclass(frozen=True, slots=True)
class _Fields:
    code: str
    title: str
    retention: str
    retention_years: int | None
    access: str
    creator_unit: str
    responsible: str
    notes: str

    def entry(self, year: int) -> ListEntry:
        return ListEntry(
            year=year,
            code=self.code,
            title=self.title,
            retention=self.retention,
            retention_years=self.retention_years,
            access=self.access,
            creator_unit=self.creator_unit,
            responsible=self.responsible,
            notes=self.notes,
        )


@dataclass(frozen=True, slots=True)
class _Checked:
    """A row's normalised fields (None if anything is wrong), its problems by field, and its
    code as soon as the code itself is right, so that duplicates are found on faulty rows too."""

    fields: _Fields | None
    problems: dict[str, str]
    code: str | None


def _check_fields(raw: Mapping[str, str]) -> _Checked:
    problems: dict[str, str] = {}
    for name, value in raw.items():
        if name not in COLUMNS and value.strip():
            problems[name] = (
                "has a value but is not a column of the dossier list; "
                f"the columns are {', '.join(COLUMNS)}"
            )
    code = _code(raw.get("code", ""), problems)
    title = _title(raw.get("title", ""), problems)
    retention = _retention(raw.get("retention", ""), raw.get("retention_years", ""), problems)
    access = _access(raw.get("access", ""), problems)
    creator_unit = _creator_unit(raw.get("creator_unit", ""), problems)
    responsible = _responsible(raw.get("responsible", ""), problems)
    notes = _notes(raw.get("notes", ""), problems)
    if problems or code is None or retention is None:
        return _Checked(fields=None, problems=problems, code=code)
    fields = _Fields(
        code=code,
        title=title,
        retention=retention[0],
        retention_years=retention[1],
        access=access,
        creator_unit=creator_unit,
        responsible=responsible,
        notes=notes,
    )
    return _Checked(fields=fields, problems=problems, code=code)


def _year_ok(year: int) -> bool:
    return YEAR_MIN <= year <= YEAR_MAX


def _code(value: str, problems: dict[str, str]) -> str | None:
    code = unicodedata.normalize("NFC", value.strip())
    if not code:
        problems["code"] = "is required, such as 01.TCCB"
    elif len(code) > CODE_MAX:
        problems["code"] = f"must be at most {CODE_MAX} characters"
    elif not _CODE_RE.match(code):
        problems["code"] = (
            f"{_shown(code)} is not a dossier code such as 01.TCCB or 1.2.VP-HC: groups of "
            "digits and letters joined by . or -, starting with a digit"
        )
    else:
        return code.upper()
    return None


def _title(value: str, problems: dict[str, str]) -> str:
    title = " ".join(unicodedata.normalize("NFC", value).split())
    if not title:
        problems["title"] = "is required"
    elif len(title) > TITLE_MAX:
        problems["title"] = f"must be at most {TITLE_MAX} characters, not {len(title)}"
    elif (control := _control_character(title)) is not None:
        problems["title"] = control
    return title


def _notes(value: str, problems: dict[str, str]) -> str:
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > NOTES_MAX:
        problems["notes"] = f"must be at most {NOTES_MAX} characters, not {len(text)}"
    elif (control := _control_character(text, allowed=_NOTE_WHITESPACE)) is not None:
        problems["notes"] = control
    return text


def _control_character(text: str, *, allowed: frozenset[str] = frozenset()) -> str | None:
    for position, char in enumerate(text, start=1):
        if char not in allowed and unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            return f"contains the control character U+{ord(char):04X} at character {position}"
    return None


def _retention(
    value: str, years_value: str, problems: dict[str, str]
) -> tuple[str, int | None] | None:
    """The retention code and its years; retention_years is checked even if retention is wrong."""
    stated: Retention | int | None = None
    if not value.strip():
        problems["retention"] = f"is required: {RETENTION_CHOICES}"
    else:
        stated = _read_retention(value)
        if stated is None:
            problems["retention"] = (
                f"unknown retention code {_shown(value)}; use {RETENTION_CHOICES}"
            )
    years: int | None = None
    if years_value.strip():
        years = _read_years(years_value)
        if years is None:
            problems["retention_years"] = (
                f"must be a whole number of years from {OTHER_YEARS_MIN} to {OTHER_YEARS_MAX}, "
                f"not {_shown(years_value)}"
            )
    if stated is None or "retention_years" in problems:
        return None
    range_field = "retention_years"
    code: Retention
    if isinstance(stated, Retention):
        code = stated
    else:  # "N năm": the code that keeps N years, else 07 with N
        if years is not None and years != stated:
            problems["retention_years"] = f"is {years} but retention says {stated} years"
            return None
        code, years, range_field = Retention.OTHER, stated, "retention"
    if code is Retention.OTHER:
        if years is None:
            problems["retention_years"] = _OTHER_YEARS_REQUIRED
            return None
        if not OTHER_YEARS_MIN <= years <= OTHER_YEARS_MAX:
            problems[range_field] = _years_out_of_range(years)
            return None
        listed = _RETENTION_BY_YEARS.get(years)
        return (listed.value, years) if listed is not None else (Retention.OTHER.value, years)
    if years is not None and years != code.years:
        problems["retention_years"] = _years_disagree(code, years)
        return None
    return code.value, code.years


def _read_retention(value: str) -> Retention | int | None:
    """A code (by its number or label), a number of years ("N năm"), or None if unknown."""
    key = folded(value)
    if _NUMBER_RE.match(key):
        number = int(key)
        return Retention(f"{number:02d}") if 1 <= number <= len(Retention) else None
    if key in _RETENTION_WORDS:
        return _RETENTION_WORDS[key]
    match = _YEARS_RE.match(key)
    return int(match[1]) if match else None


def _read_years(value: str) -> int | None:
    key = folded(value)
    match = _YEARS_RE.match(key)
    if match:
        return int(match[1])
    return int(key) if _NUMBER_RE.match(key) else None


def _years_out_of_range(years: int) -> str:
    return (
        f"must be from {OTHER_YEARS_MIN} to {OTHER_YEARS_MAX} years for retention "
        f"{Retention.OTHER} ({Retention.OTHER.label}), not {years}"
    )


def _years_disagree(retention: Retention, years: int) -> str:
    if retention.years is None:
        return f"must be empty: retention {retention} ({retention.label}) is permanent"
    return (
        f"is {years} but retention {retention} keeps {retention.years} years; "
        f"use {Retention.OTHER} for {years} years"
    )


def _access(value: str, problems: dict[str, str]) -> str:
    key = folded(value)
    if not key:
        problems["access"] = f"is required: {ACCESS_CHOICES}"
        return ""
    if _NUMBER_RE.match(key) and 1 <= int(key) <= len(AccessRegime):
        return f"{int(key):02d}"
    regime = _ACCESS_WORDS.get(key)
    if regime is None:
        problems["access"] = f"unknown access regime {_shown(value)}; use {ACCESS_CHOICES}"
        return ""
    return regime.value


def _creator_unit(value: str, problems: dict[str, str]) -> str:
    unit = value.strip()
    if not unit:
        problems["creator_unit"] = (
            "is required: the code of the unit that keeps the dossier, such as VP"
        )
    elif len(unit) > UNIT_CODE_MAX:
        problems["creator_unit"] = f"must be at most {UNIT_CODE_MAX} characters"
    elif not _UNIT_CODE_RE.match(unit):
        problems["creator_unit"] = (
            f"{_shown(unit)} is not a unit code such as VP or P.TCCB: letters A-Z, digits, . _ -"
        )
    return unit.upper()


def _responsible(value: str, problems: dict[str, str]) -> str:
    person = value.strip()
    if len(person) > RESPONSIBLE_MAX:
        problems["responsible"] = f"must be at most {RESPONSIBLE_MAX} characters"
    elif person and not _RESPONSIBLE_RE.match(person):
        problems["responsible"] = (
            f"{_shown(person)} is not the username of a person in the directory, such as nguyenvana"
        )
    return person.lower()


def _shown(value: str) -> str:
    text = " ".join(value.split())
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "…"


# A code repeated on many lines names at most this many of the others (the answer stays small).
_LINES_SHOWN = 10


def _lines(numbers: Sequence[int]) -> str:
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    if len(numbers) > _LINES_SHOWN:
        shown = ", ".join(str(n) for n in numbers[:_LINES_SHOWN])
        return f"lines {shown} and {len(numbers) - _LINES_SHOWN} more"
    return "lines " + ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"
