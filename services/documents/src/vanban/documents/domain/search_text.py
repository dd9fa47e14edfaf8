"""Search text normalisation (ADR 0009 section 4): one folding for indexed documents and queries.

Pure. The same functions build the text the service writes into `search_head` / `search_tsv`
and the terms of the search box, so index and query can never disagree:

- Unicode: precomposed (NFC) and decomposed (NFD) input fold alike; combining marks (category
  Mn: Vietnamese tones and the breve, circumflex and horn) are dropped;
- đ / Đ → d explicitly (NFD does not decompose them); the look-alike Ð / ð (U+00D0 / U+00F0,
  typed for Đ by some legacy keyboards and encodings) fold to d as well;
- lowercase by `casefold`; whitespace collapsed;
- terms: anything that is not a letter or digit separates terms, and digit runs lose their
  leading zeros ("05" → "5", "0" stays), so "QD-UBND 5" finds "05/QĐ-UBND".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from vanban.platform.errors import invalid_fields

QUERY_MAX_CHARS = 500  # a search box query longer than this is refused
QUERY_MAX_TERMS = 32  # ... and so is one with more terms than this
BODY_MAX_CHARS = 200_000  # body text indexed per document (the full text stays stored)

_LETTER_D = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})
_TERM = re.compile(r"[^\W_]+")  # runs of letters and digits
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")  # zeros before another digit, at a run's start


def fold(text: str) -> str:
    """Vietnamese-insensitive form: no marks, đ → d, casefolded, single spaces, trimmed."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.translate(_LETTER_D).split())


def search_terms(text: str) -> list[str]:
    """The folded letter/digit terms of `text`, digit runs without leading zeros."""
    return [_LEADING_ZEROS.sub("", term) for term in _TERM.findall(fold(text))]


# What folds a text into its terms: `search_terms`, or a writer's cache of it (the bench loader's).
Terms = Callable[[str], Sequence[str]]


def document_search_text(
    *,
    subject: str,
    code_number: str,
    code_notation: str,
    issuer_name: str,
    body_text: str = "",
    terms: Terms = search_terms,
) -> str:
    """The one normalised string indexed for a document: its terms joined by single spaces.

    Order: số, ký hiệu, issuer, subject, then the body capped at `BODY_MAX_CHARS` characters.
    """
    parts = (code_number, code_notation, issuer_name, subject, body_text[:BODY_MAX_CHARS])
    return " ".join(term for part in parts for term in terms(part))


def query_terms(q: str) -> list[str]:
    """Terms of a search box query; an empty or oversized query is a field error on `q`."""
    if len(q) > QUERY_MAX_CHARS:
        raise invalid_fields({"q": f"at most {QUERY_MAX_CHARS} characters"})
    terms = search_terms(q)
    if not terms:
        raise invalid_fields({"q": "must contain at least one letter or digit"})
    if len(terms) > QUERY_MAX_TERMS:
        raise invalid_fields({"q": f"at most {QUERY_MAX_TERMS} terms"})
    return terms
