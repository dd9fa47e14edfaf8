"""Signatures of outgoing documents through the DocumentRegistry gRPC API and the signing
service's events: the signing service records each signature it made (RPC, or its event when
the call was lost), the document shows its signed file, the agency signs on top of the leader,
and where the approval chain is in force the clerk numbers only what the leader signed."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from services.documents.tests.integration.conftest import Documents, run_directory, run_documents
from services.documents.tests.integration.test_outgoing import (
    Office,
    add_version,
    audit_entries,
    draft,
    find_event,
    get,
    issue,
    status_of,
)
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1 import events_pb2
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.contracts.signing.v1 import events_pb2 as sigevents
from vanban.contracts.signing.v1 import signing_pb2 as sigpb
from vanban.contracts.workflow.v1 import workflow_pb2, workflow_pb2_grpc
from vanban.documents.adapters.db.tables import document_signatures
from vanban.platform.convert import to_timestamp
from vanban.platform.events.durables import DOCUMENTS_DOCUMENT_SIGNED
from vanban.platform.events.nats import (
    DLQ_STREAM,
    ensure_dlq_stream,
    ensure_service_stream,
    stream_name,
)
from vanban.platform.testing import channel, metadata

SIGNED_SUBJECT = "vanban.signing.document.signed"


@pytest.fixture
def office(issuing: Documents) -> Office:
    return Office(issuing)


@pytest.fixture
def signing(issuing: Documents) -> str:
    """The signing service's caller token."""
    return issuing.mint.service("signing")


def signature_on(
    document: pb.OutgoingDocument,
    kind: str = "leader",
    *,
    source: pb.FileRef | None = None,
    version: int = 0,
    signed_by: str = "ld-hung",
) -> pb.DocumentSignature:
    """A signature the signing service would make on the document's last signed file (its
    current version's file when unsigned): a new PDF, one revision longer."""
    if source is None:
        source = document.signed_file if document.HasField("signed_file") else document.file
    signature_id = str(uuid.uuid4())
    content = f"{source.sha256}+{kind}+{signature_id}".encode()
    return pb.DocumentSignature(
        id=signature_id,
        version=version or document.current_version,
        kind=kind,
        file=pb.FileRef(
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            content_type="application/pdf",
            file_name="du-thao.signed.pdf",
        ),
        source_sha256=source.sha256,
        signed_by=signed_by,
        signed_at=to_timestamp(datetime.now(UTC)),
        certificate_subject="CN=Trần Văn Hùng, O=Ủy ban nhân dân tỉnh Demo",
    )


async def record(
    stub: Any, token: str, document_id: str, signature: pb.DocumentSignature
) -> pb.OutgoingDocument:
    response = await stub.RecordOutgoingSignature(
        pb.RecordOutgoingSignatureRequest(document_id=document_id, signature=signature),
        metadata=metadata(token),
    )
    return response.document


async def stored(service: Documents, document_id: str) -> list[str]:
    """The ids of the signatures kept for the document."""
    async with service.engine.connect() as connection:
        return list(
            (
                await connection.execute(
                    select(document_signatures.c.id)
                    .where(document_signatures.c.document_id == document_id)
                    .order_by(document_signatures.c.signed_at)
                )
            ).scalars()
        )


async def test_the_leaders_signature_is_recorded_and_the_document_shows_its_signed_file(
    issuing, issuing_stub, office, signing, nc
) -> None:
    document = await draft(issuing_stub, office.author)
    assert not document.HasField("signed_file") and list(document.signatures) == []
    leader = signature_on(document)

    signed = await record(issuing_stub, signing, document.id, leader)

    assert list(signed.signatures) == [leader]
    assert signed.signed_file == leader.file
    assert signed.file == document.file  # the version's own file stays as it was uploaded
    read = await get(issuing_stub, office.author, document.id)
    assert list(read.signatures) == [leader]
    assert read.signed_file == leader.file
    assert await stored(issuing, document.id) == [leader.id]
    updated = await find_event(
        nc.jetstream(),
        "vanban.documents.document.updated",
        events_pb2.DocumentUpdated,
        lambda e: e.document_id == document.id,
    )
    assert list(updated.changed) == ["signatures"]
    [entry] = [e for e in await audit_entries(issuing, document.id) if e.action == "outgoing.sign"]
    assert entry.actor == "service:signing"
    assert entry.before == {"signed_file": None}
    assert (entry.after["signature"], entry.after["kind"], entry.after["signed_file"]) == (
        leader.id,
        "leader",
        leader.file.sha256,
    )


