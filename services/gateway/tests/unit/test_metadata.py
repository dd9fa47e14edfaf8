"""The `metadata` part of a registration: which field a clerk is told to correct."""

import json
import unicodedata
from datetime import date

import pytest

from vanban.gateway.api.convert.incoming_documents import parse_metadata as _parse_metadata
from vanban.gateway.api.schemas.incoming_documents import IncomingMetadataIn
from vanban.platform.errors import ErrorCode, InvalidArgumentError

TODAY = date(2026, 11, 21)
REQUIRED = (
    "issuer_code",
    "issuer_name",
    "code_number",
    "code_notation",
    "issued_date",
    "document_type",
    "subject",
)
# Precomposed (NFC) Vietnamese: one character each, but two or three bytes in UTF-8.
SUBJECT_TEXT = unicodedata.normalize(
    "NFC", "Về việc triển khai thực hiện Nghị quyết của Hội đồng nhân dân tỉnh. "
)


def make_metadata(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "issuer_code": "000.00.12.H53",
        "issuer_name": "Ủy ban nhân dân tỉnh Hà Giang",
        "code_number": "05",
        "code_notation": "QĐ-UBND",
        "issued_date": "2026-11-20",
        "document_type": "Quyết định",
        "subject": "Về việc phê duyệt kế hoạch năm 2027",
    }
    values.update(overrides)
    return values


