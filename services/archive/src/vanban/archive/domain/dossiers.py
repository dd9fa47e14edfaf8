"""Use cases of the dossier list and of forming dossiers: list, approve, open, add and remove
documents, close. The caller is the person of the call being served; every rule about who may
do what is in `records`."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from vanban.archive.domain.dossier_list import (
    ImportProblem,
    ImportReport,
    ListEntry,
    sorted_problems,
)
from vanban.archive.domain.records import (
    HANDOVER_WARNING_DAYS,
    DocumentKind,
    Dossier,
    DossierDocument,
    DossierExistsError,
    DossierNotFoundError,
    DossierState,
    check_year,
    ensure_document_issued,
    file_code,
    require_archivist,
    require_leader,
    validated_id,
)
from vanban.archive.domain.records_ports import (
    DirectoryPort,
    DocumentsPort,
    PageCounter,
    RecordsTransaction,
    RecordsTransactions,
)
from vanban.platform.caller import Caller
from vanban.platform.errors import (
    DomainError,
    ErrorCode,
    FailedPreconditionError,
    NotFoundError,
    PermissionDeniedError,
    invalid_fields,
)
from vanban.platform.paging import filtered_page, keyset_after, page_size


@dataclass(frozen=True, slots=True)
class ListedEntry:
    entry: ListEntry
    approved_at: datetime | None
    approved_by: str | None
    dossier_id: str


async def list_entries(*, tx: RecordsTransaction, year: int, today: date) -> list[ListedEntry]:
    """The year's list as everyone of the agency sees it."""
    year = check_year(year, today=today)
    opened = await tx.dossier_list.opened(year)
    return [
        ListedEntry(
            entry=entry,
            approved_at=approved_at,
            approved_by=approved_by,
            dossier_id=opened.get(entry.code, ""),
        )
        for entry, approved_at, approved_by in await tx.dossier_list.entries(year)
    ]


async def approve_list(
    *, tx: RecordsTransaction, caller: Caller, year: int, today: date, now: datetime
) -> list[str]:
    """The leader approves every entry of the year awaiting approval; their codes."""
    require_leader(caller)
    year = check_year(year, today=today)
    codes = await tx.dossier_list.approve(year, by=caller.subject, at=now)
    if codes:
        tx.audit(
            action="dossier_list.approve",
            resource=f"dossier-lists/{year}",
            after={"codes": codes},
        )
    await tx.commit()
    return codes


async def open_dossier(
    *,
    tx: RecordsTransaction,
    caller: Caller,
    agency_code: str,
    year: int,
    list_code: str,
    title: str,
    description: str,
    today: date,
    now: datetime,
) -> Dossier:
    """Opens the dossier of an approved entry, for its responsible person or creator unit."""
    year = check_year(year, today=today)
    code = list_code.strip()
    # Locked until the dossier is written: an import cannot change the entry meanwhile.
    found = await tx.dossier_list.get(year, code, lock=True)
    if found is None:
        raise NotFoundError(
            f"the dossier list of {year} has no entry {code}",
            reason="UNKNOWN_LIST_CODE",
            metadata={"year": str(year), "list_code": code[:40]},
        )
    entry, approved_at = found
    if approved_at is None:
        raise FailedPreconditionError(
            "the entry is not approved yet: a dossier is opened from the approved list",
            reason="LIST_ENTRY_NOT_APPROVED",
            metadata={"year": str(year), "list_code": entry.code},
        )
    dossier = Dossier(
        id=str(uuid.uuid4()),
        year=year,
        list_code=entry.code,
        file_code=file_code(agency_code=agency_code, year=year, list_code=entry.code),
        title=title.strip() or entry.title,
        retention=entry.retention,
        retention_years=entry.retention_years,
        access=entry.access,
        creator_unit=entry.creator_unit,
        responsible=entry.responsible,
        responsible_id=entry.responsible_id,
        opened_by=caller.subject,
        opened_at=now,
        description=description.strip(),
        start_date=now.date(),
    )
    if not dossier.is_keeper(caller):
        raise PermissionDeniedError(
            "the dossier is opened by the person responsible for it or its creator unit",
            reason="NOT_DOSSIER_KEEPER",
            metadata={"list_code": entry.code, "creator_unit": entry.creator_unit},
        )
    if not await tx.dossiers.add(dossier):
        raise DossierExistsError(
            "this entry of the list already has its dossier",
            metadata={"year": str(year), "list_code": entry.code},
        )
    tx.audit(action="dossier.open", resource=_resource(dossier), after=_summary(dossier))
    await tx.commit()
    return dossier


async def get_dossier(*, tx: RecordsTransaction, caller: Caller, dossier_id: str) -> Dossier:
    return await visible_dossier(tx, caller, dossier_id)


