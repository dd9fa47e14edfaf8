"""Outgoing documents through the DocumentRegistry gRPC API: drafts with versions, issue by the
clerk with the directory's abbreviations, who sees a draft, and what events and audit entries
tell others."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from nats.js import JetStreamContext
from sqlalchemy import func, select

from services.documents.tests.integration.conftest import (
    Documents,
    make_draft_request,
    make_request,
    run_documents,
    without_digitization,
)
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1 import events_pb2
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.documents.adapters.db.tables import (
    counters,
    document_recipients,
    document_relations,
    document_versions,
    platform_tables,
    text_jobs,
)
from vanban.documents.adapters.db.tables import documents as documents_table
from vanban.launcher.infra.ports import free_port
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import DEMO_AGENCY, channel, metadata

STREAM = "VANBAN_DOCUMENTS"


def pdf(content: bytes, name: str = "du-thao.pdf") -> pb.FileRef:
    return pb.FileRef(
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content_type="application/pdf",
        file_name=name,
    )


class Office:
    """People of the agency, as caller tokens: the Văn phòng's clerk and specialists, and a
    specialist of the Phòng Tổng hợp."""

    def __init__(self, service: Documents) -> None:
        mint = service.mint
        self.clerk = mint.person("vt-lan", roles=("clerk",), units=("VP",))
        self.author = mint.person("cv-an", roles=("specialist",), units=("VP",))
        self.colleague = mint.person("cv-binh", roles=("specialist",), units=("VP",))
        self.stranger = mint.person("cv-cuong", roles=("specialist",), units=("PTH",))


@pytest.fixture
def office(issuing: Documents) -> Office:
    return Office(issuing)


async def draft(stub: Any, token: str, **overrides: Any) -> pb.OutgoingDocument:
    response = await stub.DraftOutgoingDocument(
        make_draft_request(**overrides), metadata=metadata(token)
    )
    return response.document


async def get(stub: Any, token: str, document_id: str) -> pb.OutgoingDocument:
    response = await stub.GetOutgoingDocument(
        pb.GetOutgoingDocumentRequest(id=document_id), metadata=metadata(token)
    )
    return response.document


async def add_version(
    stub: Any,
    token: str,
    document_id: str,
    content: bytes,
    *,
    expected_version: int = 0,
    note: str = "",
) -> pb.OutgoingDocument:
    response = await stub.AddOutgoingVersion(
        pb.AddOutgoingVersionRequest(
            id=document_id,
            file=pdf(content),
            note=note,
            expected_version=expected_version,
        ),
        metadata=metadata(token),
    )
    return response.document


async def issue(
    stub: Any, token: str, document_id: str, *, expected_version: int = 0
) -> pb.OutgoingDocument:
    response = await stub.IssueOutgoingDocument(
        pb.IssueOutgoingDocumentRequest(id=document_id, expected_version=expected_version),
        metadata=metadata(token),
    )
    return response.document


async def find_event(
    js: JetStreamContext,
    subject: str,
    message_type: type[Message],
    matches: Callable[[Any], bool],
    *,
    within: float = 10,
) -> Any:
    """The first event on `subject` that `matches`, read from the service's stream."""
    sub = await js.pull_subscribe(subject, stream=STREAM)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            try:
                batch = await sub.fetch(100, timeout=0.5)
            except TimeoutError:
                continue
            for msg in batch:
                event = message_type.FromString(msg.data)
                if matches(event):
                    return event
    finally:
        await sub.unsubscribe()
    raise AssertionError(f"no matching {subject} event within {within} s")


async def audit_entries(service: Documents, document_id: str) -> list[Any]:
    audit = platform_tables.audit
    async with service.engine.connect() as connection:
        return list(
            await connection.execute(
                select(audit)
                .where(
                    audit.c.resource.in_(
                        [f"outgoing-documents/{document_id}", f"incoming-documents/{document_id}"]
                    )
                )
                .order_by(audit.c.occurred_at)
            )
        )


