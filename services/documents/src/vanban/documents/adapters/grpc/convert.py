"""Proto <-> domain conversion for the documents contracts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.documents.domain.archiving import ArchivedRef
from vanban.documents.domain.model import (
    ArchiveRecord,
    DocumentStatus,
    Duplicate,
    FileRef,
    IncomingDocument,
    IncomingDraft,
    Priority,
    ReceivedVia,
    Relation,
    RelationKind,
    Signer,
    SignerCompetence,
)
from vanban.documents.domain.outgoing import (
    OutgoingDocument,
    OutgoingDraft,
    Recipient,
    Signature,
    SignatureKind,
)
from vanban.platform.clearance import Secrecy
from vanban.platform.convert import (
    SECRECY_TO_PB,
    optional_datetime,
    secrecy_from_pb,
    to_timestamp,
)
from vanban.platform.errors import invalid_fields

PRIORITY_TO_PB = {
    Priority.NORMAL: pb.PRIORITY_NORMAL,
    Priority.URGENT: pb.PRIORITY_URGENT,
    Priority.VERY_URGENT: pb.PRIORITY_VERY_URGENT,
    Priority.FLASH: pb.PRIORITY_FLASH,
}
PRIORITY_FROM_PB: dict[int, Priority] = {v: k for k, v in PRIORITY_TO_PB.items()}
RECEIVED_VIA_TO_PB = {
    ReceivedVia.ELECTRONIC: pb.RECEIVED_VIA_ELECTRONIC,
    ReceivedVia.PAPER: pb.RECEIVED_VIA_PAPER,
}
RECEIVED_VIA_FROM_PB: dict[int, ReceivedVia] = {v: k for k, v in RECEIVED_VIA_TO_PB.items()}
STATUS_TO_PB = {
    DocumentStatus.REGISTERED: pb.DOCUMENT_STATUS_REGISTERED,
    DocumentStatus.DRAFT: pb.DOCUMENT_STATUS_DRAFT,
    DocumentStatus.ISSUED: pb.DOCUMENT_STATUS_ISSUED,
    DocumentStatus.CANCELLED: pb.DOCUMENT_STATUS_CANCELLED,
    DocumentStatus.RECALLED: pb.DOCUMENT_STATUS_RECALLED,
}
STATUS_FROM_PB: dict[int, DocumentStatus] = {v: k for k, v in STATUS_TO_PB.items()}
COMPETENCE_TO_PB = {
    SignerCompetence.TM: pb.SIGNER_COMPETENCE_TM,
    SignerCompetence.Q: pb.SIGNER_COMPETENCE_Q,
    SignerCompetence.KT: pb.SIGNER_COMPETENCE_KT,
    SignerCompetence.TL: pb.SIGNER_COMPETENCE_TL,
    SignerCompetence.TUQ: pb.SIGNER_COMPETENCE_TUQ,
}
COMPETENCE_FROM_PB: dict[int, SignerCompetence] = {v: k for k, v in COMPETENCE_TO_PB.items()}
RELATION_TO_PB = {
    RelationKind.RESPONSE_FOR: pb.RELATION_KIND_RESPONSE_FOR,
    RelationKind.AMENDS: pb.RELATION_KIND_AMENDS,
    RelationKind.REPLACES: pb.RELATION_KIND_REPLACES,
    RelationKind.RECALLS: pb.RELATION_KIND_RECALLS,
}
RELATION_FROM_PB: dict[int, RelationKind] = {v: k for k, v in RELATION_TO_PB.items()}
DIRECTION_TO_PB = {"incoming": pb.DIRECTION_INCOMING, "outgoing": pb.DIRECTION_OUTGOING}


class _Fields(dict[str, str]):
    """Problems with the enum and presence parts of a request (the domain checks the text)."""

    def priority(self, value: int) -> Priority:
        if value == pb.PRIORITY_UNSPECIFIED:
            return Priority.NORMAL
        if value not in PRIORITY_FROM_PB:
            self["priority"] = "unknown priority"
            return Priority.NORMAL
        return PRIORITY_FROM_PB[value]

    def secrecy(self, value: int) -> Secrecy:
        secrecy = secrecy_from_pb(value)
        if secrecy is None:
            self["secrecy"] = "unknown secrecy level"
        return secrecy or Secrecy.NONE

    def signer(self, message: pb.Signer) -> Signer:
        competence = None
        if message.competence != pb.SIGNER_COMPETENCE_UNSPECIFIED:
            competence = COMPETENCE_FROM_PB.get(message.competence)
            if competence is None:
                self["signer.competence"] = "unknown signing authority"
        return Signer(competence=competence, position=message.position, full_name=message.full_name)

    def relations(self, messages: Iterable[pb.Relation]) -> tuple[Relation, ...]:
        relations = []
        for i, message in enumerate(messages):
            kind = RELATION_FROM_PB.get(message.kind)
            if kind is None:
                self[f"relations[{i}].kind"] = "must be response_for, amends, replaces or recalls"
                continue
            issued: date | None = None
            if message.issued_date:
                try:
                    issued = date.fromisoformat(message.issued_date)
                except ValueError:
                    self[f"relations[{i}].issued_date"] = "must be a date written YYYY-MM-DD"
            relations.append(
                Relation(
                    kind=kind,
                    document_id=message.document_id,
                    identifier=message.identifier,
                    organ_id=message.organ_id,
                    code=message.code,
                    issued_date=issued,
                )
            )
        return tuple(relations)

    def raise_if_any(self, reason: str) -> None:
        if self:
            raise invalid_fields(dict(self), reason=reason)


def file_from_pb(message: pb.FileRef) -> FileRef:
    return FileRef(
        sha256=message.sha256,
        size=message.size,
        content_type=message.content_type,
        file_name=message.file_name,
    )


def file_to_pb(file: FileRef) -> pb.FileRef:
    return pb.FileRef(
        sha256=file.sha256,
        size=file.size,
        content_type=file.content_type,
        file_name=file.file_name,
    )


def signature_from_pb(message: pb.DocumentSignature) -> Signature:
    """The signature as the signing service sent it; its own rules are the domain's
    (`Signature.check`)."""
    problems = _Fields()
    kind = next((k for k in SignatureKind if k.value == message.kind), None)
    if kind is None:
        problems["signature.kind"] = "must be leader, agency or agency_text"
    if not message.HasField("file"):
        problems["signature.file"] = "is required"
    signed_at = optional_datetime(message, "signed_at")
    if signed_at is None:
        problems["signature.signed_at"] = "is required"
    problems.raise_if_any("INVALID_SIGNATURE")
    assert kind is not None and signed_at is not None
    return Signature(
        id=message.id,
        version=message.version,
        kind=kind,
        file=file_from_pb(message.file),
        source_sha256=message.source_sha256,
        signed_by=message.signed_by,
        signed_at=signed_at,
        certificate_subject=message.certificate_subject,
    )


def signature_to_pb(signature: Signature) -> pb.DocumentSignature:
    return pb.DocumentSignature(
        id=signature.id,
        version=signature.version,
        kind=signature.kind.value,
        file=file_to_pb(signature.file),
        source_sha256=signature.source_sha256,
        signed_by=signature.signed_by,
        signed_at=to_timestamp(signature.signed_at),
        certificate_subject=signature.certificate_subject,
    )


def draft_from_request(request: pb.RegisterIncomingDocumentRequest) -> IncomingDraft:
    problems = _Fields()
    priority = problems.priority(request.priority)
    secrecy = problems.secrecy(request.secrecy)
    received_via = ReceivedVia.ELECTRONIC
    if request.received_via != pb.RECEIVED_VIA_UNSPECIFIED:
        if request.received_via not in RECEIVED_VIA_FROM_PB:
            problems["received_via"] = "must be electronic or paper"
        else:
            received_via = RECEIVED_VIA_FROM_PB[request.received_via]
    if not request.HasField("file"):
        problems["file"] = "is required"
    signer = problems.signer(request.signer)
    relations = problems.relations(request.relations)
    problems.raise_if_any("INVALID_INCOMING_DOCUMENT")
    return IncomingDraft(
        issuer_code=request.issuer_code,
        issuer_name=request.issuer_name,
        code_number=request.code_number,
        code_notation=request.code_notation,
        issued_date=request.issued_date,
        document_type=request.document_type,
        subject=request.subject,
        priority=priority,
        secrecy=secrecy,
        file=file_from_pb(request.file),
        received_via=received_via,
        identifier=request.identifier,
        signer=signer,
        relations=relations,
        attachments=tuple(file_from_pb(f) for f in request.attachments),
        page_amount=request.page_amount,
        description=request.description,
        due_date=request.due_date,
    )


def outgoing_draft_from_request(request: pb.DraftOutgoingDocumentRequest) -> OutgoingDraft:
    problems = _Fields()
    priority = problems.priority(request.priority)
    secrecy = problems.secrecy(request.secrecy)
    if not request.HasField("file"):
        problems["file"] = "is required"
    signer = problems.signer(request.signer)
    relations = problems.relations(request.relations)
    problems.raise_if_any("INVALID_OUTGOING_DOCUMENT")
    return OutgoingDraft(
        document_type=request.document_type,
        subject=request.subject,
        priority=priority,
        secrecy=secrecy,
        recipients=tuple(Recipient(r.organ_id, r.organ_name) for r in request.recipients),
        file=file_from_pb(request.file),
        signer=signer,
        drafting_unit=request.drafting_unit,
        relations=relations,
        note=request.note,
        description=request.description,
        issued_amount=request.issued_amount,
    )


def signer_to_pb(signer: Signer) -> pb.Signer:
    return pb.Signer(
        competence=(
            COMPETENCE_TO_PB[signer.competence]
            if signer.competence
            else pb.SIGNER_COMPETENCE_UNSPECIFIED
        ),
        position=signer.position,
        full_name=signer.full_name,
    )


def relation_to_pb(relation: Relation) -> pb.Relation:
    return pb.Relation(
        kind=RELATION_TO_PB[relation.kind],
        document_id=relation.document_id,
        identifier=relation.identifier,
        organ_id=relation.organ_id,
        code=relation.code,
        issued_date=relation.issued_date.isoformat() if relation.issued_date else "",
    )


def duplicate_to_pb(duplicate: Duplicate) -> pb.Duplicate:
    return pb.Duplicate(document_id=duplicate.document_id, rule=duplicate.rule)


def archive_to_pb(record: ArchiveRecord) -> pb.ArchiveRecord:
    message = pb.ArchiveRecord(
        dossier_id=record.dossier_id,
        archived_at=to_timestamp(record.archived_at),
        disposition_id=record.disposition_id,
    )
    if record.destroyed_at is not None:
        message.destroyed_at.CopyFrom(to_timestamp(record.destroyed_at))
    return message


def archived_refs(request: pb.MarkArchivedRequest) -> list[ArchivedRef]:
    """The documents the archive names, as sent (`archiving.checked_marks` checks them)."""
    return [ArchivedRef(kind=d.kind, id=d.id) for d in request.documents]


def incoming_to_pb(document: IncomingDocument) -> pb.IncomingDocument:
    message = pb.IncomingDocument(
        id=document.id,
        arrival_number=document.arrival_number,
        arrival_year=document.arrival_year,
        arrived_at=to_timestamp(document.arrived_at),
        issuer_code=document.issuer_code,
        issuer_name=document.issuer_name,
        code_number=document.code_number,
        code_notation=document.code_notation,
        issued_date=document.issued_date.isoformat(),
        document_type=document.document_type,
        subject=document.subject,
        priority=PRIORITY_TO_PB[document.priority],
        secrecy=SECRECY_TO_PB[document.secrecy],
        file=file_to_pb(document.file),
        registered_by=document.registered_by,
        received_via=RECEIVED_VIA_TO_PB[document.received_via],
        status=STATUS_TO_PB[document.status],
        register_id=document.register_id,
        identifier=document.identifier,
        signer=signer_to_pb(document.signer),
        relations=[relation_to_pb(r) for r in document.relations],
        duplicates=[duplicate_to_pb(d) for d in document.duplicates],
        attachments=[file_to_pb(f) for f in document.attachments],
        page_amount=document.page_amount,
        description=document.description,
        due_date=document.due_date.isoformat() if document.due_date else "",
    )
    if document.archive is not None:
        message.archive.CopyFrom(archive_to_pb(document.archive))
    return message


def outgoing_to_pb(document: OutgoingDocument) -> pb.OutgoingDocument:
    message = pb.OutgoingDocument(
        id=document.id,
        status=STATUS_TO_PB[document.status],
        document_type=document.document_type,
        subject=document.subject,
        priority=PRIORITY_TO_PB[document.priority],
        secrecy=SECRECY_TO_PB[document.secrecy],
        recipients=[
            pb.Recipient(organ_id=r.organ_id, organ_name=r.organ_name) for r in document.recipients
        ],
        signer=signer_to_pb(document.signer),
        drafting_unit=document.drafting_unit,
        file=file_to_pb(document.current.file),
        current_version=document.current.version,
        versions=[
            pb.DocumentVersion(
                version=v.version,
                file=file_to_pb(v.file),
                uploaded_by=v.uploaded_by,
                uploaded_at=to_timestamp(v.uploaded_at),
                note=v.note,
            )
            for v in document.versions
        ],
        relations=[relation_to_pb(r) for r in document.relations],
        created_by=document.created_by,
        created_at=to_timestamp(document.created_at),
        description=document.description,
        issued_amount=document.issued_amount,
        signatures=[signature_to_pb(s) for s in document.signatures],
    )
    signed = document.signed_file
    if signed is not None:
        message.signed_file.CopyFrom(file_to_pb(signed))
    if document.issue is not None:
        issue = document.issue
        message.code_number = issue.code_number
        message.code_notation = issue.code_notation
        message.issued_date = issue.issued_date.isoformat()
        message.identifier = issue.identifier
        message.register_id = issue.register_id
        message.number = issue.number
        message.year = issue.year
        message.issued_at.CopyFrom(to_timestamp(issue.issued_at))
        message.issued_by = issue.issued_by
    if document.cancellation is not None:
        message.cancel_reason = document.cancellation.reason
        message.cancelled_by = document.cancellation.cancelled_by
        message.cancelled_at.CopyFrom(to_timestamp(document.cancellation.at))
    if document.archive is not None:
        message.archive.CopyFrom(archive_to_pb(document.archive))
    return message
