"""What registration checks and warns about: duplicates by either rule, and refusals that name
the field and leave nothing behind (no row, no event, no audit entry, no number)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta

import grpc
import pytest
from sqlalchemy import select

from services.documents.tests.integration.test_registration import register, row_counts, this_year
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.documents.adapters.db.tables import incoming_duplicates
from vanban.documents.domain.numbering import VIETNAM
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import metadata

_ISSUERS = itertools.count(1)


def issuer() -> str:
    """An issuer no other registration of the module names, so that others are not duplicates."""
    return f"000.00.T{next(_ISSUERS):02d}.H"


async def stored_duplicates(documents, document_id: str) -> set[tuple[str, str]]:
    async with documents.engine.connect() as connection:
        rows = await connection.execute(
            select(incoming_duplicates.c.duplicate_of, incoming_duplicates.c.rule).where(
                incoming_duplicates.c.document_id == document_id
            )
        )
        return {(row.duplicate_of, row.rule) for row in rows}


async def get(stub, token: str, document_id: str) -> pb.IncomingDocument:
    response = await stub.GetIncomingDocument(
        pb.GetIncomingDocumentRequest(id=document_id), metadata=metadata(token)
    )
    return response.document


async def test_the_same_number_written_differently_by_the_same_issuer_is_a_duplicate(
    documents, stub, registration
) -> None:
    clerk = documents.mint.person("clerk-dup")
    organ = issuer()
    first = await register(
        stub, clerk, registration(issuer_code=organ, code_number="05", code_notation="QĐ-UBND")
    )
    second = await register(
        stub,
        clerk,
        registration(
            issuer_code=organ, code_number="5", code_notation="QD-UBND", subject="Bản sao nhận lại"
        ),
    )
    # The same số/ký hiệu of another issuer is another document.
    other = await register(
        stub, clerk, registration(issuer_code=issuer(), code_number="05", code_notation="QĐ-UBND")
    )

    assert first.duplicates == []
    assert first.identifier != second.identifier  # built from "05/QĐ-UBND" and "5/QD-UBND"
    assert [(d.document_id, d.rule) for d in second.duplicates] == [(first.id, "number")]
    assert other.duplicates == []
    # The warning is kept with the document: stored, and read back with it.
    assert await stored_duplicates(documents, second.id) == {(first.id, "number")}
    assert await get(stub, clerk, second.id) == second
    # Registered all the same, each under its own number.
    assert second.arrival_number == first.arrival_number + 1


async def test_the_same_identifier_is_a_duplicate_whatever_else_differs(
    documents, stub, registration
) -> None:
    clerk = documents.mint.person("clerk-dup")
    identifier = f"{issuer()},2024/12/30,77/TB-SNV"
    first = await register(stub, clerk, registration(issuer_code=issuer(), identifier=identifier))
    second = await register(
        stub,
        clerk,
        registration(
            issuer_code=issuer(),
            identifier=identifier,
            code_number="78",
            code_notation="TB-SNV",
            received_via=pb.RECEIVED_VIA_PAPER,
        ),
    )
    third = await register(stub, clerk, registration(issuer_code=issuer(), identifier=identifier))

    assert [(d.document_id, d.rule) for d in second.duplicates] == [(first.id, "identifier")]
    assert [(d.document_id, d.rule) for d in third.duplicates] == [
        (first.id, "identifier"),
        (second.id, "identifier"),
    ]
    assert await stored_duplicates(documents, third.id) == {
        (first.id, "identifier"),
        (second.id, "identifier"),
    }
    assert await get(stub, clerk, third.id) == third
    assert second.received_via == pb.RECEIVED_VIA_PAPER


async def test_a_copy_matching_by_both_rules_is_warned_of_under_both(
    documents, stub, registration
) -> None:
    clerk = documents.mint.person("clerk-dup")
    request = registration(issuer_code=issuer(), code_number="41", code_notation="KH-BTC")
    first = await register(stub, clerk, request)
    second = await register(stub, clerk, request)

    assert [(d.document_id, d.rule) for d in second.duplicates] == [
        (first.id, "identifier"),
        (first.id, "number"),
    ]


def tomorrow() -> str:
    return (datetime.now(VIETNAM).date() + timedelta(days=1)).isoformat()


BAD_INPUT = [
    ({"document_type": "Thư tay"}, "document_type"),
    ({"code_number": "5a"}, "code_number"),
    ({"code_number": "V"}, "code_number"),
    ({"code_notation": "QĐ UBND"}, "code_notation"),
    ({"issued_date": "tomorrow"}, "issued_date"),
    ({"issuer_code": "bộ nội vụ"}, "issuer_code"),
    ({"received_via": 9}, "received_via"),
    (
        {
            "relations": [
                pb.Relation(
                    kind=pb.RELATION_KIND_RESPONSE_FOR,
                    document_id="5f0e1d2c-3b4a-4958-8776-655443322110",
                )
            ]
        },
        "relations[0].document_id",
    ),
    ({"relations": [pb.Relation(kind=pb.RELATION_KIND_AMENDS)]}, "relations[0]"),
    ({"signer": pb.Signer(competence=pb.SIGNER_COMPETENCE_KT)}, "signer.position"),
    (
        {"attachments": [pb.FileRef(sha256="x", size=1, content_type="application/pdf")]},
        "attachments[0].sha256",
    ),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_INPUT, ids=[field for _, field in BAD_INPUT])
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_half_written(
    documents, stub, registration, nc, overrides, field
) -> None:
    clerk = documents.mint.person("clerk-careless")
    if overrides.get("issued_date") == "tomorrow":
        overrides = {"issued_date": tomorrow()}
    last = await register(stub, clerk, registration(issuer_code=issuer()))
    before = await row_counts(documents, nc)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await register(stub, clerk, registration(**overrides))

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    error = remote_error(refused.value)
    assert error.reason == "INVALID_INCOMING_DOCUMENT"
    assert [v.field for v in error.violations] == [field]
    assert await row_counts(documents, nc) == before
    # No number was taken: the next good registration continues the run.
    after = await register(stub, clerk, registration(issuer_code=issuer()))
    assert (after.arrival_year, after.arrival_number) == (this_year(), last.arrival_number + 1)


async def test_a_secret_duplicate_is_told_only_to_readers_cleared_for_it(
    documents, stub, registration
) -> None:
    organ = issuer()
    secret = await register(
        stub,
        documents.mint.person("clerk-mat", clearance="secret"),
        registration(issuer_code=organ, code_number="09", secrecy=pb.SECRECY_SECRET),
    )
    clerk = documents.mint.person("clerk-thuong")
    copy = await register(stub, clerk, registration(issuer_code=organ, code_number="9"))

    # The clerk is not told that a secret document with this number exists.
    assert copy.duplicates == []
    assert await stored_duplicates(documents, copy.id) == {(secret.id, "number")}
    assert (await get(stub, clerk, copy.id)).duplicates == []
    leader = documents.mint.person("lanh-dao", roles=("agency_leader",), clearance="secret")
    assert [(d.document_id, d.rule) for d in (await get(stub, leader, copy.id)).duplicates] == [
        (secret.id, "number")
    ]


async def test_copies_registered_at_the_same_moment_see_each_other(
    documents, stub, registration
) -> None:
    """The duplicate query runs after the number is taken, which orders the register's
    registrations: of copies registered at once, every later one is warned of the earlier."""
    request = registration(issuer_code=issuer(), code_number="63", code_notation="CV-STC")
    clerks = [documents.mint.person(f"clerk-{i}") for i in range(5)]

    copies = await asyncio.gather(*(register(stub, clerk, request) for clerk in clerks))

    by_number = sorted(copies, key=lambda d: d.arrival_number)
    for position, copy in enumerate(by_number):
        earlier = {d.id for d in by_number[:position]}
        assert {d.document_id for d in copy.duplicates} == earlier
        assert {d.rule for d in copy.duplicates} <= {"identifier", "number"}