async def counts(service: Documents, nc: Any) -> dict[str, int]:
    """Rows an outgoing call may write, numbers taken, and events published (the outbox drained
    first, so an event written by mistake cannot hide in transit)."""
    outbox = platform_tables.outbox
    async with service.engine.connect() as connection:
        for _ in range(200):
            if not (await connection.execute(select(func.count()).select_from(outbox))).scalar():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the outbox did not drain")
        result = {
            table.name: (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in (
                documents_table,
                document_versions,
                document_recipients,
                document_relations,
                text_jobs,
                platform_tables.audit,
            )
        }
        result["numbers taken"] = (
            await connection.execute(select(func.coalesce(func.sum(counters.c.last_number), 0)))
        ).scalar_one()
        result["issued"] = (
            await connection.execute(
                select(func.count()).where(documents_table.c.status != "draft")
            )
        ).scalar_one()
    result["events"] = (await nc.jetstream().stream_info(STREAM)).state.messages
    return result


def status_of(caught: pytest.ExceptionInfo[grpc.aio.AioRpcError]) -> tuple[grpc.StatusCode, str]:
    return caught.value.code(), remote_error(caught.value).reason


async def test_a_draft_needs_only_its_type_subject_urgency_secrecy_recipients_and_file(
    issuing, issuing_stub, office
) -> None:
    document = await draft(issuing_stub, office.author, drafting_unit="", note="Bản đầu")

    assert document.status == pb.DOCUMENT_STATUS_DRAFT
    assert (document.document_type, document.subject) == (
        "Quyết định",
        "Về việc ban hành quy chế công tác văn thư",
    )
    assert [r.organ_id for r in document.recipients] == ["000.00.00.G22"]
    assert document.created_by == "cv-an"
    assert document.current_version == 1
    assert [(v.version, v.uploaded_by, v.note) for v in document.versions] == [
        (1, "cv-an", "Bản đầu")
    ]
    # No number, date or identifier before issue.
    assert (document.number, document.code_number, document.issued_date, document.identifier) == (
        0,
        "",
        "",
        "",
    )
    assert await get(issuing_stub, office.author, document.id) == document


async def test_each_upload_is_a_new_version_and_the_history_is_kept(
    issuing, issuing_stub, office
) -> None:
    first = await draft(issuing_stub, office.author, content=b"v1")
    second = await add_version(
        issuing_stub, office.colleague, first.id, b"v2", expected_version=1, note="Sửa điều 2"
    )
    third = await add_version(issuing_stub, office.author, first.id, b"v3")

    assert third.current_version == 3
    assert third.file == pdf(b"v3")
    assert [(v.version, v.file.sha256, v.uploaded_by, v.note) for v in third.versions] == [
        (1, pdf(b"v1").sha256, "cv-an", ""),
        (2, pdf(b"v2").sha256, "cv-binh", "Sửa điều 2"),
        (3, pdf(b"v3").sha256, "cv-an", ""),
    ]
    assert second.current_version == 2
    assert await get(issuing_stub, office.clerk, first.id) == third
    # Each version's text is to be extracted for search.
    async with issuing.engine.connect() as connection:
        queued = set(
            (
                await connection.execute(
                    select(text_jobs.c.sha256).where(text_jobs.c.document_id == first.id)
                )
            ).scalars()
        )
    assert queued == {pdf(b"v1").sha256, pdf(b"v2").sha256, pdf(b"v3").sha256}


async def test_a_stale_version_is_a_conflict_and_changes_nothing(
    issuing, issuing_stub, office, nc
) -> None:
    document = await draft(issuing_stub, office.author)
    await add_version(issuing_stub, office.author, document.id, b"v2", expected_version=1)
    before = await counts(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await add_version(issuing_stub, office.colleague, document.id, b"v2b", expected_version=1)
    with pytest.raises(grpc.aio.AioRpcError) as stale_issue:
        await issue(issuing_stub, office.clerk, document.id, expected_version=1)

    for caught in (stale, stale_issue):
        assert status_of(caught) == (grpc.StatusCode.ABORTED, "VERSION_CONFLICT")
        assert remote_error(caught.value).metadata["current_version"] == "2"
    assert await counts(issuing, nc) == before
    assert (await get(issuing_stub, office.author, document.id)).current_version == 2


async def test_the_clerk_issues_a_draft_with_the_next_number_and_locks_it(
    issuing, issuing_stub, office, nc
) -> None:
    document = await draft(issuing_stub, office.author)
    await add_version(issuing_stub, office.author, document.id, b"final")

    issued = await issue(issuing_stub, office.clerk, document.id, expected_version=2)

    assert issued.status == pb.DOCUMENT_STATUS_ISSUED
    assert issued.register_id == "outgoing"
    assert issued.code_number == f"{issued.number:02d}"
    assert issued.code_notation == "QĐ-UBND"
    assert issued.identifier == (
        f"{DEMO_AGENCY},{issued.issued_date.replace('-', '/')},{issued.code_number}/QĐ-UBND"
    )
    assert issued.issued_by == "vt-lan"
    assert issued.current_version == 2 and issued.file == pdf(b"final")
    assert without_digitization(
        await get(issuing_stub, office.author, document.id)
    ) == without_digitization(issued)
    before = await counts(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as locked:
        await add_version(issuing_stub, office.author, document.id, b"after")
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await issue(issuing_stub, office.clerk, document.id)

    for caught in (locked, again):
        assert status_of(caught) == (grpc.StatusCode.FAILED_PRECONDITION, "DOCUMENT_NOT_DRAFT")
    assert await counts(issuing, nc) == before
    following = await issue(
        issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id
    )
    assert following.number == issued.number + 1


async def test_a_cong_van_is_numbered_with_the_agency_and_drafting_unit_abbreviations(
    issuing, issuing_stub, office
) -> None:
    letter = await draft(issuing_stub, office.author, document_type="Công văn")
    division = await draft(
        issuing_stub, office.stranger, document_type="Công văn", drafting_unit="PTH"
    )

    assert (await issue(issuing_stub, office.clerk, letter.id)).code_notation == "UBND-VP"
    # The unit's abbreviation (TH) from the directory, not its code (PTH).
    assert (await issue(issuing_stub, office.clerk, division.id)).code_notation == "UBND-TH"


async def test_only_the_clerk_issues(issuing, issuing_stub, office, nc) -> None:
    document = await draft(issuing_stub, office.author)
    before = await counts(issuing, nc)

    for token in (office.author, issuing.mint.person("ld", roles=("agency_leader",))):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await issue(issuing_stub, token, document.id)
        assert status_of(refused) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED")

    assert await counts(issuing, nc) == before
    assert (await get(issuing_stub, office.author, document.id)).status == pb.DOCUMENT_STATUS_DRAFT


async def test_a_draft_is_seen_by_its_author_their_unit_and_the_registry_not_other_units(
    issuing, issuing_stub, office, nc
) -> None:
    document = await draft(issuing_stub, office.author)
    readers = {
        "author": office.author,
        "colleague": office.colleague,
        "clerk": office.clerk,
        "leader": issuing.mint.person("ld", roles=("agency_leader",)),
    }
    for who, token in readers.items():
        assert (await get(issuing_stub, token, document.id)).id == document.id, who

    before = await counts(issuing, nc)
    calls = {
        "get": get(issuing_stub, office.stranger, document.id),
        "version": add_version(issuing_stub, office.stranger, document.id, b"theirs"),
    }
    for name, call in calls.items():
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await call
        assert status_of(hidden) == (grpc.StatusCode.NOT_FOUND, "OUTGOING_NOT_FOUND"), name
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await get(issuing_stub, office.stranger, "5f0e1d2c-3b4a-4958-8776-655443322110")
    # Hidden and missing look the same.
    assert remote_error(hidden.value) == remote_error(missing.value)
    assert await counts(issuing, nc) == before


async def test_an_api_keys_reader_sees_issued_documents_never_drafts(
    issuing, issuing_stub, office
) -> None:
    """An agency system's key (`outgoing:read`, role system_reader) reads what was issued:
    a draft is not found, not listed, not counted, and not searchable."""
    key = issuing.mint.person("key-portal", roles=("system_reader",))
    subject = "Zzqxv dự thảo kế hoạch"
    kept = await draft(issuing_stub, office.author, subject=subject)
    issued = await issue(
        issuing_stub, office.clerk, (await draft(issuing_stub, office.author, subject=subject)).id
    )

    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await get(issuing_stub, key, kept.id)
    assert status_of(hidden) == (grpc.StatusCode.NOT_FOUND, "OUTGOING_NOT_FOUND")
    assert (await get(issuing_stub, key, issued.id)).id == issued.id
    listed = await issuing_stub.ListOutgoingDocuments(
        pb.ListOutgoingDocumentsRequest(page_size=100), metadata=metadata(key)
    )
    assert issued.id in {d.id for d in listed.documents}
    assert all(d.status != pb.DOCUMENT_STATUS_DRAFT for d in listed.documents)
    found = await issuing_stub.SearchDocuments(
        pb.SearchDocumentsRequest(q="zzqxv"), metadata=metadata(key)
    )
    assert [d.id for d in found.documents] == [issued.id] and found.total == 1
    # The people who draft and register still see both.
    found = await issuing_stub.SearchDocuments(
        pb.SearchDocumentsRequest(q="zzqxv"), metadata=metadata(office.clerk)
    )
    assert {d.id for d in found.documents} == {kept.id, issued.id} and found.total == 2


async def test_a_secret_draft_is_hidden_even_from_its_unit_below_secret_clearance(
    issuing, issuing_stub, office, nc
) -> None:
    author = issuing.mint.person("cv-mat", roles=("specialist",), units=("VP",), clearance="secret")
    document = await draft(issuing_stub, author, secrecy=pb.SECRECY_SECRET)

    before = await counts(issuing, nc)
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await get(issuing_stub, office.colleague, document.id)
    assert status_of(hidden) == (grpc.StatusCode.NOT_FOUND, "OUTGOING_NOT_FOUND")
    # Nor may a clerk below its level number it: the draft is not one they may open.
    with pytest.raises(grpc.aio.AioRpcError) as not_issued:
        await issue(issuing_stub, office.clerk, document.id)
    assert status_of(not_issued) == (grpc.StatusCode.NOT_FOUND, "OUTGOING_NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await draft(issuing_stub, office.author, secrecy=pb.SECRECY_SECRET)
    assert status_of(refused) == (grpc.StatusCode.PERMISSION_DENIED, "CLEARANCE_TOO_LOW")
    assert await counts(issuing, nc) == before
    secret_clerk = issuing.mint.person("vt-mat", roles=("clerk",), clearance="secret")
    issued = await issue(issuing_stub, secret_clerk, document.id)
    assert (issued.register_id, issued.code_notation) == ("outgoing-secret", "QĐ-UBND")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"document_type": "Thư tay"}, "document_type"),
        ({"recipients": [pb.Recipient(organ_id="bộ nội vụ")]}, "recipients[0].organ_id"),
        ({"recipients": []}, "recipients"),
        (
            {
                "relations": [
                    pb.Relation(
                        kind=pb.RELATION_KIND_REPLACES,
                        document_id="5f0e1d2c-3b4a-4958-8776-655443322110",
                    )
                ]
            },
            "relations[0].document_id",
        ),
    ],
)
async def test_a_bad_draft_is_refused_naming_the_field_and_writes_nothing(
    issuing, issuing_stub, office, overrides, field, nc
) -> None:
    before = await counts(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await draft(issuing_stub, office.author, **overrides)

    assert status_of(refused) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_OUTGOING_DOCUMENT")
    assert [v.field for v in remote_error(refused.value).violations] == [field]
    assert await counts(issuing, nc) == before


async def test_drafts_and_issues_are_published_with_their_content(
    issuing, issuing_stub, office, nc
) -> None:
    document = await draft(issuing_stub, office.author, subject="Về việc tổ chức hội nghị")
    revised = await add_version(issuing_stub, office.author, document.id, b"v2")
    issued = await issue(issuing_stub, office.clerk, document.id)
    js = nc.jetstream()

    drafted = await find_event(
        js,
        "vanban.documents.outgoing.drafted",
        events_pb2.OutgoingDocumentDrafted,
        lambda e: e.document.id == document.id and e.version == 1,
    )
    versioned = await find_event(
        js,
        "vanban.documents.outgoing.drafted",
        events_pb2.OutgoingDocumentDrafted,
        lambda e: e.document.id == document.id and e.version == 2,
    )
    published = await find_event(
        js,
        "vanban.documents.outgoing.issued",
        events_pb2.OutgoingDocumentIssued,
        lambda e: e.document.id == document.id,
    )
    assert drafted.document == without_digitization(document)
    assert versioned.document == without_digitization(revised)
    assert published.document == without_digitization(issued)
    assert published.document.identifier and published.agency_code == DEMO_AGENCY
    assert [r.organ_id for r in published.document.recipients] == ["000.00.00.G22"]


async def test_a_recalling_document_marks_its_target_recalled_when_it_is_issued(
    issuing, issuing_stub, office, nc
) -> None:
    target = await issue(issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id)
    recall = await draft(
        issuing_stub,
        office.author,
        subject="Về việc thu hồi quyết định",
        relations=[pb.Relation(kind=pb.RELATION_KIND_RECALLS, document_id=target.id)],
    )
    # A draft recalls nothing yet.
    assert (await get(issuing_stub, office.clerk, target.id)).status == pb.DOCUMENT_STATUS_ISSUED

    issued = await issue(issuing_stub, office.clerk, recall.id)

    assert [(r.kind, r.document_id) for r in issued.relations] == [
        (pb.RELATION_KIND_RECALLS, target.id)
    ]
    assert (await get(issuing_stub, office.clerk, target.id)).status == pb.DOCUMENT_STATUS_RECALLED
    event = await find_event(
        nc.jetstream(),
        "vanban.documents.document.recalled",
        events_pb2.DocumentRecalled,
        lambda e: e.document_id == target.id,
    )
    assert (event.recalled_by, event.direction) == (recall.id, pb.DIRECTION_OUTGOING)


async def test_an_incoming_recall_marks_the_incoming_document_it_names_recalled(
    issuing, issuing_stub, office, nc
) -> None:
    clerk = office.clerk
    target = (
        await issuing_stub.RegisterIncomingDocument(
            make_request(issuer_code="000.00.00.G07", code_number="17"), metadata=metadata(clerk)
        )
    ).document
    recall = (
        await issuing_stub.RegisterIncomingDocument(
            make_request(
                issuer_code="000.00.00.G07",
                code_number="18",
                subject="Về việc thu hồi công văn số 17",
                relations=[pb.Relation(kind=pb.RELATION_KIND_RECALLS, document_id=target.id)],
            ),
            metadata=metadata(clerk),
        )
    ).document

    found = (
        await issuing_stub.GetIncomingDocument(
            pb.GetIncomingDocumentRequest(id=target.id), metadata=metadata(clerk)
        )
    ).document
    assert found.status == pb.DOCUMENT_STATUS_RECALLED
    event = await find_event(
        nc.jetstream(),
        "vanban.documents.document.recalled",
        events_pb2.DocumentRecalled,
        lambda e: e.document_id == target.id,
    )
    assert (event.recalled_by, event.direction) == (recall.id, pb.DIRECTION_INCOMING)


async def test_register_draft_version_and_issue_are_audited_with_before_and_after(
    issuing, issuing_stub, office
) -> None:
    incoming = (
        await issuing_stub.RegisterIncomingDocument(
            make_request(issuer_code="000.00.00.G09"), metadata=metadata(office.clerk)
        )
    ).document
    document = await draft(issuing_stub, office.author)
    await add_version(issuing_stub, office.colleague, document.id, b"v2")
    issued = await issue(issuing_stub, office.clerk, document.id)

    [registered] = await audit_entries(issuing, incoming.id)
    assert (registered.actor, registered.action, registered.before) == (
        "vt-lan",
        "incoming.register",
        None,
    )
    assert registered.after["arrival_number"] == incoming.arrival_number
    assert registered.after["register"] == "incoming"

    drafted, versioned, numbered = await audit_entries(issuing, document.id)
    assert (drafted.actor, drafted.action, drafted.before) == ("cv-an", "outgoing.draft", None)
    assert drafted.after["version"] == 1
    assert drafted.after["recipients"] == ["000.00.00.G22"]
    assert (versioned.actor, versioned.action) == ("cv-binh", "outgoing.version")
    assert (versioned.before, versioned.after["version"]) == ({"version": 1}, 2)
    assert (numbered.actor, numbered.action) == ("vt-lan", "outgoing.issue")
    assert numbered.before == {"status": "draft"}
    assert numbered.after == {
        "status": "issued",
        "register": "outgoing",
        "number": f"{issued.code_number}/{issued.code_notation}",
        "issued_date": issued.issued_date,
        "version": 2,
    }


async def test_a_recall_of_the_other_direction_or_above_clearance_is_refused_and_changes_nothing(
    issuing, issuing_stub, office, nc
) -> None:
    ours = await issue(issuing_stub, office.clerk, (await draft(issuing_stub, office.author)).id)
    secret_clerk = issuing.mint.person("vt-mat", roles=("clerk",), clearance="secret")
    secret = (
        await issuing_stub.RegisterIncomingDocument(
            make_request(issuer_code="000.00.00.G11", secrecy=pb.SECRECY_SECRET),
            metadata=metadata(secret_clerk),
        )
    ).document
    before = await counts(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as other_direction:
        await issuing_stub.RegisterIncomingDocument(
            make_request(
                issuer_code="000.00.00.G11",
                relations=[pb.Relation(kind=pb.RELATION_KIND_RECALLS, document_id=ours.id)],
            ),
            metadata=metadata(office.clerk),
        )
    with pytest.raises(grpc.aio.AioRpcError) as above_clearance:
        await issuing_stub.RegisterIncomingDocument(
            make_request(
                issuer_code="000.00.00.G11",
                relations=[pb.Relation(kind=pb.RELATION_KIND_RECALLS, document_id=secret.id)],
            ),
            metadata=metadata(office.clerk),
        )

    assert {v.field: v.description for v in remote_error(other_direction.value).violations} == {
        "relations[0].document_id": "an incoming document recalls incoming documents only"
    }
    # A secret document the clerk may not read is named as missing: its existence stays hidden.
    assert {v.field: v.description for v in remote_error(above_clearance.value).violations} == {
        "relations[0].document_id": "is not a document of this registry"
    }
    assert await counts(issuing, nc) == before
    assert (await get(issuing_stub, office.clerk, ours.id)).status == pb.DOCUMENT_STATUS_ISSUED


async def test_two_clerks_issuing_one_draft_at_once_number_it_once(
    issuing, issuing_stub, office, nc
) -> None:
    document = await draft(issuing_stub, office.author)
    other_clerk = issuing.mint.person("vt-hoa", roles=("clerk",))
    before = await counts(issuing, nc)

    results = await asyncio.gather(
        issue(issuing_stub, office.clerk, document.id),
        issue(issuing_stub, other_clerk, document.id),
        return_exceptions=True,
    )

    [issued] = [r for r in results if isinstance(r, pb.OutgoingDocument)]
    [refused] = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert (refused.code(), remote_error(refused).reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "DOCUMENT_NOT_DRAFT",
    )
    after = await counts(issuing, nc)
    assert after["numbers taken"] == before["numbers taken"] + 1
    assert without_digitization(
        await get(issuing_stub, office.author, document.id)
    ) == without_digitization(issued)


async def test_two_revisions_of_the_same_version_at_once_keep_one_and_refuse_the_other(
    issuing, issuing_stub, office
) -> None:
    document = await draft(issuing_stub, office.author)

    results = await asyncio.gather(
        add_version(issuing_stub, office.author, document.id, b"mine", expected_version=1),
        add_version(issuing_stub, office.colleague, document.id, b"yours", expected_version=1),
        return_exceptions=True,
    )

    [kept] = [r for r in results if isinstance(r, pb.OutgoingDocument)]
    [refused] = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert (refused.code(), remote_error(refused).reason) == (
        grpc.StatusCode.ABORTED,
        "VERSION_CONFLICT",
    )
    assert kept.current_version == 2
    assert len((await get(issuing_stub, office.author, document.id)).versions) == 2


async def test_a_cong_van_of_a_unit_the_directory_does_not_know_is_not_numbered(
    issuing, issuing_stub, office, nc
) -> None:
    # The clerk drafts for any unit, the directory's or not.
    document = await draft(
        issuing_stub, office.clerk, document_type="Công văn", drafting_unit="PHONG-MA"
    )
    before = await counts(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await issue(issuing_stub, office.clerk, document.id)

    assert status_of(refused) == (grpc.StatusCode.FAILED_PRECONDITION, "DRAFTING_UNIT_REQUIRED")
    assert await counts(issuing, nc) == before
    # Other types do not name the unit: the same unit does not stop a decision.
    decision = await draft(issuing_stub, office.clerk, drafting_unit="PHONG-MA")
    assert (await issue(issuing_stub, office.clerk, decision.id)).code_notation == "QĐ-UBND"


async def test_without_the_directory_nothing_is_numbered_and_the_clerk_is_told_to_retry(
    tmp_path, make_database, nats_server, nc
) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    async with (
        run_documents(
            tmp_path / "keys",
            make_database("documents_no_directory"),
            nats_server.url,
            peers={"directory": nowhere},
        ) as service,
        channel(service.address) as ch,
    ):
        stub = DocumentRegistryServiceStub(ch)
        office = Office(service)
        document = await draft(stub, office.author)
        before = await counts(service, nc)

        with pytest.raises(grpc.aio.AioRpcError) as unavailable:
            await issue(stub, office.clerk, document.id)

        assert status_of(unavailable) == (grpc.StatusCode.UNAVAILABLE, "DIRECTORY_UNAVAILABLE")
        assert await counts(service, nc) == before
        assert (await get(stub, office.clerk, document.id)).status == pb.DOCUMENT_STATUS_DRAFT
