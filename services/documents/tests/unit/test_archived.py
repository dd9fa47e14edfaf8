"""The agency archive's marks (`archiving.mark_archived`) and the rule they bring: a document of
a dossier handed over to the archive (or destroyed) is read-only, each change refused with
DOCUMENT_ARCHIVED before anything is written; reading stays allowed."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from services.documents.tests.unit.test_service import (
    APPROVED,
    CLERK,
    ISSUER,
    NOW,
    UNIT_SPECIALIST,
    FakeTransaction,
    leader_signature,
    make_draft,
    outgoing_draft,
)
from vanban.documents.domain.archiving import (
    MARKS_MAX,
    PROBLEMS_SHOWN,
    ArchivedRef,
    checked_marks,
    mark_archived,
)
from vanban.documents.domain.model import (
    ArchiveRecord,
    DocumentStatus,
    IncomingDocument,
    Relation,
    RelationKind,
    archive_mark,
)
from vanban.documents.domain.outgoing import OutgoingDocument, SignatureKind
from vanban.documents.domain.service import (
    Reader,
    add_version,
    cancel_outgoing,
    draft_outgoing,
    get_incoming,
    get_outgoing,
    issue_outgoing,
    record_signature,
    register_incoming,
    withdraw_incoming,
)
from vanban.platform.clearance import Clearance
from vanban.platform.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)

DOSSIER = "7d3c6a52-1f0e-4c7b-9a8d-2e5f6b4c3a21"
OTHER_DOSSIER = "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
DISPOSITION = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
LATER = NOW + timedelta(days=400)
READER = Reader(roles=frozenset({"archivist"}), clearance=Clearance.TOP_SECRET)


async def registered(tx: FakeTransaction, **overrides: object) -> IncomingDocument:
    return await register_incoming(
        tx=tx,
        draft=make_draft(**overrides),
        clearance=Clearance.TOP_SECRET,
        registered_by="vt-lan",
        now=NOW,
    )


async def drafted(tx: FakeTransaction, **overrides: object) -> OutgoingDocument:
    return await draft_outgoing(
        tx=tx,
        draft=outgoing_draft(**overrides),
        author="cv-an",
        now=NOW,
        clearance=Clearance.TOP_SECRET,
    )


async def issued(tx: FakeTransaction, document_id: str) -> OutgoingDocument:
    return await issue_outgoing(
        tx=tx,
        document_id=document_id,
        expected_version=None,
        issuer=ISSUER,
        reader=CLERK,
        approvals=APPROVED,
        now=NOW,
    )


async def archive(
    tx: FakeTransaction, *documents: IncomingDocument | OutgoingDocument, disposition: str = ""
) -> int:
    refs = [
        ArchivedRef("incoming" if isinstance(d, IncomingDocument) else "outgoing", d.id)
        for d in documents
    ]
    marks = checked_marks(refs, dossier_id=DOSSIER, disposition_id=disposition)
    return await mark_archived(tx=tx, marks=marks, now=LATER)


def snapshot(tx: FakeTransaction) -> tuple[object, ...]:
    """Everything a use case could have written."""
    return (
        dict(tx.incoming.documents),
        dict(tx.outgoing.documents),
        dict(tx.links.recalled),
        list(tx.text_jobs.queued),
        dict(tx.registers.cancelled),
        list(tx.registers.taken),
        list(tx.events),
        list(tx.audits),
        tx.commits,
    )


def assert_archived(
    refused: pytest.ExceptionInfo[FailedPreconditionError], document_id: str
) -> None:
    assert refused.value.reason == "DOCUMENT_ARCHIVED"
    assert refused.value.metadata == {"document_id": document_id, "dossier_id": DOSSIER}


# The rule, one use case at a time: each refusal leaves everything as it was.


async def test_a_draft_of_a_handed_over_dossier_takes_no_new_version() -> None:
    tx = FakeTransaction()
    draft = await drafted(tx)
    await archive(tx, draft)
    before = snapshot(tx)

    with pytest.raises(FailedPreconditionError) as refused:
        await add_version(
            tx=tx,
            document_id=draft.id,
            file=replace(draft.current.file, sha256="ef" * 32),
            note="",
            expected_version=None,
            reader=UNIT_SPECIALIST,
            now=LATER,
        )

    assert_archived(refused, draft.id)
    assert snapshot(tx) == before


async def test_an_archived_draft_is_not_numbered() -> None:
    tx = FakeTransaction()
    draft = await drafted(tx)
    await archive(tx, draft)
    before = snapshot(tx)

    with pytest.raises(FailedPreconditionError) as refused:
        await issued(tx, draft.id)

    assert_archived(refused, draft.id)
    assert snapshot(tx) == before  # no number taken either


async def test_an_archived_documents_number_is_not_cancelled() -> None:
    tx = FakeTransaction()
    document = await issued(tx, (await drafted(tx)).id)
    await archive(tx, document)
    before = snapshot(tx)

    with pytest.raises(FailedPreconditionError) as refused:
        await cancel_outgoing(
            tx=tx, document_id=document.id, reason="Sai số", reader=CLERK, now=LATER
        )

    assert_archived(refused, document.id)
    assert snapshot(tx) == before


async def test_an_archived_document_takes_no_new_signature_but_a_repeat_is_answered() -> None:
    tx = FakeTransaction()
    draft = await drafted(tx)
    leader = leader_signature(draft)
    await record_signature(tx=tx, document_id=draft.id, signature=leader, now=NOW)
    document = await issued(tx, draft.id)
    await archive(tx, document)
    before = snapshot(tx)
    # What the clerk would have the agency sign on top of the leader, once issued.
    agency = replace(
        leader,
        id="sig-agency-1",
        kind=SignatureKind.AGENCY,
        file=replace(leader.file, sha256="a9" * 32),
        source_sha256=leader.file.sha256,
        signed_by="vt-lan",
    )

    with pytest.raises(FailedPreconditionError) as refused:
        await record_signature(tx=tx, document_id=document.id, signature=agency, now=LATER)
    # The signing service's event catching up on a signature recorded before the handover
    # changes nothing: it is answered, not refused.
    again = await record_signature(tx=tx, document_id=document.id, signature=leader, now=LATER)

    assert_archived(refused, document.id)
    assert again.signatures == (leader,)
    assert snapshot(tx) == before


async def test_an_archived_incoming_document_is_not_withdrawn() -> None:
    tx = FakeTransaction()
    document = await registered(tx)
    await archive(tx, document)
    before = snapshot(tx)

    with pytest.raises(FailedPreconditionError) as refused:
        await withdraw_incoming(
            tx=tx, document_id=document.id, reason="Ban hành nhầm", agreed_by="vt-lan"
        )

    assert_archived(refused, document.id)
    assert tx.incoming.locked == [document.id]
    assert snapshot(tx) == before


async def test_a_document_withdrawn_before_its_handover_is_answered_as_it_is() -> None:
    tx = FakeTransaction()
    document = await registered(tx)
    tx.incoming.documents[document.id] = replace(document, status=DocumentStatus.RECALLED)
    await archive(tx, document)
    commits = tx.commits

    answered = await withdraw_incoming(
        tx=tx, document_id=document.id, reason="Ban hành nhầm", agreed_by="vt-lan"
    )

    assert answered.status is DocumentStatus.RECALLED
    assert answered.archive is not None
    assert tx.links.recalled == {}
    assert tx.audits[-1]["action"] == "incoming.archive"
    assert tx.commits == commits + 1  # nothing to write; the transaction ends


async def test_an_arriving_recall_of_an_archived_document_is_refused_before_a_number() -> None:
    tx = FakeTransaction()
    target = await registered(tx)
    await archive(tx, target)
    before = snapshot(tx)

    with pytest.raises(FailedPreconditionError) as refused:
        await registered(
            tx,
            code_number="06",
            relations=(Relation(RelationKind.RECALLS, document_id=target.id),),
        )

    assert_archived(refused, target.id)
    # Locked while it was looked at: the archive cannot take it between the check and a recall.
    assert tx.links.locked == [target.id]
    assert snapshot(tx) == before


async def test_our_recall_of_an_archived_document_is_neither_drafted_nor_numbered() -> None:
    tx = FakeTransaction()
    target = await issued(tx, (await drafted(tx)).id)
    recall = await drafted(tx, relations=(Relation(RelationKind.RECALLS, document_id=target.id),))
    await archive(tx, target)
    before = snapshot(tx)

    with pytest.raises(FailedPreconditionError) as issuing:
        await issued(tx, recall.id)
    with pytest.raises(FailedPreconditionError) as drafting:
        await drafted(tx, relations=(Relation(RelationKind.RECALLS, document_id=target.id),))

    assert_archived(issuing, target.id)
    assert_archived(drafting, target.id)
    assert snapshot(tx) == before


@pytest.mark.parametrize(
    "kind", [RelationKind.RESPONSE_FOR, RelationKind.AMENDS, RelationKind.REPLACES]
)
async def test_a_new_document_may_name_an_archived_one_when_it_changes_nothing_of_it(
    kind: RelationKind,
) -> None:
    tx = FakeTransaction()
    target = await registered(tx)
    await archive(tx, target)
    kept = tx.incoming.documents[target.id]

    reply = await registered(
        tx, code_number="07", relations=(Relation(kind, document_id=target.id),)
    )
    # A duplicate of it is registered too: the warning is the new document's.
    copy = await registered(tx)

    assert reply.relations[0].document_id == target.id
    assert [d.document_id for d in copy.duplicates] == [target.id]
    assert tx.incoming.documents[target.id] == kept


async def test_an_archived_document_is_read_with_its_record() -> None:
    tx = FakeTransaction()
    incoming = await registered(tx)
    outgoing = await issued(tx, (await drafted(tx)).id)
    await archive(tx, incoming, outgoing)

    read_in = await get_incoming(tx=tx, document_id=incoming.id, reader=READER)
    read_out = await get_outgoing(tx=tx, document_id=outgoing.id, reader=READER)

    assert read_in.archive == read_out.archive == ArchiveRecord(DOSSIER, LATER)
    assert replace(read_in, archive=None) == replace(incoming, archive=None)


async def test_a_destroyed_document_is_refused_naming_its_disposition() -> None:
    tx = FakeTransaction()
    document = await issued(tx, (await drafted(tx)).id)
    await archive(tx, document, disposition=DISPOSITION)

    with pytest.raises(FailedPreconditionError) as refused:
        await cancel_outgoing(
            tx=tx, document_id=document.id, reason="Sai số", reader=CLERK, now=LATER
        )

    assert refused.value.reason == "DOCUMENT_ARCHIVED"
    assert refused.value.metadata == {
        "document_id": document.id,
        "dossier_id": DOSSIER,
        "disposition_id": DISPOSITION,
    }


# The marks.


async def test_a_handover_marks_each_document_once_and_audits_it() -> None:
    tx = FakeTransaction()
    incoming = await registered(tx)
    outgoing = await issued(tx, (await drafted(tx)).id)
    commits, events = tx.commits, list(tx.events)

    marked = await archive(tx, incoming, outgoing, incoming)

    assert marked == 2
    assert tx.archive.locked == sorted([incoming.id, outgoing.id])
    for document in (tx.incoming.documents[incoming.id], tx.outgoing.documents[outgoing.id]):
        assert document.archive == ArchiveRecord(dossier_id=DOSSIER, archived_at=LATER)
    assert [(a["action"], a["resource"]) for a in tx.audits[-2:]] == [
        ("incoming.archive", f"incoming-documents/{incoming.id}"),
        ("outgoing.archive", f"outgoing-documents/{outgoing.id}"),
    ]
    assert tx.audits[-1]["before"] is None
    assert tx.audits[-1]["after"] == {
        "dossier_id": DOSSIER,
        "archived_at": LATER.isoformat(),
        "destroyed_at": None,
        "disposition_id": None,
    }
    assert (tx.commits, tx.events, tx.archive.erased) == (commits + 1, events, [])


async def test_handing_over_again_keeps_the_first_dossier_and_counts_nothing() -> None:
    tx = FakeTransaction()
    document = await registered(tx)
    await archive(tx, document)
    audits = len(tx.audits)

    marks = checked_marks(
        [ArchivedRef("incoming", document.id)], dossier_id=OTHER_DOSSIER, disposition_id=""
    )
    marked = await mark_archived(tx=tx, marks=marks, now=LATER + timedelta(days=1))

    assert marked == 0
    assert tx.incoming.documents[document.id].archive == ArchiveRecord(DOSSIER, LATER)
    assert len(tx.audits) == audits


async def test_a_disposition_destroys_handed_over_documents_and_erases_what_was_read() -> None:
    tx = FakeTransaction()
    document = await registered(tx)
    await archive(tx, document)
    destroyed_at = LATER + timedelta(days=3650)
    marks = checked_marks(
        [ArchivedRef("incoming", document.id)], dossier_id=DOSSIER, disposition_id=DISPOSITION
    )

    assert await mark_archived(tx=tx, marks=marks, now=destroyed_at) == 1
    assert await mark_archived(tx=tx, marks=marks, now=destroyed_at) == 0

    assert tx.incoming.documents[document.id].archive == ArchiveRecord(
        dossier_id=DOSSIER,
        archived_at=LATER,
        destroyed_at=destroyed_at,
        disposition_id=DISPOSITION,
    )
    assert tx.archive.erased == [document.id]
    assert tx.audits[-1]["action"] == "incoming.destroy"
    assert tx.audits[-1]["before"]["destroyed_at"] is None
    assert tx.audits[-1]["after"]["disposition_id"] == DISPOSITION


async def test_a_dossier_past_its_retention_is_destroyed_without_a_handover() -> None:
    tx = FakeTransaction()
    document = await registered(tx)

    assert await archive(tx, document, disposition=DISPOSITION) == 1

    assert tx.incoming.documents[document.id].archive == ArchiveRecord(
        DOSSIER, LATER, destroyed_at=LATER, disposition_id=DISPOSITION
    )
    assert tx.archive.erased == [document.id]


@pytest.mark.parametrize("wrong", ["unknown", "other kind"])
async def test_one_unknown_document_refuses_the_whole_batch(wrong: str) -> None:
    tx = FakeTransaction()
    known = await registered(tx)
    outgoing = await drafted(tx)
    if wrong == "unknown":
        missing = ArchivedRef("incoming", str(uuid.uuid4()))
    else:
        missing = ArchivedRef("incoming", outgoing.id)
    before = snapshot(tx)

    marks = checked_marks(
        [ArchivedRef("incoming", known.id), missing], dossier_id=DOSSIER, disposition_id=""
    )
    with pytest.raises(NotFoundError) as refused:
        await mark_archived(tx=tx, marks=marks, now=LATER)

    assert refused.value.reason == "DOCUMENT_NOT_FOUND"
    assert refused.value.metadata == {
        "document_id": missing.id,
        "kind": "incoming",
        "missing": "1",
    }
    assert tx.incoming.documents[known.id].archive is None
    assert snapshot(tx) == before


@pytest.mark.parametrize(
    ("documents", "dossier_id", "disposition_id", "fields"),
    [
        ([ArchivedRef("dossier", str(uuid.uuid4()))], DOSSIER, "", ["documents[0].kind"]),
        ([ArchivedRef("incoming", "05/QĐ-UBND")], DOSSIER, "", ["documents[0].id"]),
        ([], "HS-01", "", ["dossier_id"]),
        ([], "", "", ["dossier_id"]),
        ([], DOSSIER, "biên bản hủy", ["disposition_id"]),
        (
            [ArchivedRef("incoming", str(uuid.uuid4()))] * (MARKS_MAX + 1),
            DOSSIER,
            "",
            ["documents"],
        ),
    ],
)
def test_every_reference_is_checked_before_anything_is_looked_up(
    documents: list[ArchivedRef], dossier_id: str, disposition_id: str, fields: list[str]
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        checked_marks(documents, dossier_id=dossier_id, disposition_id=disposition_id)

    assert refused.value.reason == "INVALID_ARCHIVE_MARK"
    assert [v.field for v in refused.value.violations] == fields


def test_a_batch_of_bad_references_is_told_back_in_a_few_lines() -> None:
    bad = [ArchivedRef("hồ sơ", "x")] * 100

    with pytest.raises(InvalidArgumentError) as refused:
        checked_marks(bad, dossier_id=DOSSIER, disposition_id="")

    fields = [v.field for v in refused.value.violations]
    assert len(fields) == PROBLEMS_SHOWN + 1
    assert fields[-1] == "documents"
    assert refused.value.violations[-1].description == f"and {200 - PROBLEMS_SHOWN} more problems"


def test_ids_are_taken_in_the_registrys_form_and_each_document_once() -> None:
    document_id = uuid.uuid4()

    marks = checked_marks(
        [
            ArchivedRef("incoming", str(document_id).upper()),
            ArchivedRef("incoming", str(document_id)),
        ],
        dossier_id=DOSSIER.upper(),
        disposition_id="",
    )

    assert marks.documents == (ArchivedRef("incoming", str(document_id)),)
    assert marks.dossier_id == DOSSIER


def test_a_mark_is_never_taken_back() -> None:
    handed = archive_mark(None, dossier_id=DOSSIER, disposition_id="", at=NOW)
    assert handed == ArchiveRecord(DOSSIER, NOW)
    assert archive_mark(handed, dossier_id=OTHER_DOSSIER, disposition_id="", at=LATER) is None
    destroyed = archive_mark(handed, dossier_id=OTHER_DOSSIER, disposition_id=DISPOSITION, at=LATER)
    assert destroyed == ArchiveRecord(DOSSIER, NOW, LATER, DISPOSITION)
    for disposition_id in ("", str(uuid.uuid4())):
        again = archive_mark(destroyed, dossier_id=DOSSIER, disposition_id=disposition_id, at=LATER)
        assert again is None