async def test_the_same_signature_recorded_twice_is_recorded_once(
    issuing, issuing_stub, office, signing
) -> None:
    document = await draft(issuing_stub, office.author)
    leader = signature_on(document)

    first = await record(issuing_stub, signing, document.id, leader)
    second = await record(issuing_stub, signing, document.id, leader)

    assert list(first.signatures) == list(second.signatures) == [leader]
    assert await stored(issuing, document.id) == [leader.id]
    signs = [e for e in await audit_entries(issuing, document.id) if e.action == "outgoing.sign"]
    assert len(signs) == 1


async def test_a_leader_signature_of_an_older_version_is_refused_as_draft_changed(
    issuing, issuing_stub, office, signing
) -> None:
    document = await draft(issuing_stub, office.author, content=b"v1")
    stale = signature_on(document)
    await add_version(issuing_stub, office.author, document.id, b"v2")

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await record(issuing_stub, signing, document.id, stale)

    assert status_of(refused) == (grpc.StatusCode.FAILED_PRECONDITION, "DRAFT_CHANGED")
    assert await stored(issuing, document.id) == []


async def test_the_agency_does_not_sign_a_draft(issuing, issuing_stub, office, signing) -> None:
    document = await draft(issuing_stub, office.author)
    signed = await record(issuing_stub, signing, document.id, signature_on(document))

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await record(issuing_stub, signing, document.id, signature_on(signed, "agency"))

    assert status_of(refused) == (grpc.StatusCode.FAILED_PRECONDITION, "DOCUMENT_NOT_ISSUED")
    assert len(await stored(issuing, document.id)) == 1


async def test_the_agency_signs_only_after_the_leader(
    issuing, issuing_stub, office, signing, nc
) -> None:
    # Without the approval chain (this registry runs without the workflow) a draft is numbered
    # unsigned; the agency still does not sign it.
    unsigned = await issue(
        issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await record(issuing_stub, signing, unsigned.id, signature_on(unsigned, "agency"))
    assert status_of(refused) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LEADER_SIGNATURE_REQUIRED",
    )
    assert await stored(issuing, unsigned.id) == []

    document = await draft(issuing_stub, office.author)
    leader = signature_on(document)
    await record(issuing_stub, signing, document.id, leader)
    issued = await issue(issuing_stub, office.clerk, document.id)
    assert list(issued.signatures) == [leader] and issued.signed_file == leader.file
    # The issue event carries the document with its signatures (the agency signs from it).
    event = await find_event(
        nc.jetstream(),
        "vanban.documents.outgoing.issued",
        events_pb2.OutgoingDocumentIssued,
        lambda e: e.document.id == document.id,
    )
    assert list(event.document.signatures) == [leader]
    assert event.document.signed_file == leader.file

    agency = signature_on(issued, "agency", signed_by="service:signing")
    sealed = await record(issuing_stub, signing, document.id, agency)
    assert [s.kind for s in sealed.signatures] == ["leader", "agency"]
    assert sealed.signed_file == agency.file
    assert (await get(issuing_stub, office.clerk, document.id)).signed_file == agency.file


