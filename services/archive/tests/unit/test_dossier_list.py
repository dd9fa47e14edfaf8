"""The dossier list (danh mục hồ sơ): the rules of an entry and the checks of a whole list."""

from __future__ import annotations

import pytest

from vanban.archive.domain.dossier_list import (
    MAX_LIST_ROWS,
    WHOLE_FILE,
    AccessRegime,
    ImportProblem,
    ImportReport,
    ListEntry,
    ListFileError,
    Retention,
    check_entries,
    folded,
    retention_years,
    validate_entry,
)
from vanban.platform.errors import ErrorCode, InvalidArgumentError

YEAR = 2026


def make_raw(**overrides: str) -> dict[str, str]:
    values = {
        "code": "01.TCCB",
        "title": "Hồ sơ tuyển dụng công chức năm 2026",
        "retention": "02",
        "retention_years": "",
        "access": "02",
        "creator_unit": "TCCB",
        "responsible": "nguyenvana",
        "notes": "",
    }
    values.update(overrides)
    return values


# A year's list as a ministry's office would approve it; line 1 is the header of its file.
LIST_2026: list[tuple[int, dict[str, str]]] = [
    (2, make_raw()),
    (
        3,
        make_raw(
            code="02.VP",
            title="Tập lưu văn bản đi năm 2026",
            retention="06",
            access="01",
            creator_unit="VP",
            responsible="tranthib",
        ),
    ),
    (
        4,
        make_raw(
            code="03.VP-HC",
            title="Hồ sơ hội nghị tổng kết công tác năm 2026",
            retention="01",
            access="01",
            creator_unit="VP",
            responsible="",
            notes="Kèm ảnh và băng ghi âm",
        ),
    ),
    (
        5,
        make_raw(
            code="04.KHTC",
            title="Hồ sơ xây dựng dự toán ngân sách năm 2027",
            retention="04",
            creator_unit="KHTC",
            responsible="levanc",
        ),
    ),
    (
        6,
        make_raw(
            code="05.TCCB",
            title="Hồ sơ nâng bậc lương thường xuyên năm 2026",
            retention="07",
            retention_years="15",
            access="03",
        ),
    ),
    (
        7,
        make_raw(
            code="1.2.TTr",
            title="Hồ sơ thanh tra chuyên đề việc thực hiện chính sách",
            retention="05",
            access="03",
            creator_unit="TTR",
            responsible="phamthid",
        ),
    ),
    (
        8,
        make_raw(
            code="06.VP",
            title="Sổ theo dõi sử dụng xe công",
            retention="07",
            retention_years="5",
            access="01",
            creator_unit="VP",
            responsible="",
            notes="Giá trị thực tiễn ngắn",
        ),
    ),
]


def problem_places(report: ImportReport) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in report.problems]


def entry_problems(raw: dict[str, str]) -> dict[str, str]:
    with pytest.raises(InvalidArgumentError) as caught:
        validate_entry(raw, year=YEAR)
    return {v.field: v.description for v in caught.value.violations}