def vietnamese_text(length: int) -> str:
    # Ends in a letter, so that trimming whitespace cannot change its length.
    return (SUBJECT_TEXT * (length // len(SUBJECT_TEXT) + 1))[: length - 1] + "ệ"


def refused_fields(raw: str) -> list[str]:
    with pytest.raises(InvalidArgumentError) as caught:
        _parse_metadata(raw, today=TODAY)
    error = caught.value
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_METADATA"
    return [v.field for v in error.violations]


def test_valid_metadata_parses_with_the_default_priority_and_secrecy() -> None:
    meta = _parse_metadata(json.dumps(make_metadata()), today=TODAY)

    assert meta.issuer_code == "000.00.12.H53"
    assert meta.issued_date == date(2026, 11, 20)
    assert meta.subject == "Về việc phê duyệt kế hoạch năm 2027"
    assert meta.priority == "normal"
    assert meta.secrecy == "none"


def test_explicit_priority_and_secrecy_are_kept() -> None:
    meta = _parse_metadata(
        json.dumps(make_metadata(priority="flash", secrecy="top_secret")), today=TODAY
    )

    assert (meta.priority, meta.secrecy) == ("flash", "top_secret")


def test_a_document_issued_today_is_accepted() -> None:
    meta = _parse_metadata(json.dumps(make_metadata(issued_date="2026-11-21")), today=TODAY)

    assert meta.issued_date == TODAY


def test_surrounding_spaces_are_trimmed() -> None:
    meta = _parse_metadata(json.dumps(make_metadata(code_notation="  QĐ-UBND  ")), today=TODAY)

    assert meta.code_notation == "QĐ-UBND"


@pytest.mark.parametrize("field", REQUIRED)
def test_a_missing_field_is_named(field: str) -> None:
    metadata = make_metadata()
    del metadata[field]

    assert refused_fields(json.dumps(metadata)) == [f"metadata.{field}"]


@pytest.mark.parametrize("field", [f for f in REQUIRED if f != "issued_date"])
def test_a_blank_field_is_named(field: str) -> None:
    assert refused_fields(json.dumps(make_metadata(**{field: "   "}))) == [f"metadata.{field}"]


def test_a_subject_of_500_vietnamese_characters_is_accepted() -> None:
    subject = vietnamese_text(500)
    assert len(subject.encode()) > 500  # the limit counts characters, not bytes

    meta = _parse_metadata(json.dumps(make_metadata(subject=subject)), today=TODAY)

    assert meta.subject == subject


@pytest.mark.parametrize("ensure_ascii", [True, False], ids=["escaped", "utf8"])
def test_a_subject_of_501_vietnamese_characters_is_refused(ensure_ascii: bool) -> None:
    subject = vietnamese_text(501)
    raw = json.dumps(make_metadata(subject=subject), ensure_ascii=ensure_ascii)

    assert refused_fields(raw) == ["metadata.subject"]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\n"], ids=repr)
@pytest.mark.parametrize("field", ["issuer_name", "code_notation", "subject"])
def test_a_control_character_inside_a_field_is_refused(field: str, char: str) -> None:
    metadata = make_metadata(**{field: f"Về việc{char}phê duyệt"})

    assert refused_fields(json.dumps(metadata)) == [f"metadata.{field}"]


def test_an_unknown_field_is_named() -> None:
    metadata = make_metadata(registered_by="someone-else")

    assert refused_fields(json.dumps(metadata)) == ["metadata.registered_by"]


@pytest.mark.parametrize(
    "issued_date",
    ["2026-02-30", "21/11/2026", 20261121, "2026-11-21T00:00:00", "", None],
    ids=repr,
)
def test_a_malformed_date_is_refused(issued_date: object) -> None:
    metadata = make_metadata(issued_date=issued_date)

    assert refused_fields(json.dumps(metadata)) == ["metadata.issued_date"]


def test_a_date_after_today_is_refused() -> None:
    metadata = make_metadata(issued_date="2026-11-22")

    assert refused_fields(json.dumps(metadata)) == ["metadata.issued_date"]


@pytest.mark.parametrize("field,value", [("priority", "asap"), ("secrecy", "internal")])
def test_an_unknown_priority_or_secrecy_is_named(field: str, value: str) -> None:
    assert refused_fields(json.dumps(make_metadata(**{field: value}))) == [f"metadata.{field}"]


def test_every_wrong_field_is_named_at_once() -> None:
    metadata = make_metadata(subject="", issued_date="21/11/2026")
    del metadata["issuer_code"]

    assert sorted(refused_fields(json.dumps(metadata))) == [
        "metadata.issued_date",
        "metadata.issuer_code",
        "metadata.subject",
    ]


@pytest.mark.parametrize(
    "raw",
    ["", "not json", "{", "issuer_code=000.00.12.H53", "[]", "null", '"text"'],
    ids=repr,
)
def test_a_metadata_part_that_is_not_a_json_object_is_blamed_on_metadata(raw: str) -> None:
    assert refused_fields(raw) == ["metadata"]


@pytest.mark.parametrize(
    "raw", ["not json", '{"subject": "a"} trailing', '{"subject": "a",}'], ids=repr
)
def test_metadata_that_is_not_json_is_explained_as_such(raw: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        _parse_metadata(raw, today=TODAY)

    assert [(v.field, v.description) for v in caught.value.violations] == [
        ("metadata", "must be a JSON object")
    ]


def test_the_schema_forbids_extra_fields_on_its_own() -> None:
    # The gateway's OpenAPI document shows this model; it must say what the parser enforces.
    assert IncomingMetadataIn.model_json_schema()["additionalProperties"] is False


@pytest.mark.parametrize("code", ["abc", "000-00-00-G22", ".G22", "G 22", "000.00.00.G22X0"])
def test_an_issuer_code_documents_would_refuse_is_refused_here_first(code: str) -> None:
    """The rule comes from the documents contract, so the file is never stored for it."""
    with pytest.raises(InvalidArgumentError) as caught:
        _parse_metadata(json.dumps(make_metadata(issuer_code=code)), today=TODAY)
    [violation] = caught.value.violations
    assert violation.field == "metadata.issuer_code"
    assert violation.description in (
        "must be an agency identifier such as 000.00.00.G22",
        "String should have at most 13 characters",
    )


def test_an_issuer_code_is_accepted_trimmed() -> None:
    meta = _parse_metadata(json.dumps(make_metadata(issuer_code=" H41 ")), today=TODAY)
    assert meta.issuer_code == "H41"


def test_a_version_number_beyond_the_contracts_int32_is_refused_not_overflowed() -> None:
    from pydantic import ValidationError

    from vanban.gateway.api.schemas.outgoing_documents import IssueIn, VersionMetadataIn

    for model in (IssueIn, VersionMetadataIn):
        assert model.model_validate({"expected_version": 2**31 - 1}).expected_version == 2**31 - 1
        with pytest.raises(ValidationError):
            model.model_validate({"expected_version": 32589158477190044730})
