from __future__ import annotations

import json

from vanban.directory.domain.model import Role
from vanban.directory.domain.people_import import (
    MAX_IMPORT_ROWS,
    ImportFormat,
    ImportProblem,
    Sheet,
    check_against_directory,
    read_people,
    sorted_problems,
)
from vanban.platform.clearance import Clearance

HEADER = "username,full_name,position_title,unit_codes,roles,clearance,email,password"


def csv_sheet(*lines: str, header: str = HEADER) -> Sheet:
    return read_people(ImportFormat.CSV, "\n".join((header, *lines)).encode())


def where(sheet: Sheet) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in sorted_problems(sheet.problems)]


def test_good_lines_become_people_with_normalised_fields() -> None:
    sheet = csv_sheet(
        "VanThu2,Nguyễn  Văn A,Văn thư,VP; PTH ,Clerk;specialist,mật,A@Demo.vn,mat-khau-1",
        "ketoan,Lê Thị B,,,specialist,,,",
    )
    assert sheet.problems == () and sheet.rows == 2
    first, second = sheet.lines
    assert first.line == 2 and second.line == 3
    assert first.draft.username == "vanthu2" and first.draft.full_name == "Nguyễn Văn A"
    assert first.draft.unit_codes == ("VP", "PTH")
    assert frozenset(first.draft.roles) == {Role.CLERK, Role.SPECIALIST}
    assert first.draft.clearance is Clearance.CONFIDENTIAL
    assert first.draft.email == "a@demo.vn" and first.password == "mat-khau-1"
    assert second.draft.clearance is Clearance.NONE and second.password is None


def test_every_problem_of_every_line_is_reported_with_line_and_field() -> None:
    sheet = csv_sheet(
        "ok1,Người Một,,VP,clerk,none,,",
        "bad one,,,vp thường,boss;clerk,secretish,not-an-email,short",
        "ok2,Người Hai,,,specialist,top_secret,,",
    )
    assert where(sheet) == [
        (3, "username"),
        (3, "full_name"),
        (3, "unit_codes"),
        (3, "roles"),
        (3, "clearance"),
        (3, "email"),
        (3, "password"),
    ]
    assert [line.line for line in sheet.lines] == [2, 4]
    messages = {p.field: p.message for p in sheet.problems}
    assert "boss" in messages["roles"] and "secretish" in messages["clearance"]


def test_a_duplicate_in_the_file_is_reported_on_its_later_line() -> None:
    sheet = csv_sheet(
        "nguyenvana,A,,,clerk,,a@demo.vn,",
        "tranthib,B,,,clerk,,b@demo.vn,",
        "NguyenVanA,C,,,clerk,,A@demo.vn,",
    )
    assert sorted_problems(sheet.problems) == (
        ImportProblem(4, "username", "nguyenvana also appears on line 2"),
        ImportProblem(4, "email", "a@demo.vn also appears on line 2"),
    )


def test_lines_are_counted_as_in_the_file_blank_and_multi_line_records_included() -> None:
    sheet = csv_sheet(
        "a1,A,,,clerk,,,",
        "",
        'a2,"Họ tên',
        'hai dòng",,,clerk,,,',
        "a3,,,,clerk,,,",
    )
    assert where(sheet) == [(6, "full_name")]
    assert [line.line for line in sheet.lines] == [2, 4]
    assert sheet.rows == 3


def test_a_line_with_the_wrong_number_of_fields_is_one_problem() -> None:
    sheet = csv_sheet("a1,A,,,clerk,,,", "a2,B,clerk")
    assert sheet.problems == (ImportProblem(3, "", "has 3 fields; the header has 8"),)


def test_the_header_is_line_one_and_may_leave_out_optional_columns() -> None:
    sheet = csv_sheet("a1,A,clerk", header="Username, Full_Name ,roles")
    assert sheet.problems == () and sheet.lines[0].draft.username == "a1"
    broken = csv_sheet("a1,A,clerk", header="username,fullname,roles,roles")
    assert where(broken) == [(1, "fullname"), (1, "full_name"), (1, "roles")]
    assert broken.lines == ()


def test_a_file_that_is_not_utf8_names_its_bad_lines() -> None:
    content = (HEADER + "\na1,A,,,clerk,,,\na2,Nguy\xe1n,,,clerk,,,\n").encode("latin-1")
    sheet = read_people(ImportFormat.CSV, content)
    assert sheet.problems == (ImportProblem(3, "", "is not UTF-8 text"),)


def test_a_utf8_bom_from_spreadsheet_exports_is_accepted() -> None:
    sheet = read_people(ImportFormat.CSV, ("\ufeff" + HEADER + "\na1,A,,,clerk,,,").encode())
    assert sheet.problems == () and len(sheet.lines) == 1


def test_json_lines_are_array_positions_and_lists_may_be_arrays() -> None:
    content = json.dumps(
        [
            {"username": "a1", "full_name": "A", "roles": ["clerk"], "unit_codes": "VP;PTH"},
            {"username": "a2", "full_name": "B", "roles": "clerk", "nickname": "x"},
            "not an object",
            {"username": 7, "full_name": "C", "roles": [1]},
        ]
    ).encode()
    sheet = read_people(ImportFormat.JSON, content)
    assert where(sheet) == [(2, "nickname"), (3, ""), (4, "username"), (4, "roles")]
    assert sheet.lines[0].draft.unit_codes == ("VP", "PTH")
    assert sheet.rows == 3


def test_broken_json_is_a_problem_of_the_whole_file() -> None:
    for content, message in (
        (b"[{", "is not JSON"),
        (b'{"username": "a"}', "must be a JSON array of people"),
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply"),
    ):
        [problem] = read_people(ImportFormat.JSON, content).problems
        assert problem.line == 0 and problem.message.startswith(message)


def test_too_many_rows_is_a_problem_of_the_whole_file() -> None:
    rows = [f"u{i},Người {i},,,clerk,,," for i in range(MAX_IMPORT_ROWS + 1)]
    sheet = csv_sheet(*rows)
    assert where(sheet) == [(0, "")]


def test_checks_against_the_directory_cover_lines_with_other_problems_too() -> None:
    sheet = csv_sheet(
        "vanthu,A,,VP,clerk,,a@demo.vn,",
        "moi,B,,KT;VP,clerk,,taken@demo.vn,",
        "vanthu2,,,KT,boss,,,",
    )
    problems = check_against_directory(
        sheet,
        taken_usernames={"vanthu", "vanthu2"},
        taken_emails={"taken@demo.vn"},
        known_units={"VP"},
    )
    assert [(p.line, p.field) for p in sorted_problems(problems)] == [
        (2, "username"),
        (3, "unit_codes"),
        (3, "email"),
        (4, "username"),
        (4, "unit_codes"),
    ]
    assert {p.message for p in problems if p.line == 3} >= {"there is no unit KT"}