async def list_dossiers(
    *,
    tx: RecordsTransaction,
    caller: Caller,
    year: int,
    state: DossierState | None,
    handover_due: bool,
    requested_size: int,
    page_token: str,
    today: date,
) -> tuple[list[Dossier], str]:
    """The dossiers the caller may see, newest first, without their documents."""
    size = page_size(requested_size, default=20, maximum=100)
    after = keyset_after(page_token, moment="opened_at")
    if year:
        year = check_year(year, today=today)
    # Due within the warning window: the work ended a year ago less the window, or earlier.
    due_before = today - timedelta(days=365 - HANDOVER_WARNING_DAYS) if handover_due else None

    async def fetch(position: tuple[str, str] | None, limit: int) -> list[Dossier]:
        return await tx.dossiers.page(
            year=year, state=state, handover_before=due_before, after=position, limit=limit
        )

    async def shown(dossier: Dossier) -> bool:
        return dossier.may_see(caller)

    return await filtered_page(
        fetch,
        shown,
        lambda d: (d.opened_at.isoformat(), d.id),
        moment="opened_at",
        size=size,
        after=after,
    )


async def add_document(
    *,
    transactions: RecordsTransactions,
    documents: DocumentsPort,
    pages: PageCounter,
    caller: Caller,
    dossier_id: str,
    document_id: str,
    kind: str,
    now: datetime,
) -> Dossier:
    """Adds a document by reference, as the caller may open it (documents decides); adding it
    again changes nothing."""
    key = validated_id(dossier_id, field="dossier_id")
    reference = validated_id(document_id, field="document_id")
    wanted = DocumentKind.parse(kind)
    async with transactions() as tx:
        dossier = await visible_dossier(tx, caller, key)
        dossier.ensure_keeper(caller)
        dossier.ensure_open()
        if dossier.holds(reference):
            return dossier
    # Asked with no transaction open: documents answers for the caller.
    found = await documents.find(reference, kind=wanted, added_by=caller.subject, now=now)
    ensure_document_issued(
        kind=found.document.kind, status=found.status, document_id=found.document.document_id
    )
    if found.destroyed:
        raise FailedPreconditionError(
            "the document was destroyed by a disposition: its files are gone",
            reason="DOCUMENT_DESTROYED",
            metadata={"document_id": found.document.document_id},
        )
    document = found.document
    if document.page_amount <= 0 and document.files:
        # An outgoing document's record says nothing of its pages: its issued PDF does.
        document = replace(document, page_amount=await pages.pages(document.files[0]))
    async with transactions() as tx:
        dossier = await visible_dossier(tx, caller, key, lock=True)
        dossier.ensure_keeper(caller)
        if dossier.holds(reference):
            return dossier
        updated = dossier.with_document(document)
        await tx.dossiers.save(updated)
        tx.audit(
            action="dossier.document.add",
            resource=_resource(updated),
            after={
                "document_id": reference,
                "kind": document.kind.value,
                "doc_total": updated.doc_total,
                "page_total": updated.page_total,
            },
        )
        await tx.commit()
    return updated


async def remove_document(
    *, tx: RecordsTransaction, caller: Caller, dossier_id: str, document_id: str
) -> Dossier:
    key = validated_id(dossier_id, field="dossier_id")
    reference = validated_id(document_id, field="document_id")
    dossier = await visible_dossier(tx, caller, key, lock=True)
    dossier.ensure_keeper(caller)
    updated = dossier.without_document(reference)
    await tx.dossiers.save(updated)
    tx.audit(
        action="dossier.document.remove",
        resource=_resource(updated),
        before={"document_id": reference},
        after={"doc_total": updated.doc_total, "page_total": updated.page_total},
    )
    await tx.commit()
    return updated


async def close_dossier(
    *,
    tx: RecordsTransaction,
    caller: Caller,
    dossier_id: str,
    end_date: str,
    today: date,
    now: datetime,
) -> Dossier:
    key = validated_id(dossier_id, field="id")
    end = _date(end_date, field="end_date")
    dossier = await visible_dossier(tx, caller, key, lock=True)
    dossier.ensure_keeper(caller)
    closed = dossier.closed(end_date=end, today=today, by=caller.subject, at=now)
    await tx.dossiers.save(closed)
    tx.record_dossier_closed(closed)
    tx.audit(
        action="dossier.close",
        resource=_resource(closed),
        before={"state": dossier.state.value},
        after={
            "state": closed.state.value,
            "end_date": closed.end_date.isoformat() if closed.end_date else None,
            "doc_total": closed.doc_total,
            "page_total": closed.page_total,
        },
    )
    await tx.commit()
    return closed


async def warn_handover_due(
    *, tx: RecordsTransaction, today: date, now: datetime, limit: int = 100
) -> int:
    """Raises `archive.dossier.handover_due` once for each closed dossier due for handover
    within the warning window (or overdue); how many."""
    ended_before = today - timedelta(days=365 - HANDOVER_WARNING_DAYS)
    warned = 0
    for dossier_id in await tx.dossiers.due_for_warning(ended_before=ended_before, limit=limit):
        dossier = await tx.dossiers.get(dossier_id, lock=True)
        if dossier is None or not dossier.due_for_handover_warning(today):
            continue
        marked = replace(dossier, handover_warned_at=now)
        await tx.dossiers.save(marked)
        tx.record_handover_due(marked)
        warned += 1
    await tx.commit()
    return warned


