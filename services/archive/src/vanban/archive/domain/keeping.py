"""Use cases of the agency archive (lưu trữ cơ quan): receiving a closed dossier (handover, with
write-once storage), legal holds, fixity, and destroying what is past its retention
(disposition). Every step that talks to another service or the object store runs with no
transaction open; the state changes are committed after it, so a failure half-way leaves the
dossier as it was and the step can be asked again."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, tzinfo
from typing import Protocol

from vanban.archive.domain.dossiers import visible_dossier
from vanban.archive.domain.errors import FixityMismatchError, ObjectMissingError
from vanban.archive.domain.model import FixityCheck
from vanban.archive.domain.records import (
    LEADERS,
    Disposition,
    DispositionItem,
    DispositionNotFoundError,
    DispositionState,
    Dossier,
    DossierDocument,
    DossierFile,
    DossierState,
    Keeping,
    not_disposable,
    require_archivist,
    require_leader,
    validated_id,
)
from vanban.archive.domain.records_ports import (
    DocumentsPort,
    RecordsTransaction,
    RecordsTransactions,
)
from vanban.platform.caller import Caller
from vanban.platform.errors import DomainError, FailedPreconditionError, invalid_fields
from vanban.platform.paging import filtered_page, keyset_after, page_size

logger = logging.getLogger(__name__)

# A disposition names at most this many dossiers (one decision, one record).
MAX_DISPOSITION_DOSSIERS = 500


class Vault(Protocol):
    """Write-once protection in the object store (S3 object lock)."""

    async def protect(self, *, sha256: str, mode: str, retain_until: datetime) -> list[str]:
        """Retention on every version of the object, never shortened."""

    async def set_legal_hold(self, *, sha256: str, on: bool) -> None: ...


class ObjectReader(Protocol):
    def read(self, sha256: str) -> AsyncIterator[bytes]: ...

    async def delete(self, sha256: str) -> None: ...


class RecordFiles(Protocol):
    """Keeps a file the archive makes itself (a handover or disposition record)."""

    async def put(
        self, data: bytes, *, content_type: str, file_name: str, claimed_by: str
    ) -> DossierFile:
        """Stored and claimed by `claimed_by` (the record it belongs to)."""


class Renderer(Protocol):
    def handover_record(
        self, *, agency_name: str, dossier: Dossier, handed_by: str, received_by: str, at: datetime
    ) -> bytes: ...

    def disposition_record(
        self,
        *,
        agency_name: str,
        disposition: Disposition,
        approved_by: str,
        executed_by: str,
        at: datetime,
    ) -> bytes: ...


@dataclass(frozen=True, slots=True)
class LockPolicy:
    """How handed-over objects are locked: the S3 object-lock mode per retention code
    (COMPLIANCE unless the agency chose otherwise) and the date that stands for "permanent"."""

    modes: dict[str, str]
    permanent_until: date
    # The agency's calendar: a retention ends at the start of its last day there, so that the
    # day a dossier becomes disposable (by the agency's date) its lock has ended too.
    timezone: tzinfo = UTC
    default_mode: str = "COMPLIANCE"

    def mode(self, retention: str) -> str:
        return self.modes.get(retention, self.default_mode)

    def until(self, dossier: Dossier) -> datetime:
        if dossier.retention_ends is None:
            return self.permanent()
        return datetime.combine(dossier.retention_ends, time.min, tzinfo=self.timezone)

    def permanent(self) -> datetime:
        return datetime.combine(self.permanent_until, time.min, tzinfo=UTC)


async def hand_over(
    *,
    transactions: RecordsTransactions,
    documents: DocumentsPort,
    vault: Vault,
    files: RecordFiles,
    renderer: Renderer,
    agency_name: Callable[[], Awaitable[str]],
    person_name: Callable[[str], Awaitable[str]],
    policy: LockPolicy,
    caller: Caller,
    dossier_id: str,
    now: datetime,
) -> Dossier:
    """The archivist receives a closed dossier: its documents become read-only (documents), a
    handover record is made, every file is locked until its retention ends, then the dossier is
    handed over. Asked again after a failure, it picks up where it stopped (each step is
    idempotent); asked again after success, it answers the dossier as it is."""
    require_archivist(caller)
    async with transactions() as tx:
        dossier = await visible_dossier(tx, caller, dossier_id, lock=False)
        if dossier.state is DossierState.HANDED_OVER:
            return dossier
        dossier.ensure_closed_for_handover()
    await documents.mark_archived(
        [(d.kind, d.document_id) for d in dossier.documents], dossier_id=dossier.id
    )
    # Read once more now that nothing of them can change: what is locked and exported is what
    # they finally are (an outgoing document's signed PDF may have arrived since it was added).
    dossier = dossier.with_snapshots(
        tuple([await _now_as(documents, held) for held in dossier.documents])
    )
    name = await agency_name()
    record = await files.put(
        renderer.handover_record(
            agency_name=name,
            dossier=dossier,
            handed_by=await person_name(dossier.responsible_id or dossier.opened_by),
            received_by=await person_name(caller.subject),
            at=now,
        ),
        content_type="application/pdf",
        file_name=f"bien-ban-giao-nop-{dossier.file_code}.pdf",
        claimed_by=f"dossiers/{dossier.id}",
    )
    mode = policy.mode(dossier.retention)
    until = policy.until(dossier)
    protected = [*dossier.files(), record]
    # A dossier whose retention has already ended (an old one received late) has nothing left
    # to lock: S3 refuses a retain-until date in the past.
    if until > now:
        for file in protected:
            await vault.protect(sha256=file.sha256, mode=mode, retain_until=until)
    async with transactions() as tx:
        current = await visible_dossier(tx, caller, dossier.id, lock=True)
        if current.state is DossierState.HANDED_OVER:
            return current
        handed = current.with_snapshots(dossier.documents).handed_over(
            by=caller.subject, at=now, record=record
        )
        await tx.dossiers.save(handed)
        if until > now:
            await tx.claims.mark_locked([f.sha256 for f in protected], until=until, mode=mode)
        tx.record_dossier_handed_over(handed)
        tx.audit(
            action="dossier.handover",
            resource=f"dossiers/{handed.id}",
            before={"state": current.state.value},
            after={
                "state": handed.state.value,
                "handover_record": record.sha256,
                "lock_mode": mode,
                "locked_until": until.date().isoformat() if until > now else None,
                "files": len(protected),
            },
        )
        await tx.commit()
    return handed


async def _now_as(documents: DocumentsPort, held: DossierDocument) -> DossierDocument:
    """The document as documents shows it now, added when and by whom it was."""
    found = await documents.find(
        held.document_id, kind=held.kind, added_by=held.added_by, now=held.added_at
    )
    pages = found.document.page_amount if found.document.page_amount > 0 else held.page_amount
    return replace(found.document, page_amount=pages)


async def set_hold(
    *,
    transactions: RecordsTransactions,
    vault: Vault,
    caller: Caller,
    dossier_id: str,
    hold: bool,
    reason: str,
) -> Dossier:
    """A legal hold (on demand, e.g. an inspection or a dispute) keeps every file of a handed-over
    dossier whatever its retention, and keeps it out of any disposition, until lifted."""
    require_archivist(caller)
    why = reason.strip()
    if not why:
        raise invalid_fields({"reason": "say why"}, reason="INVALID_ARGUMENT")
    async with transactions() as tx:
        dossier = await visible_dossier(tx, caller, dossier_id, lock=False)
    if dossier.state is not DossierState.HANDED_OVER:
        raise FailedPreconditionError(
            "a legal hold is put on a dossier in the agency archive",
            reason="DOSSIER_NOT_HANDED_OVER",
            metadata={"dossier_id": dossier.id, "state": dossier.state.value},
        )
    files = {f.sha256 for f in dossier.files()}
    if not hold:
        # A file another held dossier also keeps stays held.
        async with transactions() as tx:
            files -= await tx.dossiers.held_files(excluding=dossier.id)
    for sha256 in sorted(files):
        await vault.set_legal_hold(sha256=sha256, on=hold)
    async with transactions() as tx:
        current = await visible_dossier(tx, caller, dossier.id, lock=True)
        if current.state is not DossierState.HANDED_OVER:  # destroyed meanwhile
            raise FailedPreconditionError(
                "a legal hold is put on a dossier in the agency archive",
                reason="DOSSIER_NOT_HANDED_OVER",
                metadata={"dossier_id": current.id, "state": current.state.value},
            )
        held = replace(current, legal_hold=hold, hold_reason=why if hold else "")
        await tx.dossiers.save(held)
        await tx.claims.set_hold(files, on=hold)
        tx.audit(
            action="dossier.hold" if hold else "dossier.release_hold",
            resource=f"dossiers/{held.id}",
            before={"legal_hold": current.legal_hold},
            after={"legal_hold": hold, "reason": why},
        )
        await tx.commit()
    return held


# --- fixity -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FixityResult:
    sha256: str
    # None: the bytes match; else "altered", "missing" or "unreadable".
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def check_fixity(*, store: ObjectReader, sha256: str, size: int) -> FixityResult:
    """Reads the object back in full and compares it with its SHA-256 and size."""
    check = FixityCheck(sha256=sha256, size=size)
    try:
        async for chunk in store.read(sha256):
            check.feed(chunk)
        check.verify()
    except FixityMismatchError:
        return FixityResult(sha256=sha256, problem="altered")
    except ObjectMissingError:
        return FixityResult(sha256=sha256, problem="missing")
    except DomainError as exc:
        if exc.reason == "OBJECT_UNREADABLE":
            return FixityResult(sha256=sha256, problem="unreadable")
        raise
    return FixityResult(sha256=sha256, problem=None)


async def record_fixity(
    *,
    transactions: RecordsTransactions,
    results: Sequence[FixityResult],
    now: datetime,
    on_failure: Callable[[FixityResult], None],
) -> None:
    """Keeps what each check found; a failure is an alert (log, metric, event)."""
    async with transactions() as tx:
        for result in results:
            await tx.claims.record_fixity(result.sha256, at=now, problem=result.problem)
            if not result.ok:
                tx.record_fixity_failed(result.sha256, problem=result.problem or "", at=now)
                tx.audit(
                    action="object.fixity.failed",
                    resource=f"objects/{result.sha256}",
                    after={"problem": result.problem},
                )
        await tx.commit()
    for result in results:
        if not result.ok:
            logger.error(
                "fixity check failed: stored bytes no longer match their SHA-256",
                extra={"sha256": result.sha256, "problem": result.problem},
            )
            on_failure(result)


async def check_dossier_fixity(
    *,
    transactions: RecordsTransactions,
    store: ObjectReader,
    caller: Caller,
    dossier_id: str,
    now: datetime,
    on_failure: Callable[[FixityResult], None],
) -> list[FixityResult]:
    """The archivist re-reads every file of one dossier."""
    require_archivist(caller)
    async with transactions() as tx:
        dossier = await visible_dossier(tx, caller, dossier_id, lock=False)
        # A file a disposition destroyed is gone on purpose, not lost.
        held = await tx.claims.keeping([f.sha256 for f in dossier.files()])
    results = [
        await check_fixity(store=store, sha256=f.sha256, size=f.size)
        for f in dossier.files()
        if f.sha256 in held
    ]
    await record_fixity(transactions=transactions, results=results, now=now, on_failure=on_failure)
    async with transactions() as tx:
        tx.audit(
            action="dossier.fixity",
            resource=f"dossiers/{dossier.id}",
            after={
                "files": len(results),
                "failed": {r.sha256: r.problem for r in results if not r.ok},
            },
        )
        await tx.commit()
    return results


async def scheduled_fixity(
    *,
    transactions: RecordsTransactions,
    store: ObjectReader,
    share: float,
    now: datetime,
    on_failure: Callable[[FixityResult], None],
    maximum: int = 10_000,
) -> list[FixityResult]:
    """One scheduled run: the `share` of kept objects checked longest ago (never checked first),
    so that every object is checked once every 1/share runs. The objects are taken in a
    transaction of their own before they are read: runs of several replicas check different
    objects, and report a damaged one once. A run that stops early (the store unavailable)
    keeps what it found and gives back the objects it did not read, first in line for the next
    run; only a process killed meanwhile leaves them looking checked until their turn."""
    async with transactions() as tx:
        due = await tx.claims.claim_fixity_due(share=share, maximum=maximum, now=now)
        await tx.commit()
    results: list[FixityResult] = []
    try:
        for sha, size in due:
            results.append(await check_fixity(store=store, sha256=sha, size=size))
    finally:
        if results:
            await record_fixity(
                transactions=transactions, results=results, now=now, on_failure=on_failure
            )
        unread = [sha for sha, _ in due[len(results) :]]
        if unread:
            async with transactions() as tx:
                await tx.claims.release_fixity(unread, claimed_at=now)
                await tx.commit()
    return results


# --- disposition ------------------------------------------------------------------------------


async def _disposition(tx: RecordsTransaction, disposition_id: str, *, lock: bool) -> Disposition:
    key = validated_id(disposition_id, field="id")
    found = await tx.dispositions.get(key, lock=lock)
    if found is None:
        raise DispositionNotFoundError(
            "no disposition with this id", metadata={"disposition_id": key}
        )
    return found


async def propose_disposition(
    *,
    tx: RecordsTransaction,
    caller: Caller,
    reason: str,
    dossier_ids: Sequence[str],
    today: date,
    now: datetime,
) -> Disposition:
    """The archivist proposes destroying dossiers past their retention: those named (each must
    be), or every one that is when none is named. A permanent dossier can never be proposed."""
    require_archivist(caller)
    why = reason.strip()
    if not why:
        raise invalid_fields({"reason": "say why"}, reason="INVALID_ARGUMENT")
    if len(dossier_ids) > MAX_DISPOSITION_DOSSIERS:
        raise invalid_fields(
            {"dossier_ids": f"at most {MAX_DISPOSITION_DOSSIERS} dossiers per disposition"},
            reason="INVALID_ARGUMENT",
        )
    named = [validated_id(i, field="dossier_ids") for i in dict.fromkeys(dossier_ids)]
    candidates = named or await tx.dossiers.past_retention(ended_before=today)
    # Locked in a fixed order before anything else is read: two proposals naming the same
    # dossiers wait for each other instead of both taking them.
    found = {i: await tx.dossiers.get(i, lock=True) for i in sorted(candidates)}
    elsewhere = await tx.dispositions.proposed_elsewhere(candidates)
    chosen: list[Dossier] = []
    blocked: dict[str, str] = {}
    for dossier_id in candidates:
        dossier = found[dossier_id]
        if dossier is None or not dossier.may_see(caller):
            # One the archivist may not see is one they cannot name (nor learn of).
            if named:
                blocked[dossier_id] = "no such dossier"
            continue
        why_not = dossier.disposal_blocker(today) or (
            f"already in disposition {elsewhere[dossier_id]}" if dossier_id in elsewhere else None
        )
        if why_not:
            blocked[dossier_id] = why_not
        else:
            chosen.append(dossier)
    if named and blocked:
        raise not_disposable(blocked)
    if not chosen:
        raise FailedPreconditionError(
            "no dossier is past its retention", reason="NOTHING_TO_DISPOSE"
        )
    disposition = Disposition(
        id=str(uuid.uuid4()),
        reason=why,
        proposed_by=caller.subject,
        proposed_at=now,
        items=tuple(DispositionItem.of(d) for d in chosen[:MAX_DISPOSITION_DOSSIERS]),
    )
    await tx.dispositions.add(disposition)
    tx.audit(
        action="disposition.propose",
        resource=f"dispositions/{disposition.id}",
        after={"reason": why, "dossiers": [i.file_code for i in disposition.items]},
    )
    await tx.commit()
    return disposition


async def get_disposition(
    *, tx: RecordsTransaction, caller: Caller, disposition_id: str
) -> Disposition:
    if not caller.is_service and not caller.roles.intersection(("archivist", *LEADERS)):
        require_archivist(caller)
    return await _visible_disposition(tx, caller, disposition_id)


async def _visible_disposition(
    tx: RecordsTransaction, caller: Caller, disposition_id: str, *, lock: bool = False
) -> Disposition:
    """A disposition exists for whoever may see every dossier it names (their clearance covers
    each): nobody learns of, decides on or destroys a dossier they may not see."""
    disposition = await _disposition(tx, disposition_id, lock=lock)
    if not await _sees_all(tx, caller, disposition):
        raise DispositionNotFoundError(
            "no disposition with this id", metadata={"disposition_id": disposition.id}
        )
    return disposition


async def _sees_all(tx: RecordsTransaction, caller: Caller, disposition: Disposition) -> bool:
    for item in disposition.items:
        dossier = await tx.dossiers.get(item.dossier_id)
        if dossier is not None and not dossier.may_see(caller):
            return False
    return True


@dataclass(frozen=True, slots=True)
class DryRun:
    items: tuple[DispositionItem, ...]
    document_ids: tuple[str, ...]
    # sha256 → (size, kept: something else holds it, nobody is known to, or it is held or
    # locked).
    files: dict[str, tuple[int, bool]]
    blocked: dict[str, str]
    # The holders that go with it: its destroyed documents and its dossiers' records.
    leaving: frozenset[str] = frozenset()
    # Its dossiers that go.
    going: frozenset[str] = frozenset()

    @property
    def bytes_deleted(self) -> int:
        return sum(size for size, kept in self.files.values() if not kept)


async def plan_disposition(
    *, tx: RecordsTransaction, disposition: Disposition, today: date, now: datetime
) -> tuple[list[Dossier], DryRun]:
    """Exactly what executing the disposition now would destroy: its dossiers still disposable,
    the documents no other living dossier holds, and the files no other holder keeps."""
    dossiers: list[Dossier] = []
    blocked: dict[str, str] = {}
    for item in disposition.items:
        dossier = await tx.dossiers.get(item.dossier_id)
        why_not = "no such dossier" if dossier is None else dossier.disposal_blocker(today)
        if why_not or dossier is None:
            blocked[item.dossier_id] = why_not or "no such dossier"
        else:
            dossiers.append(dossier)
    going = {d.id for d in dossiers}
    documents = {doc.document_id: doc for d in dossiers for doc in d.documents}
    holding = await tx.dossiers.holding(documents)
    states = await tx.dossiers.states({h for held in holding.values() for h in held})
    destroyed = tuple(
        doc_id
        for doc_id in documents
        if all(
            h in going or states.get(h) is DossierState.DISPOSED for h in holding.get(doc_id, set())
        )
    )
    # The holders that go: the destroyed documents and the dossiers themselves (their records).
    leaving = {f"{documents[d].kind.value}-documents/{d}" for d in destroyed} | {
        f"dossiers/{d}" for d in going
    }
    candidates = await tx.claims.by(leaving)
    for dossier in dossiers:
        candidates |= {f.sha256 for f in dossier.files()}
    holders = await tx.claims.holders(candidates)
    kept = await tx.claims.keeping(candidates)
    files = {
        sha: (state.size, not deletable(holders.get(sha, set()), leaving, state, now))
        for sha, state in sorted(kept.items())
    }
    return dossiers, DryRun(
        items=tuple(DispositionItem.of(d) for d in dossiers),
        document_ids=destroyed,
        files=files,
        blocked=blocked,
        leaving=frozenset(leaving),
        going=frozenset(going),
    )


def deletable(
    holders: set[str], leaving: set[str] | frozenset[str], state: Keeping, now: datetime
) -> bool:
    """A file goes only when someone is known to hold it and every holder goes, and neither a
    legal hold nor an unexpired lock keeps it. A file nobody is known to hold (its claim lost,
    or held before holders were remembered) is kept: deleting it could break a record."""
    if not holders or not holders <= leaving:
        return False
    if state.legal_hold:
        return False
    return state.locked_until is None or state.locked_until <= now


async def dry_run(
    *, tx: RecordsTransaction, caller: Caller, disposition_id: str, today: date, now: datetime
) -> DryRun:
    disposition = await get_disposition(tx=tx, caller=caller, disposition_id=disposition_id)
    _, plan = await plan_disposition(tx=tx, disposition=disposition, today=today, now=now)
    return plan


async def decide_disposition(
    *,
    tx: RecordsTransaction,
    caller: Caller,
    disposition_id: str,
    approve: bool,
    note: str,
    now: datetime,
) -> Disposition:
    """The agency's leader approves or refuses (with a reason)."""
    require_leader(caller)
    disposition = await _visible_disposition(tx, caller, disposition_id, lock=True)
    decided = disposition.decided(approve=approve, by=caller.subject, at=now, note=note)
    await tx.dispositions.save(decided)
    tx.audit(
        action="disposition.approve" if approve else "disposition.refuse",
        resource=f"dispositions/{decided.id}",
        before={"state": disposition.state.value},
        after={"state": decided.state.value, "note": decided.decision_note},
    )
    await tx.commit()
    return decided


