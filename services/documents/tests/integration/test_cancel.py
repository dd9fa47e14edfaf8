"""Cancelling an issued outgoing document's number (hủy số) through the DocumentRegistry gRPC API:
the number stays taken with its reason, the next issue takes the next one, and a refusal writes
nothing."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from services.documents.tests.integration.conftest import Documents
from services.documents.tests.integration.test_outgoing import (
    Office,
    audit_entries,
    counts,
    draft,
    find_event,
    get,
    issue,
    status_of,
)
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1 import events_pb2
from vanban.documents.adapters.db.tables import cancelled_numbers, counters
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import metadata


@pytest.fixture
def office(issuing: Documents) -> Office:
    return Office(issuing)


async def cancel(stub: Any, token: str, document_id: str, reason: str) -> pb.OutgoingDocument:
    response = await stub.CancelOutgoingDocument(
        pb.CancelOutgoingDocumentRequest(id=document_id, reason=reason), metadata=metadata(token)
    )
    return response.document


async def everything(service: Documents, nc: Any) -> dict[str, int]:
    """`counts`, and the cancellations kept."""
    result = await counts(service, nc)
    async with service.engine.connect() as connection:
        result["cancellations"] = (
            await connection.execute(select(func.count()).select_from(cancelled_numbers))
        ).scalar_one()
    return result


async def test_a_cancelled_number_is_kept_with_its_reason_and_never_given_again(
    issuing, issuing_stub, office, nc
) -> None:
    issued = await issue(issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id)

    cancelled = await cancel(issuing_stub, office.clerk, issued.id, "  Sai thẩm quyền ký  ")

    assert cancelled.status == pb.DOCUMENT_STATUS_CANCELLED
    assert (cancelled.number, cancelled.code_number, cancelled.identifier) == (
        issued.number,
        issued.code_number,
        issued.identifier,
    )
    assert (cancelled.cancel_reason, cancelled.cancelled_by) == ("Sai thẩm quyền ký", "vt-lan")
    assert cancelled.HasField("cancelled_at")
    # Anyone who may open it reads the cancellation, with who and when.
    read = await get(issuing_stub, office.author, issued.id)
    assert read.status == pb.DOCUMENT_STATUS_CANCELLED
    assert (read.cancel_reason, read.cancelled_by, read.cancelled_at) == (
        "Sai thẩm quyền ký",
        "vt-lan",
        cancelled.cancelled_at,
    )
    async with issuing.engine.connect() as connection:
        kept = (
            await connection.execute(
                select(cancelled_numbers).where(
                    cancelled_numbers.c.register_id == issued.register_id,
                    cancelled_numbers.c.year == issued.year,
                )
            )
        ).all()
        last = (
            await connection.execute(
                select(counters.c.last_number).where(
                    counters.c.series == issued.register_id, counters.c.year == issued.year
                )
            )
        ).scalar_one()
    assert [(k.number, k.reason, k.cancelled_by) for k in kept] == [
        (issued.number, "Sai thẩm quyền ký", "vt-lan")
    ]
    assert last == issued.number  # the counter did not move back

    following = await issue(
        issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id
    )
    assert following.number == issued.number + 1


async def test_a_cancellation_is_published_and_audited(issuing, issuing_stub, office, nc) -> None:
    issued = await issue(issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id)
    await cancel(issuing_stub, office.clerk, issued.id, "Ban hành nhầm")

    updated = await find_event(
        nc.jetstream(),
        "vanban.documents.document.updated",
        events_pb2.DocumentUpdated,
        lambda e: e.document_id == issued.id,
    )
    assert list(updated.changed) == ["status"]
    assert updated.direction == pb.DIRECTION_OUTGOING
    entry = [e for e in await audit_entries(issuing, issued.id) if e.action == "outgoing.cancel"]
    assert len(entry) == 1
    assert entry[0].actor == "vt-lan"
    assert entry[0].before == {"status": "issued"}
    assert entry[0].after["status"] == "cancelled"
    assert entry[0].after["reason"] == "Ban hành nhầm"


async def test_refused_cancellations_write_nothing(issuing, issuing_stub, office, nc) -> None:
    still_draft = await draft(issuing_stub, office.author)
    issued = await issue(issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id)
    done = await issue(issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id)
    await cancel(issuing_stub, office.clerk, done.id, "Lần đầu")
    leader = issuing.mint.person("ld", roles=("agency_leader",))
    before = await everything(issuing, nc)

    refusals = [
        (
            office.clerk,
            still_draft.id,
            "Hủy",
            grpc.StatusCode.FAILED_PRECONDITION,
            "DOCUMENT_NOT_ISSUED",
        ),
        (
            office.clerk,
            done.id,
            "Lần hai",
            grpc.StatusCode.FAILED_PRECONDITION,
            "ALREADY_CANCELLED",
        ),
        (office.author, issued.id, "Hủy", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
        (leader, issued.id, "Hủy", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
        (office.clerk, "not-an-id", "Hủy", grpc.StatusCode.NOT_FOUND, "OUTGOING_NOT_FOUND"),
        (office.clerk, issued.id, "   ", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CANCELLATION"),
        (
            office.clerk,
            issued.id,
            "a\x00b",
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_CANCELLATION",
        ),
        (
            office.clerk,
            issued.id,
            "x" * 501,
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_CANCELLATION",
        ),
    ]
    for token, document_id, reason, code, why in refusals:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await cancel(issuing_stub, token, document_id, reason)
        assert status_of(refused) == (code, why), reason
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            assert [v.field for v in remote_error(refused.value).violations] == ["reason"]

    assert await everything(issuing, nc) == before
    assert (await get(issuing_stub, office.clerk, issued.id)).status == pb.DOCUMENT_STATUS_ISSUED
    assert (await get(issuing_stub, office.clerk, done.id)).cancel_reason == "Lần đầu"
