"""The agency archive's marks on the registry's documents (lưu trữ cơ quan, issue 12).

When a dossier (hồ sơ) is handed over to the agency archive (nộp lưu), the archive service marks
its documents: they are read-only from then on (`model.refuse_archived`). When a disposition
destroys a dossier past its retention, the archive deletes its files and marks its documents
destroyed: their records (the metadata of the register) stay, what was read from their files
goes. A mark is never taken back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from vanban.documents.domain.model import ArchiveRecord, Problems, archive_mark, is_uuid
from vanban.documents.domain.ports import Transaction
from vanban.platform.errors import NotFoundError

# The one caller that marks documents archived: the archive service keeps the dossiers.
ARCHIVE_MARKER = "service:archive"
# Documents marked by one call: a dossier of a busy year holds a few thousand.
MARKS_MAX = 10_000
# Field problems told back at most: an answer naming thousands would exceed what a gRPC status
# carries.
PROBLEMS_SHOWN = 20
KINDS = ("incoming", "outgoing")


@dataclass(frozen=True, slots=True)
class ArchivedRef:
    """A document of a dossier, as the archive names it: its kind and id."""

    kind: str
    id: str


@dataclass(frozen=True, slots=True)
class Marks:
    """A checked mark: the documents (each once, in the order given), the dossier, and the
    disposition that destroyed it ("" for a handover)."""

    documents: tuple[ArchivedRef, ...]
    dossier_id: str
    disposition_id: str = ""


def checked_marks(
    documents: Sequence[ArchivedRef], *, dossier_id: str, disposition_id: str
) -> Marks:
    """Every reference checked before anything is looked up; one error names the problems (the
    first PROBLEMS_SHOWN of them)."""
    problems = Problems()
    if len(documents) > MARKS_MAX:
        problems["documents"] = f"at most {MARKS_MAX} documents per call"
    else:
        for i, ref in enumerate(documents):
            if ref.kind not in KINDS:
                problems[f"documents[{i}].kind"] = "must be incoming or outgoing"
            if not is_uuid(ref.id):
                problems[f"documents[{i}].id"] = "must be the id of a document of this registry"
    if not is_uuid(dossier_id):
        problems["dossier_id"] = "must be the id of a dossier of the archive"
    if disposition_id and not is_uuid(disposition_id):
        problems["disposition_id"] = "must be empty (a handover) or the id of a disposition"
    if len(problems) > PROBLEMS_SHOWN:
        more = len(problems) - PROBLEMS_SHOWN
        shown = Problems(list(problems.items())[:PROBLEMS_SHOWN])
        shown["documents"] = f"and {more} more problems"
        problems = shown
    problems.raise_if_any("INVALID_ARCHIVE_MARK")
    # Each document once.
    refs = dict.fromkeys(ArchivedRef(ref.kind, _canonical(ref.id)) for ref in documents)
    return Marks(
        documents=tuple(refs),
        dossier_id=_canonical(dossier_id),
        disposition_id=_canonical(disposition_id) if disposition_id else "",
    )


def _canonical(value: str) -> str:
    """A UUID as the registry writes its ids (lower case, with hyphens), whatever form of it
    was sent."""
    return str(uuid.UUID(value))


async def mark_archived(*, tx: Transaction, marks: Marks, now: datetime) -> int:
    """Marks the documents of a dossier handed over (or destroyed): all of them or none, in one
    transaction. How many were marked: a document handed over before keeps its first dossier
    and is not counted, nor is one destroyed before.

    A document the registry does not hold under the kind named is NOT_FOUND (its id in the
    metadata) and nothing is marked. Each document is locked first, so a change under way ends
    before its mark and none starts after it (`refuse_archived`). Each mark is audited; no event
    is recorded: the archive announces the handover or the disposition with the ids of its
    documents, and no reader of the registry's events acts on it.
    """
    ids = [ref.id for ref in marks.documents]
    held = await tx.archive.lock(ids)
    missing = [
        ref for ref in marks.documents if ref.id not in held or held[ref.id].direction != ref.kind
    ]
    if missing:
        raise NotFoundError(
            f"no {missing[0].kind} document with the id {missing[0].id} "
            f"({len(missing)} of the dossier's documents are not in the registry): none was marked",
            reason="DOCUMENT_NOT_FOUND",
            metadata={
                "document_id": missing[0].id,
                "kind": missing[0].kind,
                "missing": str(len(missing)),
            },
        )
    added: dict[str, ArchiveRecord] = {}
    destroyed: dict[str, ArchiveRecord] = {}
    for ref in marks.documents:
        current = held[ref.id].archive
        record = archive_mark(
            current, dossier_id=marks.dossier_id, disposition_id=marks.disposition_id, at=now
        )
        if record is None:
            continue
        if current is None:
            added[ref.id] = record
        else:
            destroyed[ref.id] = record
        _audit(tx, ref, before=current, after=record)
    await tx.archive.add(added)
    await tx.archive.destroy(destroyed)
    await tx.archive.erase_contents(
        [document_id for document_id, r in (added | destroyed).items() if r.destroyed]
    )
    await tx.commit()
    return len(added) + len(destroyed)


def _audit(
    tx: Transaction, ref: ArchivedRef, *, before: ArchiveRecord | None, after: ArchiveRecord
) -> None:
    tx.audit(
        action=f"{ref.kind}.{'destroy' if after.destroyed else 'archive'}",
        resource=f"{ref.kind}-documents/{ref.id}",
        before=None if before is None else _audited(before),
        after=_audited(after),
    )


def _audited(record: ArchiveRecord) -> dict[str, object]:
    return {
        "dossier_id": record.dossier_id,
        "archived_at": record.archived_at.isoformat(),
        "destroyed_at": record.destroyed_at.isoformat() if record.destroyed_at else None,
        "disposition_id": record.disposition_id or None,
    }
