"""The search's vocabulary (`search_words`, ADR 0009 section 4) as a caller meets it: every
written text's words are in it, so a prefix finds whatever it begins and a typo is corrected;
what it cannot hold is taken as typed; the pages of a corrected search stay the first page's."""

from __future__ import annotations

import base64
import json
import uuid

import grpc
import pytest
from sqlalchemy import func, update

from services.documents.tests.integration.test_incoming_rules import issuer
from services.documents.tests.integration.test_registration import register
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.documents.adapters.db.tables import documents as documents_table
from vanban.platform.errors import ErrorCode
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import metadata


@pytest.fixture
def clerk(documents):
    return documents.mint.person(f"clerk-{uuid.uuid4().hex[:6]}")


async def found(stub, token: str, q: str, **request) -> list[str]:
    answer = await stub.SearchDocuments(
        pb.SearchDocumentsRequest(q=q, **request), metadata=metadata(token)
    )
    return [d.id for d in answer.documents]


async def registered(stub, token: str, registration, subject: str) -> str:
    document = await register(stub, token, registration(issuer_code=issuer(), subject=subject))
    return document.id


async def test_a_typo_is_corrected_by_the_words_registration_added(
    stub, clerk, registration
) -> None:
    """One letter wrong, or two neighbours swapped (one edit for a short word, where
    trigrams are blind to it); a word far from every word finds nothing."""
    document = await registered(stub, clerk, registration, "Về việc Vorkaptal Zorva")
    assert await found(stub, clerk, "vorkaptal zorva") == [document]
    for typo in ("vorkaptl zorva", "vorkatpal zorva", "vorkaptal zrova", "vorkaptal zorav"):
        assert await found(stub, clerk, typo) == [document], typo
    assert await found(stub, clerk, "vorkaptal xylqw") == []


async def test_what_the_vocabulary_cannot_hold_is_taken_as_typed(stub, clerk, registration) -> None:
    """A letter alone, a term with digits, a letter folding leaves outside a-z ("ł"): each
    still finds its document next to a typo, and a prefix finds what it begins."""
    vitamin = await registered(stub, clerk, registration, "Tiêm vitamin A cho trẻ Qorbelt")
    licence = await registered(stub, clerk, registration, "Giấy phép lái xe hạng B2 Zorvuk")
    wroclaw = await registered(stub, clerk, registration, "Hợp tác với Wrocław Qelvax")
    assert await found(stub, clerk, "tiem vitamn a qorbelt") == [vitamin]
    assert await found(stub, clerk, "giay phep lai xe b2 zorvak") == [licence]
    assert await found(stub, clerk, "qelvax wroc") == [wroclaw]
    assert await found(stub, clerk, "qelvax wrocła") == [wroclaw]


async def test_words_written_outside_the_service_join_the_vocabulary(
    documents, stub, clerk, registration
) -> None:
    """The vocabulary is kept by the database (a trigger), not by each writer: a text changed
    by any statement brings its words, and a word longer than a btree key allows is no error
    (PostgreSQL leaves words over 2 047 bytes out of the tsvector)."""
    document = await registered(stub, clerk, registration, "Về việc Pellomir")
    long_word = "x" * 3000
    async with documents.engine.begin() as connection:
        await connection.execute(
            update(documents_table)
            .where(documents_table.c.id == document)
            .values(
                search_tsv=documents_table.c.search_tsv.op("||")(
                    func.to_tsvector("simple", f"quandelor {long_word}")
                )
            )
        )
    assert await found(stub, clerk, "pellomir quandelr") == [document]
    assert await found(stub, clerk, "pellomir quandel") == [document]


async def test_the_pages_of_a_corrected_search_follow_the_first_without_naming_its_words(
    stub, clerk, registration
) -> None:
    """The next pages correct the words again and must come to the first page's (the token
    keeps a digest, not the words: they may be words of documents the caller cannot open);
    a vocabulary that changed the correction meanwhile sends the caller back to the first
    page, never to an empty or shifted one."""
    ids = [await registered(stub, clerk, registration, f"Tovanu Qelbrux {i}") for i in range(3)]

    async def page(token: str = "") -> pb.SearchDocumentsResponse:
        return await stub.SearchDocuments(
            pb.SearchDocumentsRequest(q="qelbrex tovanu", page_size=2, page_token=token),
            metadata=metadata(clerk),
        )

    first = await page()
    assert [d.id for d in first.documents] == ids[:0:-1]
    assert (first.total, first.total_exact) == (3, True)
    assert b"qelbrux" not in base64.urlsafe_b64decode(first.next_page_token + "==")
    await registered(stub, clerk, registration, "Về việc Dravolin")  # an unrelated word
    second = await page(first.next_page_token)
    assert [d.id for d in second.documents] == ids[:1]
    assert (second.total, second.total_exact) == (3, True)
    await registered(stub, clerk, registration, "Tovanu Qelbrex")  # the typo, now a word
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await page(first.next_page_token)
    error = remote_error(raised.value)
    assert (error.code, error.reason) == (ErrorCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


def _forged(token: str, **changes: str) -> str:
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    data.update(changes)
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "changes",
    [
        {"k": '["not a date"]', "z": "1"},
        {"k": '["not a date"]', "c": "1"},
        {"c": "1", "w": '[["a b"], ["x"]]'},
        {"c": "1", "w": '[["mirandol"]]'},
        {"k": "[" * 5000},
    ],
    ids=[
        "key with trigram mark",
        "key with corrected mark",
        "another digest",
        "no digest",
        "nested deep",
    ],
)
async def test_a_forged_token_of_a_search_is_refused(stub, clerk, registration, changes) -> None:
    for i in range(3):
        await registered(stub, clerk, registration, f"Mirandol Pesvakor {i}")
    first = await stub.SearchDocuments(
        pb.SearchDocumentsRequest(q="pesvakar mirandol", page_size=1), metadata=metadata(clerk)
    )
    assert first.next_page_token
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.SearchDocuments(
            pb.SearchDocumentsRequest(
                q="pesvakar mirandol",
                page_size=1,
                page_token=_forged(first.next_page_token, **changes),
            ),
            metadata=metadata(clerk),
        )
    error = remote_error(raised.value)
    assert (error.code, error.reason) == (ErrorCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
