"""The search fields of a `documents` row (ADR 0009, 4), computed the one way every writer uses:
registration, issue, the text worker, the migration and the bench loader."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func

from vanban.documents.domain.search_text import (
    BODY_MAX_CHARS,
    Terms,
    document_search_text,
    search_terms,
)

# Each function takes `terms`, what folds a text (`search_terms`): the bench loader passes its
# cache of the pieces its rows are made of, and so writes its rows by these very functions.


def number_key(
    code_number: str | None, code_notation: str | None, *, terms: Terms = search_terms
) -> str | None:
    """Số + ký hiệu as search terms: "05/QĐ-UBND" and "5/QD-UBND" give the same key."""
    if not code_number and not code_notation:
        return None
    return " ".join([*terms(code_number or ""), *terms(code_notation or "")])


def search_head(
    *,
    subject: str,
    code_number: str | None = None,
    code_notation: str | None = None,
    issuer_name: str | None = None,
    signer_name: str | None = None,
    terms: Terms = search_terms,
) -> str:
    """The short normalised text of the head fields, trigram-indexed for fuzzy numbers."""
    head = document_search_text(
        subject=subject,
        code_number=code_number or "",
        code_notation=code_notation or "",
        issuer_name=issuer_name or "",
        terms=terms,
    )
    signer = " ".join(terms(signer_name or ""))
    return f"{head} {signer}" if signer else head


def search_vector_text(head: str, body: str = "", *, terms: Terms = search_terms) -> str:
    """The folded text `search_vector` indexes: the head, then the (capped) body's terms; the
    bench loader sends it as is and computes the tsvector in SQL the same way."""
    if not body:
        return head
    return f"{head} {' '.join(terms(body[:BODY_MAX_CHARS]))}"


def search_vector(head: str, body: str = "") -> ColumnElement[str]:
    """The tsvector over the head and the (capped) body text, 'simple' configuration: Vietnamese
    syllables do not inflect, and the terms are already folded."""
    return func.to_tsvector("simple", search_vector_text(head, body))


# The vocabulary (`search_words`) is kept by a trigger on `documents` (migrations e1f3a5c7b9d2, a7c9e1b3d5f7):
# the lexemes of every search text written that begin with a letter a-z, two characters or
# more. `is_vocabulary_word` says which terms it can hold; a prefix from a-z finds in it every
# lexeme it begins.


def is_vocabulary_word(term: str) -> bool:
    return len(term) >= 2 and "a" <= term[0] <= "z"


# The vocabulary of the documents there are, for the bench loader, which loads with the
# trigger off: what the migration filled `search_words` with.
VOCABULARY_OF_DOCUMENTS = (
    "INSERT INTO search_words (word) "
    "SELECT w FROM (SELECT word AS w FROM ts_stat('SELECT search_tsv FROM documents')) s "
    "WHERE w ~ '^[a-z]' AND length(w) >= 2 ON CONFLICT DO NOTHING"
)
