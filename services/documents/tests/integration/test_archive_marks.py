"""The archive's marks through the DocumentRegistry gRPC API and PostgreSQL (issue 12): after a
dossier's handover its documents cannot be changed, by any route, and nothing is written by a
refused change; only the archive service marks; one unknown document refuses the whole batch; a
destroyed document keeps its record and loses what was read from its files."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.documents.tests.integration.conftest import (
    Documents,
    make_draft_request,
    make_request,
)
from services.documents.tests.integration.test_outgoing import (
    Office,
    counts,
    draft,
    get,
    issue,
    status_of,
)
from services.documents.tests.integration.test_signatures import record, signature_on
from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.workflow.v1 import events_pb2 as wfevents
from vanban.contracts.workflow.v1 import workflow_pb2 as wf
from vanban.documents.adapters.db import text_jobs
from vanban.documents.adapters.db.indexing import search_vector
from vanban.documents.adapters.db.tables import (
    cancelled_numbers,
    document_archive,
    document_signatures,
    document_texts,
    documents,
    platform_tables,
)
from vanban.documents.adapters.db.tables import text_jobs as text_jobs_table
from vanban.documents.adapters.events.reach import handle_assigned
from vanban.platform.db import UnitOfWork
from vanban.platform.events.consumer import EventContext
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import metadata

DOSSIER = "7d3c6a52-1f0e-4c7b-9a8d-2e5f6b4c3a21"
DISPOSITION = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"


@pytest.fixture
def office(issuing: Documents) -> Office:
    return Office(issuing)


@pytest.fixture
def archive(issuing: Documents) -> str:
    """The archive service's caller token."""
    return issuing.mint.service("archive")


async def mark(
    stub: Any,
    token: str,
    *documents: pb.IncomingDocument | pb.OutgoingDocument | tuple[str, str],
    dossier_id: str = DOSSIER,
    disposition_id: str = "",
) -> int:
    refs = [
        pb.ArchivedDocument(kind=d[0], id=d[1])
        if isinstance(d, tuple)
        else pb.ArchivedDocument(
            kind="incoming" if isinstance(d, pb.IncomingDocument) else "outgoing", id=d.id
        )
        for d in documents
    ]
    answer = await stub.MarkArchived(
        pb.MarkArchivedRequest(
            documents=refs, dossier_id=dossier_id, disposition_id=disposition_id
        ),
        metadata=metadata(token),
    )
    return int(answer.marked)


async def register(stub: Any, token: str, **overrides: Any) -> pb.IncomingDocument:
    answer = await stub.RegisterIncomingDocument(
        make_request(**overrides), metadata=metadata(token)
    )
    return answer.document


async def get_incoming(stub: Any, token: str, document_id: str) -> pb.IncomingDocument:
    answer = await stub.GetIncomingDocument(
        pb.GetIncomingDocumentRequest(id=document_id), metadata=metadata(token)
    )
    return answer.document


@dataclass
class Dossier:
    """Documents of a dossier handed over: an incoming one, an issued one the leader signed,
    and a draft; read back once marked."""

    incoming: pb.IncomingDocument
    issued: pb.OutgoingDocument
    draft: pb.OutgoingDocument


@pytest.fixture
async def handed_over(issuing, issuing_stub, office, archive) -> Dossier:
    incoming = await register(issuing_stub, office.clerk)
    signed = await draft(issuing_stub, office.author)
    await record(issuing_stub, issuing.mint.service("signing"), signed.id, signature_on(signed))
    issued = await issue(issuing_stub, office.clerk, signed.id)
    kept_draft = await draft(issuing_stub, office.author)

    assert await mark(issuing_stub, archive, incoming, issued, kept_draft) == 3

    return Dossier(
        incoming=await get_incoming(issuing_stub, office.clerk, incoming.id),
        issued=await get(issuing_stub, office.clerk, issued.id),
        draft=await get(issuing_stub, office.clerk, kept_draft.id),
    )


