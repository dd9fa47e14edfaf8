"""Use cases of the document registry."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from vanban.documents.domain.document_types import DocumentType
from vanban.documents.domain.model import (
    DocumentStatus,
    FileRef,
    IncomingDocument,
    IncomingDraft,
    Problems,
    Relation,
    RelationKind,
    is_uuid,
    refuse_archived,
)
from vanban.documents.domain.numbering import (
    CANCEL_REASON_MAX,
    VIETNAM,
    RegisterKind,
    cancel_number,
    choose_register,
    format_number,
    full_number,
    notation,
    register_year,
)
from vanban.documents.domain.outgoing import (
    Issue,
    OutgoingDocument,
    OutgoingDraft,
    Signature,
    Version,
)
from vanban.documents.domain.ports import ApprovalGate, Transaction
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    invalid_fields,
)

# docs/security/permissions.md: who may do what with documents.
REGISTER_ROLES = ("clerk",)
# The văn thư numbers and issues outgoing documents (Decree 30/2020, art. 15).
ISSUE_ROLES = ("clerk",)
# Who drafts outgoing documents: people of the agency's units and its leaders.
DRAFT_ROLES = (
    "clerk",
    "specialist",
    "unit_head",
    "deputy_unit_head",
    "agency_leader",
    "deputy_agency_leader",
)
# Those who see every document of the agency (within their clearance). Others see the documents
# whose reach names them or their unit (assigned incoming ones, their unit's drafts).
READ_ALL_ROLES = ("clerk", "agency_leader", "deputy_agency_leader", "archivist", "system_reader")
# The role of an agency system's API key (`incoming:read`, `outgoing:read`): it reads what the
# agency has registered or issued, never drafts, which are the drafting unit's work in progress
# (a key feeds a portal or another system; a draft there would be published before approval).
KEY_READER_ROLE = "system_reader"
# Duplicate warnings returned with one registration; more are not informative.
DUPLICATES_MAX = 20
# The one caller that records signatures: the signing service made them (ADR 0011).
SIGNATURE_RECORDER = "service:signing"
# The one caller that withdraws an incoming document its sender recalled (ADR 0012).
INCOMING_WITHDRAWER = "service:exchange"


@dataclass(frozen=True, slots=True)
class Reader:
    """Who asks to read: roles, units and clearance from the caller token; services read
    everything."""

    roles: frozenset[str]
    clearance: Clearance
    is_service: bool = False
    person_id: str = ""
    units: tuple[str, ...] = ()

    @property
    def reads_all(self) -> bool:
        return self.is_service or bool(self.roles.intersection(READ_ALL_ROLES))

    @property
    def sees_drafts(self) -> bool:
        """Every person who may open a draft by its reach or role; not an API key's reader."""
        return self.is_service or bool(self.roles - {KEY_READER_ROLE})

    @property
    def principals(self) -> tuple[str, ...]:
        """The `reach` entries that name this reader (ADR 0009, 4)."""
        named = tuple(f"unit:{unit}" for unit in self.units)
        return (*named, f"person:{self.person_id}") if self.person_id else named


def may_open(
    *, secrecy: Secrecy, reach: Iterable[str], reader: Reader, draft: bool = False
) -> bool:
    if reader.is_service:
        return True
    if not may_read(secrecy=secrecy, clearance=reader.clearance):
        return False
    if draft and not reader.sees_drafts:
        return False
    return reader.reads_all or bool(set(reach).intersection(reader.principals))


def reach_of_draft(*, author: str, drafting_unit: str) -> tuple[str, ...]:
    """Who besides the read-all roles sees a draft: its author and the drafting unit."""
    return (f"person:{author}", *((f"unit:{drafting_unit}",) if drafting_unit else ()))


async def _document_type(tx: Transaction, name: str, *, reason: str) -> DocumentType:
    document_type = await tx.catalogue.document_type(name)
    if document_type is None:
        raise invalid_fields(
            {"document_type": f"{name!r} is not a document type of the agency's catalogue"},
            reason=reason,
        )
    return document_type


