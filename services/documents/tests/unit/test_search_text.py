"""Search text folding (ADR 0009 section 4): Vietnamese-insensitive, number-aware, bounded queries."""

import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vanban.documents.adapters.db.search import tsquery_text
from vanban.documents.domain.search import TextMatch
from vanban.documents.domain.search_text import (
    BODY_MAX_CHARS,
    QUERY_MAX_CHARS,
    QUERY_MAX_TERMS,
    document_search_text,
    fold,
    query_terms,
    search_terms,
)
from vanban.platform.errors import ErrorCode, InvalidArgumentError

_VOWELS = "aăâeêioôơuưy"
_TONED = "".join(
    unicodedata.normalize("NFC", v + tone)
    for v in _VOWELS
    for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
)
VIETNAMESE_LETTERS = _TONED + _TONED.upper() + "bcdđghklmnpqrstvx" + "BCDĐGHKLMNPQRSTVX"


@pytest.mark.parametrize(
    "text",
    [
        "Quyết định",
        "quyet dinh",
        "QUYẾT ĐỊNH",
        unicodedata.normalize("NFD", "Quyết định"),
        unicodedata.normalize("NFD", "QUYẾT ĐỊNH"),
        "  Quyết \t định\n",
    ],
)
def test_spellings_of_quyet_dinh_fold_alike(text: str) -> None:
    assert fold(text) == "quyet dinh"


def test_nfd_input_is_really_decomposed() -> None:
    decomposed = unicodedata.normalize("NFD", "Quyết định")
    assert decomposed != "Quyết định"
    assert fold(decomposed) == fold("Quyết định")


def test_d_with_stroke_folds_to_d() -> None:
    assert fold("Đề án") == "de an"
    assert fold("đường") == "duong"


@pytest.mark.parametrize(
    ("letter", "folded"),
    [
        ("ư", "u"),
        ("ơ", "o"),
        ("ă", "a"),
        ("â", "a"),
        ("ê", "e"),
        ("ô", "o"),
        ("Ư", "u"),
        ("Ơ", "o"),
    ],
)
def test_vietnamese_letters_fold_to_their_base(letter: str, folded: str) -> None:
    assert fold(letter) == folded


@pytest.mark.parametrize("letter", ["ỹ", "ỳ", "ý", "ỷ", "ỵ", "Ỹ", "Ỳ"])
def test_tones_on_y_fold_to_y(letter: str) -> None:
    assert fold(letter) == "y"


def test_code_splits_into_terms_without_leading_zeros() -> None:
    assert search_terms("05/QĐ-UBND") == ["5", "qd", "ubnd"]


def test_query_finds_code_written_another_way() -> None:
    assert set(search_terms("QD-UBND 5")) == set(search_terms("05/QĐ-UBND"))


@pytest.mark.parametrize(
    ("text", "terms"),
    [("10", ["10"]), ("0", ["0"]), ("00", ["0"]), ("007", ["7"]), ("100/2020", ["100", "2020"])],
)
def test_numbers_lose_only_leading_zeros(text: str, terms: list[str]) -> None:
    assert search_terms(text) == terms


def test_punctuation_only_has_no_terms() -> None:
    assert search_terms(" /-., ") == []


def test_document_search_text_is_the_terms_of_every_field() -> None:
    text = document_search_text(
        subject="Về việc triển khai Đề án 06",
        code_number="05",
        code_notation="QĐ-UBND",
        issuer_name="Ủy ban nhân dân tỉnh Hà Giang",
        body_text="Căn cứ Luật Tổ chức chính quyền địa phương;",
    )
    assert text == (
        "5 qd ubnd uy ban nhan dan tinh ha giang ve viec trien khai de an 6"
        " can cu luat to chuc chinh quyen dia phuong"
    )
    assert set(query_terms("QD-UBND 5")) <= set(text.split())
    assert set(query_terms("quyen dia phuong")) <= set(text.split())


def test_document_search_text_caps_the_body() -> None:
    text = document_search_text(
        subject="s",
        code_number="1",
        code_notation="n",
        issuer_name="i",
        body_text="a " * BODY_MAX_CHARS,
    )
    assert len(text.split()) == 4 + BODY_MAX_CHARS // 2


def _violations(q: str) -> list[str]:
    with pytest.raises(InvalidArgumentError) as caught:
        query_terms(q)
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    return [v.field for v in caught.value.violations]


@pytest.mark.parametrize("q", ["", "   ", "\t\n", " /-. "])
def test_empty_query_is_refused(q: str) -> None:
    assert _violations(q) == ["q"]


def test_oversized_query_is_refused() -> None:
    assert _violations("a" * (QUERY_MAX_CHARS + 1)) == ["q"]


def test_query_with_too_many_terms_is_refused() -> None:
    assert _violations(" ".join(["x"] * (QUERY_MAX_TERMS + 1))) == ["q"]


def test_queries_at_the_limits_are_accepted() -> None:
    assert query_terms(" ".join(["x"] * QUERY_MAX_TERMS)) == ["x"] * QUERY_MAX_TERMS
    assert query_terms("a" * QUERY_MAX_CHARS) == ["a" * QUERY_MAX_CHARS]


@given(
    st.text(
        alphabet=st.sampled_from(VIETNAMESE_LETTERS + string.digits + " \t\n"), max_size=80
    ).map(lambda s: s if len(s) % 2 else unicodedata.normalize("NFD", s))
)
def test_fold_is_idempotent_and_ascii(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert set(folded) <= set(string.ascii_lowercase + string.digits + " ")
    assert folded == folded.strip()
    assert "  " not in folded


@pytest.mark.parametrize(
    ("terms", "tsquery"),
    [
        (("chuyen", "doi", "s"), "chuyen & doi & s:*"),
        (("qd", "ubnd", "5"), "qd & ubnd & 5"),
        (("18", "qd", "ubnd"), "18 & qd & ubnd"),
        (("ubnd",), "ubnd:*"),
    ],
)
def test_the_last_word_is_a_prefix_unless_a_number_is_sought(
    terms: tuple[str, ...], tsquery: str
) -> None:
    assert tsquery_text(terms) == tsquery


def test_the_retry_of_words_with_a_number_takes_the_last_word_as_a_prefix() -> None:
    assert (
        tsquery_text(("2025", "chuyen", "doi", "s"), match=TextMatch.PREFIX_LAST)
        == "2025 & chuyen & doi & s:*"
    )
    # A number stays whole.
    assert tsquery_text(("qd", "ubnd", "5"), match=TextMatch.PREFIX_LAST) == "qd & ubnd & 5"