def _date(value: str, *, field: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid_fields(
            {field: "must be a date YYYY-MM-DD"}, reason="INVALID_END_DATE"
        ) from None


async def visible_dossier(
    tx: RecordsTransaction, caller: Caller, dossier_id: str, *, lock: bool = False
) -> Dossier:
    """The dossier, if the caller may see it; one they may not is not told apart from one that
    does not exist."""
    key = validated_id(dossier_id, field="id")
    dossier = await tx.dossiers.get(key, lock=lock)
    if dossier is None:
        raise DossierNotFoundError("no dossier with this id", metadata={"dossier_id": key})
    dossier.ensure_visible(caller)
    return dossier


def _resource(dossier: Dossier) -> str:
    return f"dossiers/{dossier.id}"


def _summary(dossier: Dossier) -> dict[str, object]:
    return {
        "file_code": dossier.file_code,
        "title": dossier.title,
        "retention": dossier.retention,
        "retention_years": dossier.retention_years,
        "access": dossier.access,
        "creator_unit": dossier.creator_unit,
        "state": dossier.state.value,
    }


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    report: ImportReport
    applied: bool
    added: int
    updated: int


async def import_list(
    *,
    transactions: RecordsTransactions,
    caller: Caller,
    directory: DirectoryPort,
    report: ImportReport,
    year: int,
    dry_run: bool,
    now: datetime,
) -> ImportOutcome:
    """The archivist imports the year's list from a checked file: nothing is written on a dry
    run or when any line has a problem. Every unit and person named must be the directory's.
    An entry already opened as a dossier cannot change; an entry that changes waits for the
    leader's approval again."""
    require_archivist(caller)
    # Asked before any transaction is open.
    report = await _resolved(report, directory)
    async with transactions() as tx:
        # The entries locked first: a dossier opened meanwhile from one of them is seen.
        listed = await tx.dossier_list.entries(year, lock=True)
        current = {entry.code: entry for entry, _, _ in listed}
        opened = await tx.dossier_list.opened(year)
        problems = list(report.problems)
        changed: list[ListEntry] = []
        for line, entry in zip(report.lines, report.entries, strict=True):
            before = current.get(entry.code)
            # The same entry, whether or not its person's id was known when it was written.
            if before is not None and replace(before, responsible_id="") == replace(
                entry, responsible_id=""
            ):
                continue
            if entry.code in opened:
                problems.append(
                    ImportProblem(
                        line=line,
                        field="code",
                        message="a dossier is already opened from this entry: it cannot change",
                    )
                )
                continue
            changed.append(entry)
        checked = replace(report, problems=sorted_problems(problems))
        if dry_run or not checked.ok:
            return ImportOutcome(report=checked, applied=False, added=0, updated=0)
        added = await tx.dossier_list.upsert(changed, by=caller.subject, at=now)
        tx.audit(
            action="dossier_list.import",
            resource=f"dossier-lists/{year}",
            after={"codes": [e.code for e in changed], "added": added},
        )
        await tx.commit()
    return ImportOutcome(report=checked, applied=True, added=added, updated=len(changed) - added)


async def _resolved(report: ImportReport, directory: DirectoryPort) -> ImportReport:
    """Every creator unit must be a unit of the directory and every person responsible one of
    its people (named by username); each entry gets its person's id."""
    if not report.entries:
        return report
    units = await directory.unit_codes()
    wanted = {e.responsible for e in report.entries if e.responsible}
    people = await directory.person_ids(wanted)
    problems = list(report.problems)
    entries: list[ListEntry] = []
    lines: list[int] = []
    for line, entry in zip(report.lines, report.entries, strict=True):
        wrong = False
        if entry.creator_unit not in units:
            problems.append(
                ImportProblem(
                    line, "creator_unit", f"no unit {entry.creator_unit} in the directory"
                )
            )
            wrong = True
        if entry.responsible and entry.responsible not in people:
            problems.append(
                ImportProblem(
                    line, "responsible", f"no person {entry.responsible} in the directory"
                )
            )
            wrong = True
        if not wrong:
            entries.append(replace(entry, responsible_id=people.get(entry.responsible, "")))
            lines.append(line)
    return replace(
        report, entries=tuple(entries), lines=tuple(lines), problems=sorted_problems(problems)
    )


# Documents asked at once when a dossier is shown to someone.
READ_CHECKS = 16


async def readable(dossier: Dossier, *, documents: DocumentsPort, now: datetime) -> Dossier:
    """The dossier with only the documents the caller of the call being served may open
    (documents decides, as it does everywhere): seeing a dossier never widens who may read a
    document in it. Its totals still count every document it holds."""
    gate = asyncio.Semaphore(READ_CHECKS)

    async def may_open(document: DossierDocument) -> bool:
        async with gate:
            try:
                await documents.find(document.document_id, kind=document.kind, added_by="", now=now)
            except DomainError as exc:
                if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
                    return False
                raise
            return True

    allowed = await asyncio.gather(*(may_open(d) for d in dossier.documents))
    return replace(
        dossier, documents=tuple(d for d, ok in zip(dossier.documents, allowed, strict=True) if ok)
    )