async def _check_related(
    tx: Transaction,
    relations: tuple[Relation, ...],
    *,
    direction: str,
    clearance: Clearance,
    reason: str,
    issuer_code: str | None = None,
    reader: Reader | None = None,
) -> None:
    """The documents of this registry a new one names must exist, be within the clearance of
    whoever names them (a secret one is reported as missing, as a read would), and, for a recall,
    be of the same direction: another agency recalls the documents it sent us (`issuer_code`:
    the sender must be the one who issued them), the agency its own issued ones.

    A recall changes its target (`_recall`): a target the archive keeps is refused
    (DOCUMENT_ARCHIVED), as any change to it is; the targets are locked until the transaction
    ends, so that the archive cannot take one between this check and the recall. Naming a kept
    document otherwise (a reply, an amendment, a replacement) changes only the new document."""
    named = [r.document_id for r in relations if r.document_id]
    if not named:
        return
    recalled = {r.document_id for r in relations if r.kind is RelationKind.RECALLS}
    found = await tx.links.existing(named, locking=recalled.intersection(named))
    problems: dict[str, str] = {}
    for i, r in enumerate(relations):
        if not r.document_id:
            continue
        linked = found.get(r.document_id)
        if (
            linked is None
            or not may_read(secrecy=linked.secrecy, clearance=clearance)
            or (
                reader is not None
                and not may_open(
                    secrecy=linked.secrecy,
                    reach=linked.reach,
                    reader=reader,
                    draft=linked.status is DocumentStatus.DRAFT,
                )
            )
        ):
            # What the caller may not open is answered as missing: naming an id is no way to
            # learn that a document exists (or to recall another unit's).
            problems[f"relations[{i}].document_id"] = "is not a document of this registry"
        elif r.kind is RelationKind.RECALLS and linked.direction != direction:
            problems[f"relations[{i}].document_id"] = (
                f"an {direction} document recalls {direction} documents only"
            )
        elif (
            r.kind is RelationKind.RECALLS
            and issuer_code is not None
            and linked.issuer_code != issuer_code
        ):
            problems[f"relations[{i}].document_id"] = (
                "an agency recalls only the documents it issued itself"
            )
    if problems:
        raise invalid_fields(problems, reason=reason)
    for r in relations:
        if r.kind is RelationKind.RECALLS and r.document_id:
            refuse_archived(r.document_id, found[r.document_id].archive)


def _require_clearance(secrecy: Secrecy, clearance: Clearance, what: str) -> None:
    if not may_read(secrecy=secrecy, clearance=clearance):
        raise PermissionDeniedError(
            f"{what} a document above your clearance is not allowed",
            reason="CLEARANCE_TOO_LOW",
            metadata={"secrecy": secrecy.value, "clearance": clearance},
        )


async def register_incoming(
    *,
    tx: Transaction,
    draft: IncomingDraft,
    registered_by: str,
    now: datetime,
    clearance: Clearance,
    reader: Reader | None = None,
    request_id: str = "",
) -> IncomingDocument:
    """Registers an arriving document under the next arrival number of its register.

    A `request_id` is bound to the new document in the same transaction, so that a repeat of
    the request (the caller lost the answer) finds it instead of numbering another.

    `now` is the arrival instant: its year in Vietnam time selects the register's year. Each
    secrecy level has a register of its own (Decree 30, art. 22: secret documents are registered
    separately), so the numbers a reader sees run without gaps that would count the documents
    above their clearance. Duplicates (same identifier, or same issuer and số/ký hiệu) are
    found after the number is taken — which serialises the register's registrations, so two
    concurrent copies see each other — and returned as warnings, never refused.
    """
    # The day of arrival on the agency's calendar (`now` is in its time zone, Vietnam by default).
    clean = draft.validated(arrival_day=now.date())
    _require_clearance(clean.secrecy, clearance, "registering")
    document_type = await _document_type(
        tx, clean.document_type, reason="INVALID_INCOMING_DOCUMENT"
    )
    await _check_related(
        tx,
        clean.relations,
        direction="incoming",
        clearance=clearance,
        reason="INVALID_INCOMING_DOCUMENT",
        issuer_code=clean.issuer_code,
        reader=reader,
    )
    register = choose_register(
        await tx.catalogue.registers(), RegisterKind.INCOMING, document_type, clean.secrecy
    )
    year = register_year(now)
    number = await tx.registers.take_number(register.id, year)
    document = IncomingDocument(
        id=str(uuid.uuid4()),
        register_id=register.id,
        arrival_number=number,
        arrival_year=year,
        arrived_at=now,
        issuer_code=clean.issuer_code,
        issuer_name=clean.issuer_name,
        code_number=clean.code_number,
        code_notation=clean.code_notation,
        issued_date=clean.issued_date,
        document_type=document_type.name,
        subject=clean.subject,
        priority=clean.priority,
        secrecy=clean.secrecy,
        file=clean.file,
        registered_by=registered_by,
        received_via=clean.received_via,
        identifier=clean.identifier,
        signer=clean.signer,
        relations=clean.relations,
        attachments=clean.attachments,
        page_amount=clean.page_amount,
        description=clean.description,
        due_date=clean.due_date,
    )
    duplicates = (await tx.incoming.find_duplicates(document))[:DUPLICATES_MAX]
    document = replace(document, duplicates=tuple(duplicates))
    await tx.incoming.add(document)
    await tx.incoming.add_duplicates(document.id, duplicates, now)
    if request_id:
        await tx.incoming.remember_request(request_id, document.id, now)
    await tx.text_jobs.queue(document_id=document.id, sha256=document.file.sha256, now=now)
    await _recall(tx, document.relations, recalled_by=document.id)
    tx.record_registered(document)
    tx.audit(
        action="incoming.register",
        resource=f"incoming-documents/{document.id}",
        after={
            "register": register.id,
            "arrival_number": number,
            "arrival_year": year,
            "subject": document.subject,
            "received_via": document.received_via.value,
            "duplicates": [d.document_id for d in duplicates],
        },
    )
    await tx.commit()
    return _seen_by(document, clearance)