async def execute_disposition(
    *,
    transactions: RecordsTransactions,
    documents: DocumentsPort,
    store: ObjectReader,
    files: RecordFiles,
    vault: Vault,
    renderer: Renderer,
    agency_name: Callable[[], Awaitable[str]],
    person_name: Callable[[str], Awaitable[str]],
    policy: LockPolicy,
    caller: Caller,
    disposition_id: str,
    today: date,
    now: datetime,
) -> Disposition:
    """The archivist destroys what the leader approved: the documents are marked destroyed
    (documents), the files nothing else keeps are deleted, the dossiers are marked destroyed,
    and the disposition record (a PDF locked for ever) is kept."""
    require_archivist(caller)
    async with transactions() as tx:
        disposition = await _visible_disposition(tx, caller, disposition_id)
        if disposition.state is DispositionState.EXECUTED:
            return disposition
        disposition.ensure_approved()
        dossiers, plan = await plan_disposition(
            tx=tx, disposition=disposition, today=today, now=now
        )
    if plan.blocked:
        # Something changed since the approval (a hold, a correction): the leader decides again.
        raise not_disposable(plan.blocked)
    # The bytes first, each under its content lock and checked again there: an upload of the
    # same content or a new holder since the plan keeps it. Its destruction is recorded (and
    # audited) in the transaction that deletes it.
    deleted: list[str] = []
    for sha256, (_, kept) in plan.files.items():
        # Shielded: once its bytes are being deleted, the call being cancelled (a client gone)
        # must not leave them deleted and recorded as kept.
        if not kept and await asyncio.shield(
            _destroy(transactions=transactions, store=store, sha256=sha256, plan=plan, now=now)
        ):
            deleted.append(sha256)
    # A document added to another dossier since the plan stays (its files did too).
    async with transactions() as tx:
        destroyed = await _still_going(tx, set(plan.document_ids), plan.going)
    for dossier in dossiers:
        mine = [(d.kind, d.document_id) for d in dossier.documents if d.document_id in destroyed]
        if mine:
            await documents.mark_archived(
                mine, dossier_id=dossier.id, disposition_id=disposition.id
            )
    name = await agency_name()
    record = await files.put(
        renderer.disposition_record(
            agency_name=name,
            disposition=disposition,
            approved_by=await person_name(disposition.decided_by),
            executed_by=await person_name(caller.subject),
            at=now,
        ),
        content_type="application/pdf",
        file_name=f"bien-ban-huy-{disposition.id}.pdf",
        claimed_by=f"dispositions/{disposition.id}",
    )
    until = policy.permanent()
    await vault.protect(sha256=record.sha256, mode=policy.default_mode, retain_until=until)
    async with transactions() as tx:
        current = await _disposition(tx, disposition.id, lock=True)
        if current.state is DispositionState.EXECUTED:
            return current
        executed = current.executed(by=caller.subject, at=now, record=record)
        await tx.dispositions.save(executed)
        await tx.claims.mark_locked([record.sha256], until=until, mode=policy.default_mode)
        for planned in dossiers:
            # Read again under lock: what changed since the plan (a description) is kept.
            latest = await tx.dossiers.get(planned.id, lock=True)
            if latest is None:
                continue
            gone = replace(
                latest, state=DossierState.DISPOSED, disposed_at=now, disposition_id=executed.id
            )
            await tx.dossiers.save(gone)
            tx.record_dossier_disposed(
                gone,
                disposition_id=executed.id,
                document_ids=[d.document_id for d in gone.documents if d.document_id in destroyed],
            )
        tx.audit(
            action="disposition.execute",
            resource=f"dispositions/{executed.id}",
            before={"state": current.state.value},
            after={
                "state": executed.state.value,
                "dossiers": [d.file_code for d in dossiers],
                "documents": len(destroyed),
                "files_deleted": len(deleted),
                "files_kept": len(plan.files) - len(deleted),
                "record": record.sha256,
            },
        )
        await tx.commit()
    return executed


