"""What a clerk is told when an arriving document's metadata is wrong (Decree 30/2020, appendix VI)."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from vanban.documents.domain.model import (
    FileRef,
    IncomingDraft,
    Priority,
    Relation,
    RelationKind,
    Signer,
    SignerCompetence,
)
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import ErrorCode, InvalidArgumentError

ARRIVAL_DAY = date(2025, 3, 14)
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def make_draft(**overrides: Any) -> IncomingDraft:
    file_overrides = {k[5:]: overrides.pop(k) for k in list(overrides) if k.startswith("file_")}
    draft = IncomingDraft(
        issuer_code="000.00.00.G22",
        issuer_name="Bộ Nội vụ",
        code_number="05",
        code_notation="QĐ-BNV",
        issued_date="2025-03-10",
        document_type="Quyết định",
        subject="Về việc ban hành quy chế công tác văn thư",
        priority=Priority.NORMAL,
        secrecy=Secrecy.NONE,
        file=FileRef(
            sha256=SHA256, size=1024, content_type="application/pdf", file_name="qd-05.pdf"
        ),
    )
    if file_overrides:
        overrides["file"] = replace(draft.file, **file_overrides)
    return replace(draft, **overrides)


def problems_of(draft: IncomingDraft, *, arrival_day: date = ARRIVAL_DAY) -> dict[str, str]:
    with pytest.raises(InvalidArgumentError) as caught:
        draft.validated(arrival_day=arrival_day)
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert caught.value.reason == "INVALID_INCOMING_DOCUMENT"
    return {v.field: v.description for v in caught.value.violations}


def test_a_complete_draft_is_accepted_trimmed_with_its_issued_date() -> None:
    clean = make_draft(
        issuer_name="  Bộ Nội vụ ", subject="\tVề việc ban hành quy chế\n", code_number=" 05 "
    ).validated(arrival_day=ARRIVAL_DAY)

    assert clean.issued_date == date(2025, 3, 10)
    assert clean.issuer_name == "Bộ Nội vụ"
    assert clean.subject == "Về việc ban hành quy chế"
    assert clean.code_number == "05"


REQUIRED_TEXT = [
    "issuer_code",
    "issuer_name",
    "code_number",
    "code_notation",
    "document_type",
    "subject",
]


@pytest.mark.parametrize("field", REQUIRED_TEXT)
@pytest.mark.parametrize("blank", ["", "   \t "])
def test_each_required_field_left_blank_is_named(field: str, blank: str) -> None:
    assert problems_of(make_draft(**{field: blank})) == {field: "is required"}


# The decree's field sizes, written out here rather than imported so that a changed constant fails.
DECREE_SIZES = {
    "issuer_code": 13,  # OrganId S13
    "issuer_name": 200,  # OrganName S200
    "code_number": 11,  # CodeNumber S11
    "code_notation": 30,  # CodeNotation S30
    "document_type": 100,  # TypeName S100
    "subject": 500,  # Subject S500
}


def _text_of_length(field: str, length: int) -> str:
    if field == "issuer_code":
        return ("000.00.00.G22" + "0" * length)[:length]
    if field == "code_number":
        return "0" * length  # số: Arabic numerals only
    if field == "code_notation":
        return ("QĐ-UBNDĐ" * length)[: length - 1] + "Đ"  # ký hiệu: no spaces
    # Vietnamese letters with diacritics: the limit counts characters, not UTF-8 bytes.
    return ("Văn bản đến " * length)[:length]


@pytest.mark.parametrize(("field", "limit"), DECREE_SIZES.items())
def test_each_field_may_use_exactly_its_decree_size(field: str, limit: int) -> None:
    value = _text_of_length(field, limit)
    if value.endswith(" "):
        value = value[:-1] + "x"
    clean = make_draft(**{field: value}).validated(arrival_day=ARRIVAL_DAY)
    assert getattr(clean, field) == value


@pytest.mark.parametrize(("field", "limit"), DECREE_SIZES.items())
def test_each_field_one_character_over_its_decree_size_is_refused(field: str, limit: int) -> None:
    value = _text_of_length(field, limit + 1)
    if value.endswith(" "):
        value = value[:-1] + "x"
    assert problems_of(make_draft(**{field: value})) == {
        field: f"must be at most {limit} characters"
    }


@pytest.mark.parametrize("code", ["000.00.00.g22", ".00.00.00.G2", "000-00-00-G22", "H99 01"])
def test_an_issuer_code_that_is_not_an_agency_identifier_is_refused(code: str) -> None:
    assert "agency identifier" in problems_of(make_draft(issuer_code=code))["issuer_code"]


@pytest.mark.parametrize(
    "written", ["10/03/2025", "2025-3-10", "20250310", "2025-02-30", "2025-13-01", "hôm qua"]
)
def test_a_malformed_issued_date_is_refused(written: str) -> None:
    assert problems_of(make_draft(issued_date=written)) == {
        "issued_date": "must be a date written YYYY-MM-DD"
    }


def test_a_missing_issued_date_is_named_as_required() -> None:
    assert problems_of(make_draft(issued_date="  ")) == {"issued_date": "is required"}


def test_a_document_issued_after_the_day_it_arrived_is_refused() -> None:
    assert problems_of(make_draft(issued_date="2025-03-15")) == {
        "issued_date": "cannot be later than the day of arrival"
    }


def test_a_document_issued_on_the_day_it_arrived_is_accepted() -> None:
    clean = make_draft(issued_date="2025-03-14").validated(arrival_day=ARRIVAL_DAY)
    assert clean.issued_date == ARRIVAL_DAY


@pytest.mark.parametrize(
    "sha256",
    [
        SHA256.upper(),  # must be lower-case
        SHA256[:-1],  # 63 digits
        SHA256 + "0",  # 65 digits
        "z" * 64,  # not hex
        "",
    ],
)
def test_a_file_hash_that_is_not_a_sha256_is_refused(sha256: str) -> None:
    assert problems_of(make_draft(file_sha256=sha256)) == {
        "file.sha256": "must be a lower-case hex SHA-256"
    }


@pytest.mark.parametrize("size", [0, -1])
def test_an_empty_file_is_refused(size: int) -> None:
    assert problems_of(make_draft(file_size=size)) == {"file.size": "must be positive"}


def test_a_file_name_longer_than_255_characters_is_refused() -> None:
    make_draft(file_file_name="a" * 251 + ".pdf").validated(arrival_day=ARRIVAL_DAY)
    assert problems_of(make_draft(file_file_name="a" * 252 + ".pdf")) == {
        "file.file_name": "must be at most 255 characters"
    }


def test_one_error_names_every_problem_at_once() -> None:
    draft = make_draft(
        issuer_code="",
        issuer_name="x" * 201,
        code_number="",
        code_notation="y" * 31,
        issued_date="2099-01-01",
        document_type=" ",
        subject="",
        file_sha256="nope",
        file_size=0,
        file_file_name="f" * 256,
    )

    with pytest.raises(InvalidArgumentError) as caught:
        draft.validated(arrival_day=ARRIVAL_DAY)

    fields = [v.field for v in caught.value.violations]
    assert sorted(fields) == sorted(
        [
            "issuer_code",
            "issuer_name",
            "code_number",
            "code_notation",
            "issued_date",
            "document_type",
            "subject",
            "file.sha256",
            "file.size",
            "file.file_name",
        ]
    )
    # The message a clerk reads names each field too, not only the structured details.
    for field in fields:
        assert field in caught.value.message


def test_a_content_type_longer_than_127_characters_is_refused() -> None:
    make_draft(file_content_type="application/" + "x" * 115).validated(arrival_day=ARRIVAL_DAY)
    assert problems_of(make_draft(file_content_type="application/" + "x" * 116)) == {
        "file.content_type": "must be at most 127 characters"
    }


@pytest.mark.parametrize("number", ["5a", "V", "05/QĐ", "٥", "-5", "5.0"])
def test_a_so_that_is_not_arabic_numerals_is_refused(number: str) -> None:
    assert problems_of(make_draft(code_number=number)) == {
        "code_number": "must be the số in Arabic numerals, such as 05"
    }


@pytest.mark.parametrize("notation", ["QĐ UBND", "-QĐ-UBND", "QĐ-UBND-", "QĐ_UBND", "QĐ,UBND"])
def test_a_ky_hieu_with_spaces_or_stray_separators_is_refused(notation: str) -> None:
    assert problems_of(make_draft(code_notation=notation)) == {
        "code_notation": "must be a ký hiệu such as QĐ-UBND, without spaces"
    }


@pytest.mark.parametrize("notation", ["QĐ-UBND", "2020/NĐ-CP", "UBND-VP", "TTr.SNV", "CV&TB"])
def test_a_ky_hieu_of_letters_digits_and_separators_is_accepted(notation: str) -> None:
    assert make_draft(code_notation=notation).validated(arrival_day=ARRIVAL_DAY).code_notation == (
        notation
    )


def test_an_absent_identifier_is_built_the_way_the_sender_would_have_made_it() -> None:
    clean = make_draft().validated(arrival_day=ARRIVAL_DAY)
    assert clean.identifier == "000.00.00.G22,2025/03/10,05/QĐ-BNV"
    given = make_draft(identifier=" 000.00.00.G22,2025/03/10,05/QĐ-BNV-X ")
    assert given.validated(arrival_day=ARRIVAL_DAY).identifier == (
        "000.00.00.G22,2025/03/10,05/QĐ-BNV-X"
    )


def test_a_signing_authority_needs_the_signers_position() -> None:
    draft = make_draft(signer=Signer(competence=SignerCompetence.KT, full_name="Nguyễn Văn A"))
    assert problems_of(draft) == {"signer.position": "is required with a signing authority"}
    clean = make_draft(
        signer=Signer(SignerCompetence.KT, " Phó Chủ tịch ", " Nguyễn Văn A ")
    ).validated(arrival_day=ARRIVAL_DAY)
    assert clean.signer == Signer(SignerCompetence.KT, "Phó Chủ tịch", "Nguyễn Văn A")


def test_a_relation_must_name_a_document() -> None:
    draft = make_draft(
        relations=(
            Relation(RelationKind.RESPONSE_FOR),
            Relation(RelationKind.AMENDS, document_id="not-a-uuid"),
            Relation(RelationKind.REPLACES, organ_id="000.00.00.G22", code="12/QĐ-BNV"),
        )
    )
    assert problems_of(draft) == {
        "relations[0]": "must name a document: its id, its identifier, or organ and số/ký hiệu",
        "relations[1].document_id": "must be the id of a document of this registry",
    }
