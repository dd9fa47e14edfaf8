"""Reading a file of people to import (CSV or JSON) and finding every problem in it.

Every line is checked completely and every problem is reported with its line and field, so an
administrator fixes the whole file in one go. Line numbers are 1-based; in CSV the header is
line 1 and a record is numbered by the line it starts on; in JSON a person is numbered by its
index in the array plus one. Line 0 stands for the file as a whole.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vanban.directory.domain.model import (
    PersonDraft,
    Role,
    check_new_password,
    is_unit_code,
    normalize_email,
    normalize_username,
)
from vanban.platform.clearance import Clearance
from vanban.platform.errors import InvalidArgumentError

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
COLUMNS = (
    "username",
    "full_name",
    "position_title",
    "unit_codes",
    "roles",
    "clearance",
    "email",
    "password",
)
# The header may leave out the optional columns; these it must have.
REQUIRED_COLUMNS = ("username", "full_name", "roles")
LIST_SEPARATOR = ";"
WHOLE_FILE = 0

# Clearances by their code name, or as Vietnamese administrators write them.
_CLEARANCES = {clearance.value: clearance for clearance in Clearance} | {
    "": Clearance.NONE,
    "không": Clearance.NONE,
    "khong": Clearance.NONE,
    "mật": Clearance.CONFIDENTIAL,
    "mat": Clearance.CONFIDENTIAL,
    "tối mật": Clearance.SECRET,
    "toi mat": Clearance.SECRET,
    "tuyệt mật": Clearance.TOP_SECRET,
    "tuyet mat": Clearance.TOP_SECRET,
}
_ROLES = {role.value: role for role in Role}


class ImportFormat(enum.Enum):
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True, slots=True, order=True)
class ImportProblem:
    """One thing wrong with the file: where (line, field) and what."""

    line: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportLine:
    """A line that passed every check of its own: the person to create and their password
    (None: a random one is set and must be replaced)."""

    line: int
    draft: PersonDraft
    password: str | None


@dataclass(frozen=True, slots=True)
class References:
    """What a line refers to that the directory may already hold, as far as it is readable
    (a line with other problems is still checked for these)."""

    line: int
    username: str | None
    email: str | None
    unit_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sheet:
    """What a file holds: the number of people in it, the lines good on their own, what every
    line refers to, and the problems found without looking at the directory."""

    rows: int
    lines: tuple[ImportLine, ...]
    references: tuple[References, ...]
    problems: tuple[ImportProblem, ...]

    @property
    def usernames(self) -> set[str]:
        return {ref.username for ref in self.references if ref.username}

    @property
    def emails(self) -> set[str]:
        return {ref.email for ref in self.references if ref.email}

    @property
    def unit_codes(self) -> set[str]:
        return {code for ref in self.references for code in ref.unit_codes}


def read_people(file_format: ImportFormat, content: bytes) -> Sheet:
    """Parses the file and checks each line on its own and against the others."""
    if file_format is ImportFormat.CSV:
        rows, problems = _csv_rows(content)
    else:
        rows, problems = _json_rows(content)
    if len(rows) > MAX_IMPORT_ROWS:
        problems.append(
            ImportProblem(
                WHOLE_FILE, "", f"holds {len(rows)} people; at most {MAX_IMPORT_ROWS} per import"
            )
        )
    lines: list[ImportLine] = []
    references: list[References] = []
    seen_usernames: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for number, values in rows:
        line, row_problems, ref = _check_row(number, values)
        references.append(ref)
        username, email = ref.username, ref.email
        # A duplicate is reported on its later line, naming the first.
        if username is not None:
            if username in seen_usernames:
                row_problems.append(
                    ImportProblem(
                        number,
                        "username",
                        f"{username} also appears on line {seen_usernames[username]}",
                    )
                )
            else:
                seen_usernames[username] = number
        if email is not None:
            if email in seen_emails:
                row_problems.append(
                    ImportProblem(
                        number, "email", f"{email} also appears on line {seen_emails[email]}"
                    )
                )
            else:
                seen_emails[email] = number
        problems.extend(row_problems)
        if line is not None and not row_problems:
            lines.append(line)
    return Sheet(
        rows=len(rows),
        lines=tuple(lines),
        references=tuple(references),
        problems=tuple(problems),
    )


def check_against_directory(
    sheet: Sheet,
    *,
    taken_usernames: Iterable[str],
    taken_emails: Iterable[str],
    known_units: Iterable[str],
) -> list[ImportProblem]:
    """Problems of every line against what the directory already holds."""
    taken_u, taken_e, known = set(taken_usernames), set(taken_emails), set(known_units)
    problems: list[ImportProblem] = []
    for ref in sheet.references:
        if ref.username is not None and ref.username in taken_u:
            problems.append(ImportProblem(ref.line, "username", f"{ref.username} exists"))
        missing = [code for code in ref.unit_codes if code not in known]
        if missing:
            problems.append(
                ImportProblem(ref.line, "unit_codes", f"there is no unit {', '.join(missing)}")
            )
        if ref.email is not None and ref.email in taken_e:
            problems.append(
                ImportProblem(ref.line, "email", f"{ref.email} belongs to another person")
            )
    return problems


def sorted_problems(problems: Iterable[ImportProblem]) -> tuple[ImportProblem, ...]:
    """By line, then in the order of the columns."""
    order = {name: index for index, name in enumerate(COLUMNS)}
    return tuple(sorted(problems, key=lambda p: (p.line, order.get(p.field, -1), p.message)))


def _decode(content: bytes) -> tuple[str | None, list[ImportProblem]]:
    try:
        return content.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    problems = []
    for number, raw in enumerate(content.split(b"\n"), start=1):
        try:
            raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            problems.append(ImportProblem(number, "", "is not UTF-8 text"))
    return None, problems


def _csv_rows(content: bytes) -> tuple[list[tuple[int, dict[str, object]]], list[ImportProblem]]:
    text, problems = _decode(content)
    if text is None:
        return [], problems
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [ImportProblem(1, "", f"is not CSV: {exc}")]
    if header is None:
        return [], [ImportProblem(WHOLE_FILE, "", "is empty; the first line must be the header")]
    columns = [name.strip().lower() for name in header]
    problems.extend(_header_problems(columns))
    if problems:
        return [], problems
    rows: list[tuple[int, dict[str, object]]] = []
    next_line = reader.line_num + 1
    while True:
        start = next_line
        try:
            record = next(reader, None)
        except csv.Error as exc:
            problems.append(ImportProblem(start, "", f"is not CSV: {exc}"))
            break
        if record is None:
            break
        next_line = reader.line_num + 1
        if not any(field.strip() for field in record):
            continue  # blank lines are allowed and counted
        if len(record) != len(columns):
            problems.append(
                ImportProblem(start, "", f"has {len(record)} fields; the header has {len(columns)}")
            )
            continue
        rows.append((start, dict(zip(columns, record, strict=True))))
    return rows, problems


def _header_problems(columns: list[str]) -> list[ImportProblem]:
    problems = []
    for index, name in enumerate(columns):
        if name not in COLUMNS:
            problems.append(
                ImportProblem(1, name, f"is not a column; the columns are {', '.join(COLUMNS)}")
            )
        elif name in columns[:index]:
            problems.append(ImportProblem(1, name, "appears twice"))
    problems.extend(
        ImportProblem(1, name, "is a required column")
        for name in REQUIRED_COLUMNS
        if name not in columns
    )
    return problems


def _json_rows(content: bytes) -> tuple[list[tuple[int, dict[str, object]]], list[ImportProblem]]:
    text, problems = _decode(content)
    if text is None:
        return [], [ImportProblem(WHOLE_FILE, "", "is not UTF-8 text")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [
            ImportProblem(
                WHOLE_FILE,
                "",
                f"is not JSON: {exc.msg} (text line {exc.lineno}, column {exc.colno})",
            )
        ]
    except RecursionError:
        return [], [ImportProblem(WHOLE_FILE, "", "is nested too deeply to be a list of people")]
    if not isinstance(data, list):
        return [], [ImportProblem(WHOLE_FILE, "", "must be a JSON array of people")]
    rows: list[tuple[int, dict[str, object]]] = []
    for index, item in enumerate(data):
        number = index + 1
        if not isinstance(item, dict):
            problems.append(ImportProblem(number, "", "must be an object"))
            continue
        unknown = [key for key in item if key not in COLUMNS]
        problems.extend(ImportProblem(number, key, "is not a field") for key in unknown)
        rows.append((number, {key: value for key, value in item.items() if key in COLUMNS}))
    return rows, problems


def _text(values: Mapping[str, object], name: str, problems: dict[str, str]) -> str:
    value = values.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems[name] = "must be a string"
        return ""
    return value


def _list(values: Mapping[str, object], name: str, problems: dict[str, str]) -> list[str]:
    value = values.get(name)
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    elif isinstance(value, str):
        items = value.split(LIST_SEPARATOR)
    else:
        problems[name] = f"must be a string of values separated by '{LIST_SEPARATOR}'"
        return []
    return [item.strip() for item in items if item.strip()]


def _check_row(
    number: int, values: Mapping[str, object]
) -> tuple[ImportLine | None, list[ImportProblem], References]:
    """The line's person (None if anything is wrong), its problems, and what it refers to."""
    problems: dict[str, str] = {}
    username = _text(values, "username", problems)
    full_name = _text(values, "full_name", problems)
    position_title = _text(values, "position_title", problems)
    email = _text(values, "email", problems)
    password = _text(values, "password", problems)
    clearance_name = _text(values, "clearance", problems)
    unit_codes = _list(values, "unit_codes", problems)
    role_names = _list(values, "roles", problems)

    roles: list[Role] = []
    unknown_roles = []
    for name in role_names:
        role = _ROLES.get(name.lower())
        if role is None:
            unknown_roles.append(name)
        else:
            roles.append(role)
    if unknown_roles and "roles" not in problems:
        problems["roles"] = (
            f"unknown role {', '.join(unknown_roles)}; the roles are {', '.join(_ROLES)}"
        )
    bad_codes = [code for code in unit_codes if not is_unit_code(code)]
    if bad_codes and "unit_codes" not in problems:
        problems["unit_codes"] = f"{', '.join(bad_codes)} is not a unit code such as VP"
    clearance = _CLEARANCES.get(" ".join(clearance_name.lower().split()))
    if clearance is None and "clearance" not in problems:
        problems["clearance"] = (
            f"unknown clearance {clearance_name}; use none, confidential, secret or top_secret"
        )
    if password and "password" not in problems:
        try:
            check_new_password(password)
        except InvalidArgumentError as exc:
            problems["password"] = exc.violations[0].description

    draft: PersonDraft | None = None
    try:
        draft = PersonDraft(
            username=username,
            full_name=full_name,
            position_title=position_title,
            roles=roles,
            unit_codes=unit_codes,
            clearance=clearance or Clearance.NONE,
            email=email,
        ).validated()
    except InvalidArgumentError as exc:
        for violation in exc.violations:
            # A field already found wrong is reported once, with its first problem.
            problems.setdefault(violation.field, violation.description)

    references = References(
        line=number,
        username=normalize_username(username) if "username" not in problems else None,
        email=normalize_email(email) if "email" not in problems else None,
        unit_codes=tuple(dict.fromkeys(code for code in unit_codes if is_unit_code(code))),
    )
    found = [ImportProblem(number, name, message) for name, message in problems.items()]
    line = None if problems or draft is None else ImportLine(number, draft, password or None)
    return line, found, references