async def _still_going(
    tx: RecordsTransaction, document_ids: set[str], going: frozenset[str]
) -> set[str]:
    """Those of the documents no dossier holds any more but the ones going and those already
    destroyed."""
    if not document_ids:
        return set()
    holding = await tx.dossiers.holding(document_ids)
    states = await tx.dossiers.states({d for held in holding.values() for d in held})
    return {
        document_id
        for document_id in document_ids
        if all(
            d in going or states.get(d) is DossierState.DISPOSED
            for d in holding.get(document_id, set())
        )
    }


async def _destroy(
    *,
    transactions: RecordsTransactions,
    store: ObjectReader,
    sha256: str,
    plan: DryRun,
    now: datetime,
) -> bool:
    """Deletes one planned file if it may still go; whether it went."""
    async with transactions() as tx:
        await tx.objects.lock_content(sha256)
        holders = (await tx.claims.holders([sha256])).get(sha256, set())
        state = (await tx.claims.keeping([sha256])).get(sha256)
        held_documents = {
            h.split("/", 1)[1] for h in holders if h.split("/", 1)[0].endswith("-documents")
        }
        if (
            state is None
            or not deletable(holders, plan.leaving, state, now)
            or await tx.uploads.holding(sha256)
            or await _still_going(tx, held_documents, plan.going) != held_documents
        ):
            return False
        try:
            await store.delete(sha256)
        except DomainError as exc:
            # The store refused (a lock it keeps that we did not know of): the file stays.
            logger.warning(
                "a disposition could not delete a file; it is kept",
                extra={"sha256": sha256, "reason": exc.reason},
            )
            return False
        await tx.claims.mark_destroyed([sha256], at=now)
        tx.audit(
            action="object.destroy",
            resource=f"objects/{sha256}",
            after={"holders": sorted(holders)},
        )
        await tx.commit()
    return True


async def list_dispositions(
    *, tx: RecordsTransaction, caller: Caller, requested_size: int, page_token: str
) -> tuple[list[Disposition], str]:
    """Newest first; for the archivists and the agency's leaders."""
    if not caller.roles.intersection(("archivist", *LEADERS)):
        require_archivist(caller)
    size = page_size(requested_size, default=20, maximum=100)
    after = keyset_after(page_token, moment="proposed_at")

    async def fetch(position: tuple[str, str] | None, limit: int) -> list[Disposition]:
        return await tx.dispositions.page(after=position, limit=limit)

    async def shown(disposition: Disposition) -> bool:
        return await _sees_all(tx, caller, disposition)

    return await filtered_page(
        fetch,
        shown,
        lambda d: (d.proposed_at.isoformat(), d.id),
        moment="proposed_at",
        size=size,
        after=after,
    )