async def everything(service: Documents, nc: Any) -> dict[str, int]:
    """`counts` (rows, numbers taken, audit entries, events), and the signatures, cancellations
    and archive records kept."""
    result = await counts(service, nc)
    async with service.engine.connect() as connection:
        for table in (document_signatures, cancelled_numbers, document_archive):
            result[table.name] = (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return result


Change = Callable[[Any, Office, Documents, Dossier], Awaitable[Any]]


async def _add_version(stub: Any, office: Office, service: Documents, kept: Dossier) -> Any:
    return await stub.AddOutgoingVersion(
        pb.AddOutgoingVersionRequest(id=kept.draft.id, file=make_draft_request(content=b"v2").file),
        metadata=metadata(office.author),
    )


async def _issue(stub: Any, office: Office, service: Documents, kept: Dossier) -> Any:
    return await stub.IssueOutgoingDocument(
        pb.IssueOutgoingDocumentRequest(id=kept.draft.id), metadata=metadata(office.clerk)
    )


async def _cancel(stub: Any, office: Office, service: Documents, kept: Dossier) -> Any:
    return await stub.CancelOutgoingDocument(
        pb.CancelOutgoingDocumentRequest(id=kept.issued.id, reason="Sai thẩm quyền ký"),
        metadata=metadata(office.clerk),
    )


async def _sign_agency(stub: Any, office: Office, service: Documents, kept: Dossier) -> Any:
    return await stub.RecordOutgoingSignature(
        pb.RecordOutgoingSignatureRequest(
            document_id=kept.issued.id, signature=signature_on(kept.issued, "agency")
        ),
        metadata=metadata(service.mint.service("signing")),
    )


async def _sign_leader(stub: Any, office: Office, service: Documents, kept: Dossier) -> Any:
    return await stub.RecordOutgoingSignature(
        pb.RecordOutgoingSignatureRequest(
            document_id=kept.draft.id, signature=signature_on(kept.draft)
        ),
        metadata=metadata(service.mint.service("signing")),
    )


async def _withdraw(stub: Any, office: Office, service: Documents, kept: Dossier) -> Any:
    return await stub.WithdrawIncomingDocument(
        pb.WithdrawIncomingDocumentRequest(
            id=kept.incoming.id, reason="Ban hành nhầm", agreed_by="vt-lan"
        ),
        metadata=metadata(service.mint.service("exchange")),
    )


async def _register_recall(stub: Any, office: Office, service: Documents, kept: Dossier) -> Any:
    # The sender's letter recalling the document it sent (same issuer), arriving after handover.
    return await stub.RegisterIncomingDocument(
        make_request(
            code_number="99",
            relations=[pb.Relation(kind=pb.RELATION_KIND_RECALLS, document_id=kept.incoming.id)],
        ),
        metadata=metadata(office.clerk),
    )


async def _draft_recall(stub: Any, office: Office, service: Documents, kept: Dossier) -> Any:
    return await stub.DraftOutgoingDocument(
        make_draft_request(
            relations=[pb.Relation(kind=pb.RELATION_KIND_RECALLS, document_id=kept.issued.id)]
        ),
        metadata=metadata(office.author),
    )


@pytest.mark.parametrize(
    ("change", "target"),
    [
        (_add_version, "draft"),
        (_issue, "draft"),
        (_sign_leader, "draft"),
        (_cancel, "issued"),
        (_sign_agency, "issued"),
        (_draft_recall, "issued"),
        (_withdraw, "incoming"),
        (_register_recall, "incoming"),
    ],
)
async def test_a_change_to_a_handed_over_document_is_refused_and_writes_nothing(
    issuing, issuing_stub, office, nc, handed_over: Dossier, change: Change, target: str
) -> None:
    kept: pb.IncomingDocument | pb.OutgoingDocument = getattr(handed_over, target)
    before = await everything(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await change(issuing_stub, office, issuing, handed_over)

    assert status_of(refused) == (grpc.StatusCode.FAILED_PRECONDITION, "DOCUMENT_ARCHIVED")
    assert remote_error(refused.value).metadata == {
        "document_id": kept.id,
        "dossier_id": DOSSIER,
    }
    assert await everything(issuing, nc) == before
    if isinstance(kept, pb.IncomingDocument):
        assert await get_incoming(issuing_stub, office.clerk, kept.id) == kept
    else:
        assert await get(issuing_stub, office.clerk, kept.id) == kept


async def test_a_handed_over_document_is_read_with_its_archive_record(
    issuing_stub, office, archive, handed_over: Dossier
) -> None:
    for document in (handed_over.incoming, handed_over.issued, handed_over.draft):
        assert document.archive.dossier_id == DOSSIER
        assert document.archive.HasField("archived_at")
        assert not document.archive.HasField("destroyed_at")
        assert document.archive.disposition_id == ""
    # Handed over again, with another dossier: nothing is marked, the first dossier stays.
    assert (
        await mark(
            issuing_stub,
            archive,
            handed_over.incoming,
            handed_over.issued,
            dossier_id=str(uuid.uuid4()),
        )
        == 0
    )
    assert await get_incoming(issuing_stub, office.clerk, handed_over.incoming.id) == (
        handed_over.incoming
    )
    assert await get(issuing_stub, office.clerk, handed_over.issued.id) == handed_over.issued


async def test_each_mark_is_audited_as_the_archive_service(issuing, handed_over: Dossier) -> None:
    audit = platform_tables.audit
    async with issuing.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(audit.c.actor, audit.c.action, audit.c.resource, audit.c.after).where(
                    audit.c.action.in_(("incoming.archive", "outgoing.archive")),
                    audit.c.resource.in_(
                        [
                            f"incoming-documents/{handed_over.incoming.id}",
                            f"outgoing-documents/{handed_over.issued.id}",
                            f"outgoing-documents/{handed_over.draft.id}",
                        ]
                    ),
                )
            )
        ).all()
    assert sorted((r.actor, r.action, r.resource) for r in rows) == sorted(
        [
            (
                "service:archive",
                "incoming.archive",
                f"incoming-documents/{handed_over.incoming.id}",
            ),
            ("service:archive", "outgoing.archive", f"outgoing-documents/{handed_over.issued.id}"),
            ("service:archive", "outgoing.archive", f"outgoing-documents/{handed_over.draft.id}"),
        ]
    )
    assert {r.after["dossier_id"] for r in rows} == {DOSSIER}


