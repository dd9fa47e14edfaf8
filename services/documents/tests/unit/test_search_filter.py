"""Filters of lists and search: what reaches PostgreSQL is refused here first, by field."""

from __future__ import annotations

from datetime import date

import pytest

from vanban.documents.domain.search import Filter, parse_day
from vanban.platform.errors import InvalidArgumentError


@pytest.mark.parametrize("value", ["Quyết\x00định", "\x07", "Công\x7fvăn"])
def test_a_type_or_unit_with_a_control_character_is_a_field_error(value: str) -> None:
    # PostgreSQL refuses NUL in text: it must never get that far (a fuzzer found the 500).
    for bad, field in (
        (Filter(document_types=(value,)), "document_types"),
        (Filter(unit=value), "unit"),
    ):
        with pytest.raises(InvalidArgumentError) as refused:
            bad.validated()
        assert [v.field for v in refused.value.violations] == [field]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
def test_a_day_outside_the_registrys_calendar_is_a_field_error(value: str) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        parse_day(value, field_name="registered_to")
    assert [v.field for v in refused.value.violations] == ["registered_to"]


def test_the_calendars_bounds_are_accepted() -> None:
    assert parse_day("1900-01-01", field_name="f") == date(1900, 1, 1)
    assert parse_day("2999-12-31", field_name="f") == date(2999, 12, 31)