async def test_only_the_signing_service_records_signatures(
    issuing, issuing_stub, office, signing
) -> None:
    document = await draft(issuing_stub, office.author)
    leader = signature_on(document)
    person = issuing.mint.person("ld-hung", roles=("agency_leader",), units=("VP",))

    with pytest.raises(grpc.aio.AioRpcError) as by_person:
        await record(issuing_stub, person, document.id, leader)
    with pytest.raises(grpc.aio.AioRpcError) as by_clerk:
        await record(issuing_stub, office.clerk, document.id, leader)
    with pytest.raises(grpc.aio.AioRpcError) as by_workflow:
        await record(issuing_stub, issuing.mint.service("workflow"), document.id, leader)

    assert status_of(by_person) == (grpc.StatusCode.PERMISSION_DENIED, "SERVICE_ONLY")
    assert status_of(by_clerk) == (grpc.StatusCode.PERMISSION_DENIED, "SERVICE_ONLY")
    assert status_of(by_workflow) == (grpc.StatusCode.PERMISSION_DENIED, "SIGNING_SERVICE_ONLY")
    assert await stored(issuing, document.id) == []
    assert list((await get(issuing_stub, office.author, document.id)).signatures) == []


async def test_a_malformed_signature_is_refused_naming_the_field(
    issuing, issuing_stub, office, signing
) -> None:
    document = await draft(issuing_stub, office.author)
    png = signature_on(document)
    png.file.content_type = "image/png"
    unknown = signature_on(document, "notary")

    for bad in (png, unknown):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await record(issuing_stub, signing, document.id, bad)
        assert status_of(refused) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SIGNATURE")
    assert await stored(issuing, document.id) == []


# The event path: the signing service's `document.signed`, read by the durable consumer.


def signed_event(document_id: str, signature: pb.DocumentSignature) -> sigevents.DocumentSigned:
    kinds = {
        "leader": sigpb.SIGNATURE_KIND_LEADER,
        "agency": sigpb.SIGNATURE_KIND_AGENCY,
        "agency_text": sigpb.SIGNATURE_KIND_AGENCY_TEXT,
    }
    return sigevents.DocumentSigned(
        signature=sigpb.Signature(
            id=signature.id,
            document_id=document_id,
            version=signature.version,
            kind=kinds[signature.kind],
            level=sigpb.PADES_LEVEL_B_T,
            signed_by=signature.signed_by,
            certificate_subject=signature.certificate_subject,
            certificate_sha256="ce" * 32,
            signed_at=signature.signed_at,
            file=signature.file,
            field_name="Signature1",
            source_sha256=signature.source_sha256,
        ),
        occurred_at=to_timestamp(),
    )


async def publish_signed(nc: Any, event: sigevents.DocumentSigned) -> None:
    await nc.jetstream().publish(
        SIGNED_SUBJECT, event.SerializeToString(), headers={"Nats-Msg-Id": str(uuid.uuid4())}
    )