async def test_an_assignment_of_a_handed_over_document_leaves_its_reach(
    issuing, handed_over: Dossier
) -> None:
    kept = handed_over.incoming
    reach = select(documents.c.reach, documents.c.unit_code).where(documents.c.id == kept.id)
    async with issuing.engine.connect() as connection:
        before = (await connection.execute(reach)).one()
    event = wfevents.IncomingDocumentAssigned(
        assignment=wf.Assignment(
            id=str(uuid.uuid4()), document_id=kept.id, lead_unit="PKT", assigned_by="ld-hung"
        )
    )

    uow = UnitOfWork(async_sessionmaker(issuing.engine), tables=platform_tables, source="documents")
    async with uow:
        await handle_assigned(
            uow, event, EventContext(event_id=str(uuid.uuid4()), subject="test", delivery=1)
        )
        await uow.commit()

    async with issuing.engine.connect() as connection:
        after = (await connection.execute(reach)).one()
        audited = (
            await connection.execute(
                select(func.count()).where(
                    platform_tables.audit.c.action == "incoming.reach",
                    platform_tables.audit.c.resource == f"incoming-documents/{kept.id}",
                )
            )
        ).scalar_one()
    assert (after, audited) == (before, 0)


@pytest.mark.parametrize(
    ("caller", "reason"), [("person", "SERVICE_ONLY"), ("exchange", "ARCHIVE_SERVICE_ONLY")]
)
async def test_only_the_archive_service_marks_documents(
    issuing, issuing_stub, office, nc, caller: str, reason: str
) -> None:
    document = await register(issuing_stub, office.clerk, code_number="71")
    token = (
        issuing.mint.person("lt-mai", roles=("archivist", "clerk"))
        if caller == "person"
        else issuing.mint.service("exchange")
    )
    before = await everything(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await mark(issuing_stub, token, document)

    assert status_of(refused) == (grpc.StatusCode.PERMISSION_DENIED, reason)
    assert await everything(issuing, nc) == before
    assert not (await get_incoming(issuing_stub, office.clerk, document.id)).HasField("archive")


async def test_one_unknown_document_refuses_the_whole_batch(
    issuing, issuing_stub, office, archive, nc
) -> None:
    known = await register(issuing_stub, office.clerk, code_number="72")
    unknown = str(uuid.uuid4())
    before = await everything(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await mark(issuing_stub, archive, known, ("outgoing", unknown))

    assert status_of(refused) == (grpc.StatusCode.NOT_FOUND, "DOCUMENT_NOT_FOUND")
    assert remote_error(refused.value).metadata == {
        "document_id": unknown,
        "kind": "outgoing",
        "missing": "1",
    }
    assert await everything(issuing, nc) == before
    assert not (await get_incoming(issuing_stub, office.clerk, known.id)).HasField("archive")


async def test_a_malformed_reference_refuses_the_batch_before_anything_is_looked_up(
    issuing, issuing_stub, office, archive, nc
) -> None:
    known = await register(issuing_stub, office.clerk, code_number="73")
    before = await everything(issuing, nc)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await mark(issuing_stub, archive, known, ("dossier", "HS-01"), disposition_id="hủy")

    assert status_of(refused) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARCHIVE_MARK")
    assert [v.field for v in remote_error(refused.value).violations] == [
        "documents[1].kind",
        "documents[1].id",
        "disposition_id",
    ]
    assert await everything(issuing, nc) == before


async def _with_text(service: Documents, document_id: str, body: str) -> None:
    """What the text worker would have stored for the document: its text, and the search vector
    over its head and body."""
    async with service.engine.begin() as connection:
        head = (
            await connection.execute(
                select(documents.c.search_head).where(documents.c.id == document_id)
            )
        ).scalar_one()
        await connection.execute(
            insert(document_texts).values(
                document_id=document_id, source="ocr", text=body, extracted_at=func.now()
            )
        )
        await connection.execute(
            update(documents)
            .where(documents.c.id == document_id)
            .values(search_tsv=search_vector(head, body))
        )


async def _search(stub: Any, token: str, q: str) -> list[str]:
    answer = await stub.SearchDocuments(pb.SearchDocumentsRequest(q=q), metadata=metadata(token))
    return [d.id for d in answer.documents]


async def test_a_destroyed_document_keeps_its_record_and_loses_what_was_read_from_its_files(
    issuing, issuing_stub, office, archive
) -> None:
    handed = await register(issuing_stub, office.clerk, code_number="74")
    never_handed = await register(issuing_stub, office.clerk, code_number="75")
    await _with_text(issuing, handed.id, "Biên bản kiểm kê kho Xuânlộc")
    await mark(issuing_stub, archive, handed)
    assert await _search(issuing_stub, office.clerk, "xuanloc") == [handed.id]

    destroyed = await mark(issuing_stub, archive, handed, never_handed, disposition_id=DISPOSITION)
    again = await mark(issuing_stub, archive, handed, never_handed, disposition_id=DISPOSITION)

    assert (destroyed, again) == (2, 0)
    read = await get_incoming(issuing_stub, office.clerk, handed.id)
    assert read.archive.dossier_id == DOSSIER
    assert read.archive.disposition_id == DISPOSITION
    assert read.archive.HasField("destroyed_at")
    assert read.archive.archived_at.ToDatetime() < read.archive.destroyed_at.ToDatetime()
    # The record stays, with the file it had (what the archive deleted: its hash, size, name).
    assert read.subject == handed.subject and read.file == handed.file
    # Its text job will never read the file: ended, and said why.
    assert read.digitization.state == pb.Digitization.STATE_FAILED
    assert "destroyed" in read.digitization.error
    assert await _search(issuing_stub, office.clerk, "xuanloc") == []
    async with issuing.engine.connect() as connection:
        texts = (
            await connection.execute(
                select(func.count()).where(document_texts.c.document_id == handed.id)
            )
        ).scalar_one()
    assert texts == 0
    other = await get_incoming(issuing_stub, office.clerk, never_handed.id)
    assert other.archive.archived_at == other.archive.destroyed_at
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await issuing_stub.WithdrawIncomingDocument(
            pb.WithdrawIncomingDocumentRequest(id=other.id, reason="Thu hồi", agreed_by="vt-lan"),
            metadata=metadata(issuing.mint.service("exchange")),
        )
    assert status_of(refused) == (grpc.StatusCode.FAILED_PRECONDITION, "DOCUMENT_ARCHIVED")
    assert remote_error(refused.value).metadata["disposition_id"] == DISPOSITION


async def test_a_text_worker_reading_a_destroyed_documents_file_stores_nothing(
    issuing, issuing_stub, office, archive
) -> None:
    document = await register(issuing_stub, office.clerk, code_number="76")
    sessions = async_sessionmaker(issuing.engine)
    async with sessions() as session, session.begin():
        # A worker holds the document's job, as `text_jobs.claim` leaves it.
        job_id = (
            await session.execute(
                update(text_jobs_table)
                .where(text_jobs_table.c.document_id == document.id)
                .values(
                    state="running", attempts=1, locked_until=func.now() + timedelta(minutes=10)
                )
                .returning(text_jobs_table.c.id)
            )
        ).scalar_one()
    job = text_jobs.ClaimedJob(
        id=job_id, document_id=document.id, sha256=document.file.sha256, attempt=1
    )

    await mark(issuing_stub, archive, document, disposition_id=DISPOSITION)

    with pytest.raises(text_jobs.LostJobError):
        async with sessions() as session, session.begin():
            await _finish(session, job)
    async with issuing.engine.connect() as connection:
        texts = (
            await connection.execute(
                select(func.count()).where(document_texts.c.document_id == document.id)
            )
        ).scalar_one()
    assert texts == 0


async def _finish(session: AsyncSession, job: text_jobs.ClaimedJob) -> None:
    await text_jobs.finish(
        session,
        job,
        extracted=text_jobs.Extracted(
            text="Biên bản hủy tài liệu", source="ocr", pages=1, warnings=[]
        ),
    )
