"""The search fields of a `documents` row (ADR 0009, 4), computed the one way every writer uses:
registration, issue, the text worker, the migration and the bench loader."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, TEXT, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from vanban.documents.adapters.db.tables import search_words
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


# What the vocabulary keeps of a search text: every term that begins with a letter a-z, two
# characters or more ("nghi", "b2"): all of them, or the words a prefix begins would miss some.
# Numbers are never corrected nor expanded; a term with a letter folding leaves outside a-z
# ("ß") is not kept, and its documents are found by the prefix only when it is looked up in
# the index (ADR 0009).
WORD = re.compile(r"[a-z][a-z0-9]+")


def vocabulary(search_text: str) -> list[str]:
    """The distinct words of a folded search text, sorted: writers add them in one order, so
    two transactions adding the same new words wait for each other instead of deadlocking."""
    return sorted({w for w in search_text.split() if WORD.fullmatch(w)})


# The vocabulary of the documents there are, read from their tsvectors: what the migration
# filled `search_words` with, and the bench loader does after its COPY.
VOCABULARY_OF_DOCUMENTS = (
    "INSERT INTO search_words (word) "
    "SELECT word FROM ts_stat('SELECT search_tsv FROM documents') "
    "WHERE word ~ '^[a-z][a-z0-9]+$' "
    "ON CONFLICT DO NOTHING"
)


async def remember_words(session: AsyncSession | AsyncConnection, search_text: str) -> None:
    """Adds a search text's words to `search_words` (ADR 0009, 4), in the session's
    transaction, the one that writes the text."""
    words = vocabulary(search_text)
    if not words:
        return
    rows = select(func.unnest(cast(words, ARRAY(TEXT))).label("word"))
    await session.execute(
        insert(search_words)
        .from_select(["word"], rows)
        .on_conflict_do_nothing(index_elements=["word"])
    )