class TestCodes:
    def test_retention_codes_have_their_labels_and_years(self) -> None:
        assert [(c.value, c.label, c.years) for c in Retention] == [
            ("01", "Vĩnh viễn", None),
            ("02", "70 năm", 70),
            ("03", "50 năm", 50),
            ("04", "30 năm", 30),
            ("05", "20 năm", 20),
            ("06", "10 năm", 10),
            ("07", "Khác", None),
        ]

    def test_access_regimes_have_their_labels(self) -> None:
        assert [(a.value, a.label) for a in AccessRegime] == [
            ("01", "Công khai"),
            ("02", "Sử dụng có điều kiện"),
            ("03", "Mật"),
        ]

    @pytest.mark.parametrize(
        ("code", "other", "years"),
        [("01", None, None), ("02", None, 70), ("06", None, 10), ("06", 10, 10), ("07", 5, 5)],
    )
    def test_retention_years_of_a_code(
        self, code: str, other: int | None, years: int | None
    ) -> None:
        assert retention_years(code, other) == years

    @pytest.mark.parametrize(
        ("code", "other", "reason", "words"),
        [
            ("08", None, "UNKNOWN_RETENTION_CODE", "unknown retention code 08"),
            ("abc", None, "UNKNOWN_RETENTION_CODE", "unknown retention code abc"),
            ("07", None, "RETENTION_YEARS_REQUIRED", "number of years"),
            ("07", 0, "INVALID_RETENTION_YEARS", "from 1 to 100"),
            ("07", 101, "INVALID_RETENTION_YEARS", "from 1 to 100"),
            ("06", 15, "INVALID_RETENTION_YEARS", "keeps 10 years; use 07"),
            ("01", 5, "INVALID_RETENTION_YEARS", "is permanent"),
        ],
    )
    def test_retention_years_refuses_what_is_not_a_retention(
        self, code: str, other: int | None, reason: str, words: str
    ) -> None:
        with pytest.raises(InvalidArgumentError) as caught:
            retention_years(code, other)
        assert caught.value.reason == reason
        assert words in caught.value.message

    def test_an_unknown_code_is_told_with_every_valid_one(self) -> None:
        with pytest.raises(InvalidArgumentError) as caught:
            retention_years("08")
        assert "01 (Vĩnh viễn)" in caught.value.message
        assert "07 (Khác, with retention_years)" in caught.value.message


