"""Registers, số and ký hiệu (Decree 30/2020): formats, yearly reset, series, cancellations."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from vanban.documents.domain.document_types import DEFAULT_CATALOGUE, type_named
from vanban.documents.domain.numbering import (
    CancelledNumber,
    Register,
    RegisterKind,
    cancel_number,
    choose_register,
    format_number,
    full_number,
    next_number,
    notation,
    register_year,
)
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import (
    AlreadyExistsError,
    ErrorCode,
    FailedPreconditionError,
    InvalidArgumentError,
)

QD = type_named(DEFAULT_CATALOGUE, "Quyết định")
TB = type_named(DEFAULT_CATALOGUE, "Thông báo")
CV = type_named(DEFAULT_CATALOGUE, "Công văn")
SECRET_LEVELS = frozenset({Secrecy.CONFIDENTIAL, Secrecy.SECRET, Secrecy.TOP_SECRET})
PLAIN = frozenset({Secrecy.NONE})
AT = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def register(id: str, kind: RegisterKind, levels: frozenset[Secrecy], *types: str) -> Register:
    return Register(
        id=id, name=id, kind=kind, secrecy_levels=levels, document_types=frozenset(types)
    )


AGENCY = (
    register("den", RegisterKind.INCOMING, PLAIN),
    register("den-mat", RegisterKind.INCOMING, SECRET_LEVELS),
    register("di-qd", RegisterKind.OUTGOING, PLAIN, "Quyết định"),
    register("di", RegisterKind.OUTGOING, PLAIN),
    register("di-mat", RegisterKind.OUTGOING, SECRET_LEVELS),
)


@pytest.mark.parametrize(
    ("number", "text"), [(1, "01"), (5, "05"), (9, "09"), (10, "10"), (7816, "7816")]
)
def test_numbers_below_ten_get_a_leading_zero(number: int, text: str) -> None:
    assert format_number(number) == text


@pytest.mark.parametrize("number", [0, -1, True])
def test_a_number_starts_at_one(number: int) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        format_number(number)
    assert caught.value.reason == "INVALID_NUMBER"


def test_full_number_of_a_decision() -> None:
    assert full_number(5, notation(QD, "UBND")) == "05/QĐ-UBND"
    assert full_number(123, notation(QD, "BNV")) == "123/QĐ-BNV"


def test_cong_van_notation_is_agency_then_drafting_unit() -> None:
    assert notation(CV, "UBND", "VP") == "UBND-VP"
    assert full_number(7816, notation(CV, "VPCP", "TTĐT")) == "7816/VPCP-TTĐT"


def test_cong_van_needs_its_unit_and_other_types_take_none() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        notation(CV, "UBND")
    assert [v.field for v in caught.value.violations] == ["unit_abbreviation"]
    with pytest.raises(InvalidArgumentError):
        notation(QD, "UBND", "VP")


def test_vietnamese_capitals_are_allowed_in_abbreviations() -> None:
    assert notation(QD, "SGDĐT") == "QĐ-SGDĐT"


@pytest.mark.parametrize("issuer", ["", "ubnd", "UB ND", "UB-ND", "1UBND"])
def test_a_malformed_issuer_abbreviation_is_refused(issuer: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        notation(QD, issuer)
    assert caught.value.reason == "INVALID_NOTATION"
    assert [v.field for v in caught.value.violations] == ["issuer_abbreviation"]


def test_the_year_turns_at_midnight_vietnam_time_on_1_january() -> None:
    assert register_year(datetime(2025, 12, 31, 16, 59, 59, tzinfo=UTC)) == 2025
    assert register_year(datetime(2025, 12, 31, 17, 0, tzinfo=UTC)) == 2026
    vietnam = timezone(timedelta(hours=7))
    assert register_year(datetime(2026, 1, 1, 0, 0, tzinfo=vietnam)) == 2026
    assert register_year(datetime(2025, 12, 31, 23, 59, tzinfo=vietnam)) == 2025


def test_the_year_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError):
        register_year(datetime(2025, 12, 31, 17, 0))


def test_secret_documents_are_numbered_in_their_own_series() -> None:
    for level in SECRET_LEVELS:
        assert choose_register(AGENCY, RegisterKind.OUTGOING, QD, level).id == "di-mat"
        assert choose_register(AGENCY, RegisterKind.INCOMING, TB, level).id == "den-mat"
    assert choose_register(AGENCY, RegisterKind.INCOMING, TB, Secrecy.NONE).id == "den"


def test_a_type_group_series_wins_over_the_general_series() -> None:
    assert choose_register(AGENCY, RegisterKind.OUTGOING, QD, Secrecy.NONE).id == "di-qd"
    assert choose_register(AGENCY, RegisterKind.OUTGOING, TB, Secrecy.NONE).id == "di"


def test_no_register_is_a_configuration_error() -> None:
    plain_only = [r for r in AGENCY if r.id != "di-mat"]
    with pytest.raises(FailedPreconditionError) as caught:
        choose_register(plain_only, RegisterKind.OUTGOING, QD, Secrecy.SECRET)
    assert caught.value.code is ErrorCode.FAILED_PRECONDITION
    assert caught.value.reason == "NO_REGISTER"


def test_two_matching_registers_are_ambiguous() -> None:
    registers = (*AGENCY, register("di-qd-2", RegisterKind.OUTGOING, PLAIN, "Quyết định"))
    with pytest.raises(FailedPreconditionError) as caught:
        choose_register(registers, RegisterKind.OUTGOING, QD, Secrecy.NONE)
    assert caught.value.reason == "AMBIGUOUS_REGISTER"
    assert caught.value.metadata["registers"] == "di-qd, di-qd-2"


def test_an_incoming_register_names_no_types() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        register("den", RegisterKind.INCOMING, PLAIN, "Quyết định")
    assert caught.value.reason == "INVALID_REGISTER"


def cancellation(number: int = 4, reason: str = "Ban hành nhầm") -> CancelledNumber:
    return CancelledNumber(
        register_id="di", year=2025, number=number, reason=reason, cancelled_by="u1", at=AT
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_cancellation_needs_a_reason(reason: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        cancellation(reason=reason)
    assert caught.value.reason == "INVALID_CANCELLATION"
    assert [v.field for v in caught.value.violations] == ["reason"]


def test_a_cancelled_number_is_never_reused() -> None:
    assert next_number(0) == 1
    assert next_number(7, [cancellation(7), cancellation(4)]) == 8


def test_a_cancellation_of_a_number_never_issued_is_inconsistent() -> None:
    with pytest.raises(ValueError):
        next_number(3, [cancellation(4)])


def test_cancel_number_records_an_issued_number_once() -> None:
    made = cancel_number(
        register_id="di",
        year=2025,
        number=4,
        last_issued=7,
        cancellations=(),
        reason=" Ban hành nhầm ",
        cancelled_by="u1",
        at=AT,
    )
    assert made == cancellation(4)
    with pytest.raises(AlreadyExistsError):
        cancel_number(
            register_id="di",
            year=2025,
            number=4,
            last_issued=7,
            cancellations=(made,),
            reason="again",
            cancelled_by="u1",
            at=AT,
        )
    with pytest.raises(FailedPreconditionError) as caught:
        cancel_number(
            register_id="di",
            year=2025,
            number=8,
            last_issued=7,
            cancellations=(),
            reason="not yet",
            cancelled_by="u1",
            at=AT,
        )
    assert caught.value.reason == "NUMBER_NOT_ISSUED"