def _seen_by(document: IncomingDocument, clearance: Clearance) -> IncomingDocument:
    """The document with the duplicate warnings its reader may know of: those above their
    clearance are left out (they stay stored, for readers cleared for them)."""
    seen = tuple(d for d in document.duplicates if may_read(secrecy=d.secrecy, clearance=clearance))
    return document if seen == document.duplicates else replace(document, duplicates=seen)


async def get_incoming(*, tx: Transaction, document_id: str, reader: Reader) -> IncomingDocument:
    """A document the reader may not open is reported as absent, not as forbidden: its
    existence is information too."""
    document = await tx.incoming.get(document_id) if is_uuid(document_id) else None
    if document is None or not may_open(
        secrecy=document.secrecy, reach=document.reach, reader=reader
    ):
        raise NotFoundError("no incoming document with this id", reason="INCOMING_NOT_FOUND")
    return document if reader.is_service else _seen_by(document, reader.clearance)


async def draft_outgoing(
    *,
    tx: Transaction,
    draft: OutgoingDraft,
    author: str,
    now: datetime,
    clearance: Clearance,
    drafter_units: tuple[str, ...] | None = None,
    reader: Reader | None = None,
) -> OutgoingDocument:
    """Starts an outgoing document as a draft with its first version.

    `drafter_units`: the units the drafter belongs to, when they may draft only for those (the
    drafting unit reads the draft and names itself in a công văn's ký hiệu); None for the
    registry's roles and services, who draft for any unit. A drafter of one unit who names none
    drafts for it.
    """
    clean = draft.validated()
    _require_clearance(clean.secrecy, clearance, "drafting")
    if drafter_units is not None:
        if not clean.drafting_unit and len(drafter_units) == 1:
            clean = replace(clean, drafting_unit=drafter_units[0])
        elif clean.drafting_unit and clean.drafting_unit not in drafter_units:
            raise invalid_fields(
                {"drafting_unit": "is not one of your units"}, reason="INVALID_OUTGOING_DOCUMENT"
            )
    document_type = await _document_type(
        tx, clean.document_type, reason="INVALID_OUTGOING_DOCUMENT"
    )
    await _check_related(
        tx,
        clean.relations,
        direction="outgoing",
        clearance=clearance,
        reason="INVALID_OUTGOING_DOCUMENT",
        reader=reader,
    )
    document = OutgoingDocument(
        id=str(uuid.uuid4()),
        status=DocumentStatus.DRAFT,
        document_type=document_type.name,
        subject=clean.subject,
        priority=clean.priority,
        secrecy=clean.secrecy,
        recipients=clean.recipients,
        signer=clean.signer,
        drafting_unit=clean.drafting_unit,
        versions=(Version(1, clean.file, author, now, clean.note),),
        relations=clean.relations,
        created_by=author,
        created_at=now,
        description=clean.description,
        issued_amount=clean.issued_amount,
        reach=reach_of_draft(author=author, drafting_unit=clean.drafting_unit),
    )
    await tx.outgoing.add(document)
    await tx.text_jobs.queue(document_id=document.id, sha256=clean.file.sha256, now=now)
    tx.record_drafted(document)
    tx.audit(
        action="outgoing.draft",
        resource=f"outgoing-documents/{document.id}",
        after={
            "document_type": document.document_type,
            "subject": document.subject,
            "secrecy": document.secrecy.value,
            "recipients": [r.organ_id for r in document.recipients],
            "version": 1,
            "file": clean.file.sha256,
        },
    )
    await tx.commit()
    return document