class TestEntry:
    def test_a_good_row_becomes_a_normalised_entry(self) -> None:
        entry = validate_entry(
            make_raw(
                code=" 01.tccb ",
                title="  Hồ sơ tuyển dụng\ncông chức   năm 2026 ",
                creator_unit=" tccb ",
                responsible=" NguyenVanA ",
                notes=" Dòng một\r\nDòng hai ",
            ),
            year=YEAR,
        )
        assert entry == ListEntry(
            year=YEAR,
            code="01.TCCB",
            title="Hồ sơ tuyển dụng công chức năm 2026",
            retention="02",
            retention_years=70,
            access="02",
            creator_unit="TCCB",
            responsible="nguyenvana",
            notes="Dòng một\nDòng hai",
        )

    @pytest.mark.parametrize(
        ("given", "code"),
        [
            ("01.TCCB", "01.TCCB"),
            ("1.2.TCCB", "1.2.TCCB"),
            ("03.vp-hc", "03.VP-HC"),
            ("01.đt", "01.ĐT"),
            ("02.Phòng-Ưu", "02.PHÒNG-ƯU"),
            ("7", "7"),
            ("1" * 40, "1" * 40),
        ],
    )
    def test_codes_of_digits_and_letters_are_upper_cased(self, given: str, code: str) -> None:
        assert validate_entry(make_raw(code=given), year=YEAR).code == code

    def test_a_decomposed_vietnamese_letter_is_composed(self) -> None:
        assert validate_entry(make_raw(code="01.U\u031b"), year=YEAR).code == "01.Ư"

    @pytest.mark.parametrize(
        "code",
        [
            "TCCB.01",  # starts with a letter
            "01..TCCB",
            "01.TCCB.",
            ".01.TCCB",
            "01 TCCB",
            "01/TCCB",
            "01_TCCB",
            "01.ТССВ",  # Cyrillic look-alikes
            "01.TCCB\u200b",
            "1" * 41,
        ],
    )
    def test_other_codes_are_refused(self, code: str) -> None:
        assert set(entry_problems(make_raw(code=code))) == {"code"}

    def test_a_missing_code_is_required(self) -> None:
        assert entry_problems(make_raw(code="  ")) == {"code": "is required, such as 01.TCCB"}

    @pytest.mark.parametrize(
        ("title", "words"),
        [
            ("", "is required"),
            ("a" * 501, "at most 500 characters"),
            ("Hồ sơ\x07 tuyển dụng", "U+0007"),
            ("Hồ sơ\u200b tuyển dụng", "U+200B"),
            ("Hồ sơ\u202e tuyển dụng", "U+202E"),
        ],
    )
    def test_a_title_is_one_line_of_at_most_500_characters(self, title: str, words: str) -> None:
        assert words in entry_problems(make_raw(title=title))["title"]

    def test_a_title_of_500_characters_is_accepted(self) -> None:
        assert len(validate_entry(make_raw(title="ồ" * 500), year=YEAR).title) == 500

    @pytest.mark.parametrize(
        ("retention", "years", "code", "kept"),
        [
            ("01", "", "01", None),
            ("1", "", "01", None),
            ("Vĩnh viễn", "", "01", None),
            ("VINH VIEN", "", "01", None),
            ("70 năm", "", "02", 70),
            ("50 nam", "", "03", 50),
            ("10 năm", "", "06", 10),
            ("6", "10", "06", 10),
            ("5 năm", "", "07", 5),
            ("15 năm", "15", "07", 15),
            ("07", "15", "07", 15),
            ("Khác", "3", "07", 3),
            ("07", "100", "07", 100),
            ("07", "1", "07", 1),
            # 07 with the years of a listed code is that code.
            ("07", "10", "06", 10),
            ("07", "70 năm", "02", 70),
        ],
    )
    def test_retention_by_code_label_or_years(
        self, retention: str, years: str, code: str, kept: int | None
    ) -> None:
        entry = validate_entry(make_raw(retention=retention, retention_years=years), year=YEAR)
        assert (entry.retention, entry.retention_years) == (code, kept)

    @pytest.mark.parametrize(
        ("retention", "years", "field", "words"),
        [
            ("08", "", "retention", "unknown retention code 08; use 01 (Vĩnh viễn)"),
            ("abc", "", "retention", "unknown retention code abc"),
            ("0", "", "retention", "unknown retention code 0"),
            ("", "", "retention", "is required"),
            ("07", "", "retention_years", "is required with retention 07"),
            ("Khác", "", "retention_years", "is required with retention 07"),
            ("07", "0", "retention_years", "from 1 to 100 years"),
            ("07", "101", "retention_years", "from 1 to 100 years"),
            ("07", "mười", "retention_years", "must be a whole number of years"),
            ("07", "2.5", "retention_years", "must be a whole number of years"),
            ("150 năm", "", "retention", "from 1 to 100 years"),
            ("5 năm", "6", "retention_years", "is 6 but retention says 5 years"),
            ("06", "15", "retention_years", "retention 06 keeps 10 years; use 07 for 15 years"),
            ("01", "5", "retention_years", "must be empty"),
        ],
    )
    def test_a_retention_that_is_not_one_is_refused_clearly(
        self, retention: str, years: str, field: str, words: str
    ) -> None:
        problems = entry_problems(make_raw(retention=retention, retention_years=years))
        assert list(problems) == [field]
        assert words in problems[field]

    def test_wrong_retention_years_are_reported_beside_a_wrong_code(self) -> None:
        problems = entry_problems(make_raw(retention="08", retention_years="x"))
        assert set(problems) == {"retention", "retention_years"}

    @pytest.mark.parametrize(
        ("access", "code"),
        [
            ("01", "01"),
            ("1", "01"),
            ("Công khai", "01"),
            ("cong khai", "01"),
            ("2", "02"),
            ("Sử dụng có điều kiện", "02"),
            ("03", "03"),
            ("Mật", "03"),
        ],
    )
    def test_access_by_code_or_label(self, access: str, code: str) -> None:
        assert validate_entry(make_raw(access=access), year=YEAR).access == code

    @pytest.mark.parametrize(
        ("access", "words"), [("04", "unknown"), ("Tối mật", "unknown"), ("", "required")]
    )
    def test_an_unknown_access_regime_is_refused(self, access: str, words: str) -> None:
        message = entry_problems(make_raw(access=access))["access"]
        assert words in message and "03 (Mật)" in message

    @pytest.mark.parametrize(
        ("unit", "words"),
        [("", "is required"), ("Phòng TCCB", "is not a unit code"), ("V" * 65, "at most 64")],
    )
    def test_the_creator_unit_is_a_unit_code(self, unit: str, words: str) -> None:
        assert words in entry_problems(make_raw(creator_unit=unit))["creator_unit"]

    def test_a_unit_code_of_64_characters_is_accepted(self) -> None:
        assert validate_entry(make_raw(creator_unit="p.tc-cb_" * 8), year=YEAR).creator_unit == (
            "P.TC-CB_" * 8
        )

    def test_the_responsible_person_is_a_directory_username_or_id(self) -> None:
        person_id = "0F8FAD5B-D9CB-469F-A165-70867728950E"
        assert validate_entry(make_raw(responsible=person_id), year=YEAR).responsible == (
            person_id.lower()
        )
        assert validate_entry(make_raw(responsible=""), year=YEAR).responsible == ""
        assert (
            "not the username"
            in entry_problems(make_raw(responsible="Nguyễn Văn A"))["responsible"]
        )
        assert "at most 128" in entry_problems(make_raw(responsible="a" * 129))["responsible"]

    def test_notes_keep_line_breaks_and_refuse_other_control_characters(self) -> None:
        assert validate_entry(make_raw(notes="a\tb\nc"), year=YEAR).notes == "a\tb\nc"
        assert "U+0000" in entry_problems(make_raw(notes="a\x00b"))["notes"]
        assert "at most 1000" in entry_problems(make_raw(notes="x" * 1001))["notes"]
        assert len(validate_entry(make_raw(notes="x" * 1000), year=YEAR).notes) == 1000

    @pytest.mark.parametrize("year", [1999, 2101])
    def test_the_year_is_between_2000_and_2100(self, year: int) -> None:
        with pytest.raises(InvalidArgumentError) as caught:
            validate_entry(make_raw(), year=year)
        assert [v.field for v in caught.value.violations] == ["year"]

    def test_every_wrong_field_is_named_once_in_one_error(self) -> None:
        with pytest.raises(InvalidArgumentError) as caught:
            validate_entry(
                make_raw(code="TCCB", title="", retention="08", access="9", creator_unit="?"),
                year=YEAR,
            )
        error = caught.value
        assert error.code is ErrorCode.INVALID_ARGUMENT
        assert error.reason == "INVALID_DOSSIER_LIST_ENTRY"
        assert [v.field for v in error.violations] == [
            "code",
            "title",
            "retention",
            "access",
            "creator_unit",
        ]

    def test_a_value_outside_the_columns_is_refused(self) -> None:
        problems = entry_problems(make_raw() | {"column I": "thừa"})
        assert "is not a column" in problems["column I"]
        assert validate_entry(make_raw() | {"column I": "  "}, year=YEAR).code == "01.TCCB"

    def test_missing_optional_fields_are_empty(self) -> None:
        raw = make_raw()
        for name in ("retention_years", "responsible", "notes"):
            del raw[name]
        entry = validate_entry(raw, year=YEAR)
        assert (entry.responsible, entry.notes) == ("", "")


