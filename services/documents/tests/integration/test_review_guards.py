"""What the issue-8 review found, held: secret duplicates stay out of lists and search, issuing
keeps the body text searchable, far dates and forged tokens are field errors (not internal
ones), and naming a document one may not open is no way to learn of it."""

from __future__ import annotations

import base64
import json

import grpc
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.documents.tests.integration.test_incoming_rules import issuer
from services.documents.tests.integration.test_outgoing import Office, draft, issue
from services.documents.tests.integration.test_registration import register
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.documents.adapters.db import text_jobs
from vanban.documents.adapters.db.tables import text_jobs as text_jobs_table
from vanban.platform.testing import metadata


async def test_a_secret_duplicate_is_not_counted_or_listed_for_an_uncleared_clerk(
    documents, stub, registration
) -> None:
    organ = issuer()
    secret = await register(
        stub,
        documents.mint.person("clerk-mat", clearance="secret"),
        registration(
            issuer_code=organ, code_number="19", secrecy=pb.SECRECY_SECRET, subject="Zzyxqv mật"
        ),
    )
    clerk = documents.mint.person("clerk-thuong")
    copy = await register(
        stub, clerk, registration(issuer_code=organ, code_number="19", subject="Zzyxqv thường")
    )
    cleared = documents.mint.person("clerk-mat-2", clearance="secret")

    async def seen_by(token: str) -> tuple[list[int], list[str]]:
        found = await stub.SearchDocuments(
            pb.SearchDocumentsRequest(q="zzyxqv"), metadata=metadata(token)
        )
        listed = await stub.ListIncomingDocuments(
            pb.ListIncomingDocumentsRequest(filter=pb.DocumentFilter(duplicates_only=True)),
            metadata=metadata(token),
        )
        counts = [d.duplicate_count for d in found.documents if d.id == copy.id]
        return counts, [d.id for d in listed.documents]

    assert copy.duplicates == []
    counts, listed = await seen_by(clerk)
    assert counts == [0] and copy.id not in listed
    # Whoever is cleared for the secret document sees the warning.
    counts, listed = await seen_by(cleared)
    assert counts == [1] and copy.id in listed and secret.id not in listed


async def test_issuing_keeps_the_drafts_extracted_text_searchable(issuing, issuing_stub) -> None:
    office = Office(issuing)
    document = await draft(issuing_stub, office.author, content=b"%PDF review guard")
    async with issuing.engine.begin() as connection:
        # Only this document's job is due.
        await connection.execute(
            update(text_jobs_table)
            .where(text_jobs_table.c.document_id != document.id)
            .values(state="done")
        )
    async with AsyncSession(issuing.engine) as session, session.begin():
        job = await text_jobs.claim(session, lease_seconds=600, max_attempts=3)
        assert job is not None and job.document_id == document.id
        await text_jobs.finish(
            session,
            job,
            extracted=text_jobs.Extracted(
                text="Quxylophon trong thân văn bản", source="text_layer", pages=1, warnings=[]
            ),
        )

    async def found(q: str = "quxylophon") -> int:
        answer = await issuing_stub.SearchDocuments(
            pb.SearchDocumentsRequest(q=q), metadata=metadata(office.clerk)
        )
        return answer.total

    assert await found() == 1
    # A typo of a word of the text: the text job added its words to the vocabulary.
    assert await found("quxylophom") == 1
    await issue(issuing_stub, office.clerk, document.id)
    assert await found() == 1
    assert await found("quxylophom") == 1


def _forge(token: str, **changes: str) -> str:
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    data.update(changes)
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize("case", ["total", "number_key", "to_9999", "from_0001"])
async def test_far_dates_and_forged_tokens_are_refused_as_such(
    documents, stub, registration, case
) -> None:
    clerk = documents.mint.person("clerk-x")
    for n in range(3):
        await register(stub, clerk, registration(issuer_code=issuer(), code_number=str(30 + n)))
    sort = pb.DOCUMENT_SORT_NUMBER if case == "number_key" else pb.DOCUMENT_SORT_UNSPECIFIED
    request = pb.ListIncomingDocumentsRequest(page_size=1, sort=sort)
    if case in ("total", "number_key"):
        first = await stub.ListIncomingDocuments(request, metadata=metadata(clerk))
        if case == "total":
            request.page_token = _forge(first.next_page_token, t=str(10**30))
        else:
            request.page_token = _forge(first.next_page_token, k=json.dumps(["2026", str(10**30)]))
    elif case == "to_9999":
        request.filter.registered_to = "9999-12-31"
    else:
        request.filter.registered_from = "0001-01-01"

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListIncomingDocuments(request, metadata=metadata(clerk))

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_naming_a_document_one_may_not_open_is_answered_as_missing(
    issuing, issuing_stub
) -> None:
    office = Office(issuing)
    # A draft of another unit (Phòng Tổng hợp), which the VP specialist may not open.
    elsewhere = await draft(
        issuing_stub, office.clerk, drafting_unit="PTH", subject="Văn bản của Phòng Tổng hợp"
    )
    missing = "5f0e1d2c-3b4a-4958-8776-655443322110"
    answers = []
    for target in (elsewhere.id, missing):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await draft(
                issuing_stub,
                office.author,
                relations=[pb.Relation(kind=pb.RELATION_KIND_RECALLS, document_id=target)],
            )
        answers.append((refused.value.code(), refused.value.details() or ""))
    # The same answer whether the document exists or not.
    assert answers[0][0] == answers[1][0] == grpc.StatusCode.INVALID_ARGUMENT
    assert "is not a document of this registry" in answers[0][1]
    assert "is not a document of this registry" in answers[1][1]
