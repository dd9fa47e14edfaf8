"""Document types and abbreviations as data (Decree 30/2020, appendix III)."""

import pytest

from vanban.documents.domain.document_types import (
    DEFAULT_CATALOGUE,
    DocumentType,
    check_catalogue,
    type_named,
)
from vanban.platform.errors import ErrorCode, InvalidArgumentError


def test_the_default_catalogue_is_the_decree_list_with_cong_van() -> None:
    catalogue = check_catalogue(DEFAULT_CATALOGUE)
    assert len(catalogue) == 31
    assert type_named(catalogue, "Quyết định").abbreviation == "QĐ"
    assert type_named(catalogue, "Quy định").abbreviation == "QyĐ"
    assert type_named(catalogue, "Tờ trình").abbreviation == "TTr"
    cong_van = type_named(catalogue, " công văn ")
    assert cong_van.is_cong_van and cong_van.abbreviation is None
    assert [t.name for t in catalogue if t.is_cong_van] == ["Công văn"]


def test_an_agency_may_add_a_type() -> None:
    catalogue = check_catalogue((*DEFAULT_CATALOGUE, DocumentType("Giấy chứng nhận", "GCN")))
    assert type_named(catalogue, "Giấy chứng nhận").abbreviation == "GCN"


def test_an_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        type_named(DEFAULT_CATALOGUE, "Thư tình")
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert caught.value.reason == "UNKNOWN_DOCUMENT_TYPE"


@pytest.mark.parametrize("abbreviation", ["", "qđ", "Q-Đ", "QĐ ", "05"])
def test_a_malformed_abbreviation_is_refused(abbreviation: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        DocumentType("Quyết định", abbreviation)
    assert caught.value.reason == "INVALID_DOCUMENT_TYPE"
    assert [v.field for v in caught.value.violations] == ["abbreviation"]


def test_duplicate_abbreviations_in_a_catalogue_are_refused() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        check_catalogue((*DEFAULT_CATALOGUE, DocumentType("Quyết định khác", "QĐ")))
    assert caught.value.reason == "INVALID_DOCUMENT_TYPE_CATALOGUE"