async def _visible_outgoing(
    tx: Transaction, document_id: str, reader: Reader, *, for_update: bool = False
) -> OutgoingDocument:
    document = (
        await tx.outgoing.get(document_id, for_update=for_update) if is_uuid(document_id) else None
    )
    if document is None or not may_open(
        secrecy=document.secrecy,
        reach=document.reach,
        reader=reader,
        draft=document.status is DocumentStatus.DRAFT,
    ):
        raise NotFoundError("no outgoing document with this id", reason="OUTGOING_NOT_FOUND")
    return document


async def get_outgoing(*, tx: Transaction, document_id: str, reader: Reader) -> OutgoingDocument:
    return await _visible_outgoing(tx, document_id, reader)


async def add_version(
    *,
    tx: Transaction,
    document_id: str,
    file: FileRef,
    note: str,
    expected_version: int | None,
    reader: Reader,
    now: datetime,
) -> OutgoingDocument:
    """Adds a version to a draft: whoever may open the draft may revise it."""
    if not reader.is_service and not reader.roles.intersection(DRAFT_ROLES):
        raise PermissionDeniedError(
            "revising a draft needs a drafting role", reason="ROLE_REQUIRED"
        )
    document = await _visible_outgoing(tx, document_id, reader, for_update=True)
    document.require_draft()
    document.require_version(expected_version)
    before = document.current.version
    document = document.with_version(
        file, by=reader.person_id or "service", at=now, note=note.strip()
    )
    await tx.outgoing.add_version(document)
    await tx.text_jobs.queue(document_id=document.id, sha256=file.sha256, now=now)
    tx.record_drafted(document)
    tx.audit(
        action="outgoing.version",
        resource=f"outgoing-documents/{document.id}",
        before={"version": before},
        after={"version": document.current.version, "file": file.sha256},
    )
    await tx.commit()
    return document


@dataclass(frozen=True, slots=True)
class Issuer:
    """The issuing agency as the directory knows it, for the ký hiệu and the identifier."""

    organ_id: str
    name: str
    abbreviation: str
    # The drafting unit's abbreviation (a công văn's ký hiệu names it), when the unit is known.
    unit_abbreviation: str | None = None