async def eventually(check: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def signing_stream(nc: Any) -> None:
    await ensure_service_stream(nc.jetstream(), "signing")
    await ensure_dlq_stream(nc.jetstream())


async def test_a_signature_published_by_the_signing_service_is_recorded(
    issuing, issuing_stub, office, signing, nc, signing_stream
) -> None:
    document = await draft(issuing_stub, office.author)
    leader = signature_on(document)

    await publish_signed(nc, signed_event(document.id, leader))

    async def shown() -> pb.OutgoingDocument | None:
        read = await get(issuing_stub, office.author, document.id)
        return read if read.signatures else None

    read = await eventually(shown)
    assert list(read.signatures) == [leader]
    assert read.signed_file == leader.file
    # The call that was lost arrives late after all: still one signature.
    again = await record(issuing_stub, signing, document.id, leader)
    assert list(again.signatures) == [leader]
    assert await stored(issuing, document.id) == [leader.id]


async def test_a_signature_that_can_never_be_recorded_is_acknowledged_not_retried(
    issuing, issuing_stub, office, nc, signing_stream
) -> None:
    document = await draft(issuing_stub, office.author)
    out_of_order = signature_on(document, source=pb.FileRef(sha256="0f" * 32))
    agency_on_draft = signature_on(document, "agency")
    leader = signature_on(document)
    js = nc.jetstream()
    dead_before = (await js.stream_info(DLQ_STREAM)).state.messages

    for signature in (out_of_order, agency_on_draft, leader):
        await publish_signed(nc, signed_event(document.id, signature))

    async def shown() -> pb.OutgoingDocument | None:
        read = await get(issuing_stub, office.author, document.id)
        return read if read.signatures else None

    read = await eventually(shown)
    assert list(read.signatures) == [leader]
    assert await stored(issuing, document.id) == [leader.id]

    async def settled() -> Any:
        info = await js.consumer_info(stream_name("signing"), DOCUMENTS_DOCUMENT_SIGNED.name)
        return info if info.num_ack_pending == 0 and info.num_pending == 0 else None

    info = await eventually(settled)
    # The refusals were acknowledged at their first delivery: none redelivered, none dead.
    assert info.num_redelivered == 0
    assert (await js.stream_info(DLQ_STREAM)).state.messages == dead_before


# The approval chain in force: documents asks the workflow before numbering.


class ApprovingWorkflow(workflow_pb2_grpc.WorkflowServiceServicer):
    """A workflow whose every draft passed its chain: what is left to check is the leader's
    signature."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    async def CheckIssuable(
        self, request: workflow_pb2.CheckIssuableRequest, context: grpc.aio.ServicerContext
    ) -> workflow_pb2.CheckIssuableResponse:
        self.asked.append((request.document_id, request.version))
        return workflow_pb2.CheckIssuableResponse()


@contextlib.asynccontextmanager
async def run_workflow(workflow: ApprovingWorkflow) -> AsyncIterator[str]:
    server = grpc.aio.server()
    workflow_pb2_grpc.add_WorkflowServiceServicer_to_server(workflow, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


@pytest.fixture(scope="module")
async def chained(
    tmp_path_factory: pytest.TempPathFactory, make_database: Callable[..., str], nats_server: Any
) -> AsyncIterator[tuple[Documents, ApprovingWorkflow]]:
    """A documents service with the approval chain in force (`approval_required`)."""
    keys: Path = tmp_path_factory.mktemp("keys")
    workflow = ApprovingWorkflow()  # type: ignore[abstract]  # serves CheckIssuable only
    async with (
        run_workflow(workflow) as workflow_address,
        run_directory(keys, make_database("documents_chain_directory"), nats_server.url) as d,
        run_documents(
            keys,
            make_database("documents_chain"),
            nats_server.url,
            peers={"directory": d, "workflow": workflow_address},
            approval_required=True,
        ) as service,
    ):
        yield service, workflow


async def test_with_the_approval_chain_the_clerk_numbers_only_what_the_leader_signed(
    chained,
) -> None:
    service, workflow = chained
    office = Office(service)
    signing = service.mint.service("signing")
    async with channel(service.address) as ch:
        stub = DocumentRegistryServiceStub(ch)
        document = await draft(stub, office.author)

        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await issue(stub, office.clerk, document.id)
        assert status_of(refused) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "LEADER_SIGNATURE_REQUIRED",
        )
        # Refused once the workflow said yes (it approves everything here), before a number.
        assert workflow.asked == [(document.id, 1)]
        assert (await get(stub, office.clerk, document.id)).status == pb.DOCUMENT_STATUS_DRAFT

        await record(stub, signing, document.id, signature_on(document))
        issued = await issue(stub, office.clerk, document.id)

    assert issued.status == pb.DOCUMENT_STATUS_ISSUED and issued.number == 1
    assert workflow.asked == [(document.id, 1), (document.id, 1)]
    async with service.engine.connect() as connection:
        count = (
            await connection.execute(select(func.count()).select_from(document_signatures))
        ).scalar_one()
    assert count == 1