class TestCheckEntries:
    def test_a_good_list_gives_every_entry_and_no_problem(self) -> None:
        report = check_entries(LIST_2026, year=YEAR)
        assert report.ok and report.rows == 7
        assert [e.code for e in report.entries] == [
            "01.TCCB",
            "02.VP",
            "03.VP-HC",
            "04.KHTC",
            "05.TCCB",
            "1.2.TTR",
            "06.VP",
        ]
        assert {e.year for e in report.entries} == {YEAR}
        assert [e.retention_years for e in report.entries] == [70, 10, None, 30, 15, 20, 5]

    def test_every_problem_of_every_line_is_reported_in_order(self) -> None:
        rows = [
            (2, make_raw()),
            (3, make_raw(code="02.VP", retention="08", access="Tối mật")),
            (4, make_raw(code="03.VP")),
            (5, make_raw(code="TCCB", title="", retention="abc", creator_unit="Phòng TCCB")),
            (9, make_raw(code="04.VP", retention="07")),
        ]
        report = check_entries(rows, year=YEAR)
        assert problem_places(report) == [
            (3, "retention"),
            (3, "access"),
            (5, "code"),
            (5, "title"),
            (5, "retention"),
            (5, "creator_unit"),
            (9, "retention_years"),
        ]
        assert [e.code for e in report.entries] == ["01.TCCB", "03.VP"]
        assert not report.ok
        messages = {(p.line, p.field): p.message for p in report.problems}
        assert messages[(3, "retention")].startswith("unknown retention code 08")
        assert messages[(5, "retention")].startswith("unknown retention code abc")

    def test_a_code_used_twice_is_a_problem_on_both_lines(self) -> None:
        rows = [
            (2, make_raw()),
            (3, make_raw(code="02.VP")),
            (5, make_raw(code=" 01.tccb ", title="Hồ sơ thi nâng ngạch")),
        ]
        report = check_entries(rows, year=YEAR)
        assert report.problems == (
            ImportProblem(2, "code", "01.TCCB also appears on line 5"),
            ImportProblem(5, "code", "01.TCCB also appears on line 2"),
        )
        assert [e.code for e in report.entries] == ["02.VP"]

    def test_a_code_used_three_times_names_the_other_lines(self) -> None:
        rows = [(line, make_raw(title=f"Hồ sơ {line}")) for line in (2, 4, 7)]
        messages = [p.message for p in check_entries(rows, year=YEAR).problems]
        assert messages == [
            "01.TCCB also appears on lines 4 and 7",
            "01.TCCB also appears on lines 2 and 7",
            "01.TCCB also appears on lines 2 and 4",
        ]

    def test_a_duplicate_is_found_on_a_line_with_other_problems(self) -> None:
        report = check_entries([(2, make_raw()), (3, make_raw(title=""))], year=YEAR)
        assert problem_places(report) == [(2, "code"), (3, "code"), (3, "title")]
        assert report.entries == ()

    def test_a_list_of_2000_rows_is_accepted_and_one_more_refused(self) -> None:
        rows = [(n + 2, make_raw(code=f"{n + 1:04d}.VP")) for n in range(MAX_LIST_ROWS)]
        assert check_entries(rows, year=YEAR).ok
        report = check_entries([*rows, (MAX_LIST_ROWS + 2, make_raw(code="9999.VP"))], year=YEAR)
        assert report.problems == (
            ImportProblem(
                WHOLE_FILE, "", "holds more than 2000 dossiers; a list takes at most 2000"
            ),
        )

    def test_an_empty_list_is_a_problem(self) -> None:
        report = check_entries([], year=YEAR)
        assert report.problems == (ImportProblem(WHOLE_FILE, "", "holds no dossiers"),)

    def test_a_year_out_of_range_is_reported_once_and_nothing_is_imported(self) -> None:
        report = check_entries(LIST_2026, year=1999)
        assert report.problems == (
            ImportProblem(WHOLE_FILE, "year", "must be a year from 2000 to 2100"),
        )
        assert report.entries == ()


def test_a_file_error_names_every_problem_by_line() -> None:
    error = ListFileError(
        [
            ImportProblem(1, "retention", "is a required column"),
            ImportProblem(WHOLE_FILE, "", "is empty"),
        ]
    )
    assert error.reason == "INVALID_DOSSIER_LIST_FILE" and error.code is ErrorCode.INVALID_ARGUMENT
    assert error.problems[0].line == WHOLE_FILE
    assert [(v.field, v.description) for v in error.violations] == [
        ("file", "line 0: is empty"),
        ("retention", "line 1: is a required column"),
    ]
    assert error.message == "file: is empty; line 1, retention: is a required column"


def test_folded_text_ignores_case_diacritics_and_punctuation() -> None:
    assert folded("  Đơn vị/người LẬP hồ sơ ") == "don vi nguoi lap ho so"
    assert folded("retention_years") == "retention years"