async def issue_outgoing(
    *,
    tx: Transaction,
    document_id: str,
    expected_version: int | None,
    issuer: Issuer,
    reader: Reader,
    approvals: ApprovalGate,
    now: datetime,
) -> OutgoingDocument:
    """Gives a draft its number, date and identifier in one transaction, and locks it.

    Everything that can fail without a number is checked first (the draft is locked, its state
    and version checked, the register chosen, the ký hiệu made); then the number is taken, and
    the document written, so the counter's lock is held only for the last few statements and a
    refusal never takes a number.
    """
    if not reader.is_service and not reader.roles.intersection(ISSUE_ROLES):
        raise PermissionDeniedError(
            "issuing (numbering) a document is the clerk's (văn thư) task",
            reason="ROLE_REQUIRED",
            metadata={"roles": ",".join(ISSUE_ROLES)},
        )
    document = await _visible_outgoing(tx, document_id, reader, for_update=True)
    document.require_draft()
    document.require_version(expected_version)
    # The draft passed its chain in the version now current (asked under the row's lock: no
    # version can be added between the answer and the number). Asked first: its refusals say
    # most (not submitted, another version approved).
    await approvals.check(document.id, document.current.version)
    # Where the chain is in force, the leader signed the version to be numbered (the outgoing
    # flow of Decree 30/2020: the leader's signature, then number and date), before any number
    # is taken. The signing service records the signature before the workflow passes the sign
    # step, so this refuses only when that record was lost (the leader signs again).
    if approvals.requires_leader_signature and not document.leader_signed:
        raise FailedPreconditionError(
            f"version {document.current.version} of the draft carries no leader's signature: "
            "the leader signs before the clerk numbers it",
            reason="LEADER_SIGNATURE_REQUIRED",
            metadata={"version": str(document.current.version)},
        )
    try:
        # The related documents, as the issuing clerk sees them: a recall takes effect now.
        await _check_related(
            tx,
            document.relations,
            direction="outgoing",
            clearance=Clearance.TOP_SECRET if reader.is_service else reader.clearance,
            reason="INVALID_OUTGOING_DOCUMENT",
            reader=reader,
        )
    except InvalidArgumentError as exc:
        raise FailedPreconditionError(
            f"the draft names documents the issuer may not open: {exc.message}",
            reason="RELATION_NOT_VISIBLE",
        ) from exc
    document_type = await tx.catalogue.document_type(document.document_type)
    if document_type is None:
        raise FailedPreconditionError(
            f"the document type {document.document_type!r} is no longer in the catalogue",
            reason="UNKNOWN_DOCUMENT_TYPE",
        )
    if document_type.is_cong_van and not issuer.unit_abbreviation:
        raise FailedPreconditionError(
            "a công văn's ký hiệu names its drafting unit: the draft names no known unit",
            reason="DRAFTING_UNIT_REQUIRED",
        )
    try:
        code_notation = notation(
            document_type,
            issuer.abbreviation,
            issuer.unit_abbreviation if document_type.is_cong_van else None,
        )
    except InvalidArgumentError as exc:
        # The directory's abbreviations, not the request, cannot form a ký hiệu.
        raise FailedPreconditionError(
            f"no ký hiệu can be formed: {exc.message}", reason="INVALID_NOTATION"
        ) from exc
    register = choose_register(
        await tx.catalogue.registers(), RegisterKind.OUTGOING, document_type, document.secrecy
    )
    year = register_year(now)
    issued_date = now.astimezone(VIETNAM).date()
    number = await tx.registers.take_number(register.id, year)
    code = full_number(number, code_notation)
    issued = document.issued(
        Issue(
            register_id=register.id,
            year=year,
            number=number,
            code_number=format_number(number),
            code_notation=code_notation,
            issued_date=issued_date,
            identifier=f"{issuer.organ_id},{issued_date:%Y/%m/%d},{code}",
            issuer_code=issuer.organ_id,
            issuer_name=issuer.name,
            issued_at=now,
            issued_by=reader.person_id or "service",
        )
    )
    await tx.outgoing.mark_issued(issued)
    await _recall(tx, issued.relations, recalled_by=issued.id)
    tx.record_issued(issued)
    tx.audit(
        action="outgoing.issue",
        resource=f"outgoing-documents/{issued.id}",
        before={"status": DocumentStatus.DRAFT.value},
        after={
            "status": DocumentStatus.ISSUED.value,
            "register": register.id,
            "number": code,
            "issued_date": issued_date.isoformat(),
            "version": issued.current.version,
        },
    )
    await tx.commit()
    return issued


async def _recall(tx: Transaction, relations: tuple[Relation, ...], *, recalled_by: str) -> None:
    """A document that recalls (thu hồi) others of this registry marks them recalled."""
    targets = [r.document_id for r in relations if r.kind is RelationKind.RECALLS and r.document_id]
    for target, direction in await tx.links.mark_recalled(targets, recalled_by=recalled_by):
        tx.record_recalled(target, direction, recalled_by)


async def withdraw_incoming(
    *, tx: Transaction, document_id: str, reason: str, agreed_by: str
) -> IncomingDocument:
    """Marks an incoming document recalled (thu hồi) by its sender, over the axis, with the
    receiving clerk's agreement: kept, read-only from now on, its reach unchanged. Asked again,
    it answers the document as it is. A document the archive keeps is not withdrawn
    (DOCUMENT_ARCHIVED), unless it was withdrawn before it was handed over."""
    reason, agreed_by = reason.strip(), agreed_by.strip()
    problems: dict[str, str] = {}
    if not reason or len(reason) > 500:
        problems["reason"] = "1 to 500 characters"
    if not agreed_by or len(agreed_by) > 128:
        problems["agreed_by"] = "1 to 128 characters"
    if problems:
        raise invalid_fields(problems, reason="INVALID_WITHDRAWAL")
    document = await tx.incoming.get(document_id, for_update=True) if is_uuid(document_id) else None
    if document is None:
        raise NotFoundError("no incoming document with this id", reason="INCOMING_NOT_FOUND")
    if document.status is not DocumentStatus.RECALLED:
        document.require_not_archived()
    for target, direction in await tx.links.mark_recalled([document.id], recalled_by=""):
        tx.record_recalled(target, direction, "")
        tx.audit(
            action="incoming.withdraw",
            resource=f"incoming-documents/{target}",
            after={"reason": reason, "agreed_by": agreed_by},
        )
    await tx.commit()
    withdrawn = await tx.incoming.get(document.id)
    assert withdrawn is not None
    return withdrawn


def may_read(*, secrecy: Secrecy, clearance: Clearance) -> bool:
    """A person reads a document whose secrecy level is at most their clearance (one order for
    the whole platform: `vanban.platform.clearance`)."""
    return clearance.covers(secrecy)


async def cancel_outgoing(
    *,
    tx: Transaction,
    document_id: str,
    reason: str,
    reader: Reader,
    now: datetime,
) -> OutgoingDocument:
    """Cancels an issued document's number (hủy số), keeping the number taken with its reason.

    The clerk (văn thư) who numbers documents cancels them, when they may open the document. In
    one transaction the row is locked, its status becomes cancelled and the cancellation (the one
    record of its reason, ADR 0009 §1) is written; the register's counter is left alone, so the
    number is never given to another document and the register book prints it as cancelled.
    """
    if not reader.is_service and not reader.roles.intersection(ISSUE_ROLES):
        raise PermissionDeniedError(
            "cancelling a number is the clerk's task", reason="ROLE_REQUIRED"
        )
    problems = Problems()
    problems.text("reason", reason, CANCEL_REASON_MAX)
    if "reason" not in problems and not reason.strip():
        problems["reason"] = "is required: say why the number is cancelled"
    problems.raise_if_any("INVALID_CANCELLATION")
    document = await _visible_outgoing(tx, document_id, reader, for_update=True)
    issue = document.require_issued()
    cancellation = cancel_number(
        register_id=issue.register_id,
        year=issue.year,
        number=issue.number,
        last_issued=await tx.registers.last_issued(issue.register_id, issue.year),
        cancellations=await tx.registers.cancellations(issue.register_id, issue.year),
        reason=reason,
        cancelled_by=reader.person_id or "service",
        at=now,
    )
    cancelled = document.cancelled(cancellation)
    await tx.outgoing.mark_cancelled(cancelled)
    await tx.registers.add_cancellation(cancellation)
    tx.record_updated(cancelled.id, "outgoing", changed=("status",))
    tx.audit(
        action="outgoing.cancel",
        resource=f"outgoing-documents/{cancelled.id}",
        before={"status": DocumentStatus.ISSUED.value},
        after={
            "status": DocumentStatus.CANCELLED.value,
            "register": issue.register_id,
            "year": issue.year,
            "number": full_number(issue.number, issue.code_notation),
            "reason": cancellation.reason,
        },
    )
    await tx.commit()
    return cancelled


async def record_signature(
    *, tx: Transaction, document_id: str, signature: Signature, now: datetime
) -> OutgoingDocument:
    """Records a signature the signing service added to an outgoing document's PDF.

    The signing service calls at once and publishes an event that catches up when the call was
    lost; both come here, and a signature recorded before (by its id) is answered as it is,
    written, audited and published once. The rules of the chain are `with_signature`'s, checked
    with the document's row locked, so two signatures of one document are recorded one after
    the other, each seeing the one before.
    """
    document = await tx.outgoing.get(document_id, for_update=True) if is_uuid(document_id) else None
    if document is None:
        raise NotFoundError("no outgoing document with this id", reason="OUTGOING_NOT_FOUND")
    before = document.signed_file
    signed, added = document.with_signature(signature)
    if not added:
        return signed
    await tx.outgoing.add_signature(signed.id, signature, at=now)
    tx.record_updated(signed.id, "outgoing", changed=("signatures",))
    tx.audit(
        action="outgoing.sign",
        resource=f"outgoing-documents/{signed.id}",
        before={"signed_file": before.sha256 if before else None},
        after={
            "signature": signature.id,
            "kind": signature.kind.value,
            "version": signature.version,
            "signed_file": signature.file.sha256,
            "source": signature.source_sha256,
            "signed_by": signature.signed_by,
            "certificate_subject": signature.certificate_subject,
        },
    )
    await tx.commit()
    return signed
