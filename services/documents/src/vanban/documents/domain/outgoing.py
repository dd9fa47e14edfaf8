"""Outgoing documents (văn bản đi): drafts with versions, then issue (Decree 30/2020, art. 15-16).

A draft needs only its type, subject, urgency, secrecy, recipients and a file; the number, date
and identifier come at issue, in the transaction that takes the number. Each upload is a new
version; none is ever changed, and issue freezes the current one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from vanban.documents.domain.model import (
    DESCRIPTION_MAX,
    RECIPIENTS_MAX,
    SUBJECT_MAX,
    TYPE_NAME_MAX,
    ArchiveRecord,
    DocumentStatus,
    FileRef,
    Priority,
    Problems,
    Relation,
    Signer,
    is_sha256,
    refuse_archived,
)
from vanban.documents.domain.numbering import CancelledNumber
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import AbortedError, FailedPreconditionError

ORGAN_NAME_MAX = 200
UNIT_CODE_MAX = 64
NOTE_MAX = 500
ISSUED_AMOUNT_MAX = 999  # IssuedAmount N3
VERSIONS_MAX = 200  # versions of one draft: a limit, not a wish
# Signatures of one document: the leader's (a co-signer's) and the agency's, with room for a
# few more; a limit, not a wish.
SIGNATURES_MAX = 20
SIGNATURE_ID_MAX = 64
SIGNED_BY_MAX = 128
CERTIFICATE_SUBJECT_MAX = 1000
PDF = "application/pdf"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Nơi nhận, by mã định danh (Decision 20/2020)."""

    organ_id: str
    organ_name: str = ""


@dataclass(frozen=True, slots=True)
class Version:
    version: int
    file: FileRef
    uploaded_by: str
    uploaded_at: datetime
    note: str = ""


class SignatureKind(enum.Enum):
    # Chữ ký số của người có thẩm quyền: on the draft, between title and name.
    LEADER = "leader"
    # Chữ ký số của cơ quan: the seal over the left third of the leader's signature, once issued.
    AGENCY = "agency"
    # The agency's text-only signature at the top right of page 1 (attachments, copies).
    AGENCY_TEXT = "agency_text"


@dataclass(frozen=True, slots=True)
class Signature:
    """A digital signature (chữ ký số) the signing service added to the document's PDF by
    incremental update: `file` is the PDF after it, `source_sha256` the file it was added to."""

    id: str
    version: int
    kind: SignatureKind
    file: FileRef
    source_sha256: str
    signed_by: str
    signed_at: datetime
    certificate_subject: str = ""

    def check(self) -> None:
        """The signature's own fields (InvalidArgumentError INVALID_SIGNATURE)."""
        problems = Problems()
        problems.text("signature.id", self.id, SIGNATURE_ID_MAX)
        if self.version < 1:
            problems["signature.version"] = "must be a version number from 1"
        problems.file("signature.file", self.file)
        if "signature.file.content_type" not in problems and self.file.content_type != PDF:
            problems["signature.file.content_type"] = f"must be {PDF}: a signed PDF"
        if not is_sha256(self.source_sha256):
            problems["signature.source_sha256"] = "must be a lower-case hex SHA-256"
        problems.text("signature.signed_by", self.signed_by, SIGNED_BY_MAX)
        problems.text(
            "signature.certificate_subject",
            self.certificate_subject,
            CERTIFICATE_SUBJECT_MAX,
            required=False,
        )
        if self.signed_at.tzinfo is None:
            problems["signature.signed_at"] = "must be an instant (with its offset)"
        problems.raise_if_any("INVALID_SIGNATURE")


@dataclass(frozen=True, slots=True)
class OutgoingDraft:
    """What the drafter enters to start an outgoing document."""

    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    recipients: tuple[Recipient, ...]
    file: FileRef
    signer: Signer = field(default_factory=Signer)
    drafting_unit: str = ""
    relations: tuple[Relation, ...] = ()
    note: str = ""
    description: str = ""
    issued_amount: int = 0

    def validated(self) -> OutgoingDraft:
        problems = Problems()
        document_type = self.document_type.strip()
        problems.text("document_type", document_type, TYPE_NAME_MAX)
        subject = self.subject.strip()
        problems.text("subject", subject, SUBJECT_MAX)
        recipients = check_recipients(problems, self.recipients)
        problems.file("file", self.file)
        signer = problems.signer(self.signer)
        drafting_unit = self.drafting_unit.strip()
        problems.text("drafting_unit", drafting_unit, UNIT_CODE_MAX, required=False)
        relations = problems.relations(self.relations)
        note = self.note.strip()
        problems.text("note", note, NOTE_MAX, required=False)
        description = self.description.strip()
        problems.text("description", description, DESCRIPTION_MAX, required=False)
        if not 0 <= self.issued_amount <= ISSUED_AMOUNT_MAX:
            problems["issued_amount"] = f"must be from 0 to {ISSUED_AMOUNT_MAX}"
        problems.raise_if_any("INVALID_OUTGOING_DOCUMENT")
        return replace(
            self,
            document_type=document_type,
            subject=subject,
            recipients=recipients,
            signer=signer,
            drafting_unit=drafting_unit,
            relations=relations,
            note=note,
            description=description,
        )


def check_recipients(
    problems: Problems, recipients: tuple[Recipient, ...]
) -> tuple[Recipient, ...]:
    if not recipients:
        problems["recipients"] = "name at least one recipient by its organ_id"
        return recipients
    if len(recipients) > RECIPIENTS_MAX:
        problems["recipients"] = f"at most {RECIPIENTS_MAX}"
        return recipients
    clean: list[Recipient] = []
    seen: set[str] = set()
    for i, recipient in enumerate(recipients):
        r = Recipient(recipient.organ_id.strip(), recipient.organ_name.strip())
        problems.organ_id(f"recipients[{i}].organ_id", r.organ_id)
        problems.text(f"recipients[{i}].organ_name", r.organ_name, ORGAN_NAME_MAX, required=False)
        if r.organ_id in seen:
            problems[f"recipients[{i}].organ_id"] = "is named twice"
        seen.add(r.organ_id)
        clean.append(r)
    return tuple(clean)


@dataclass(frozen=True, slots=True)
class Issue:
    """What issue adds: the number and date (locked from then on)."""

    register_id: str
    year: int
    number: int
    code_number: str
    code_notation: str
    issued_date: date
    identifier: str
    issuer_code: str
    issuer_name: str
    issued_at: datetime
    issued_by: str


@dataclass(frozen=True, slots=True)
class OutgoingDocument:
    id: str
    status: DocumentStatus
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    recipients: tuple[Recipient, ...]
    signer: Signer
    drafting_unit: str
    versions: tuple[Version, ...]
    relations: tuple[Relation, ...]
    created_by: str
    created_at: datetime
    description: str = ""
    issued_amount: int = 0
    issue: Issue | None = None
    reach: tuple[str, ...] = ()
    # Set when its number was cancelled (status cancelled): the reason, who and when.
    cancellation: CancelledNumber | None = None
    # The signatures added to its PDF, oldest first (each on the file the one before made).
    signatures: tuple[Signature, ...] = ()
    # Set once the agency archive keeps it: read-only from then on.
    archive: ArchiveRecord | None = None

    @property
    def current(self) -> Version:
        return self.versions[-1]

    @property
    def signed_file(self) -> FileRef | None:
        """The file of the last signature made on the current version; None when it has none
        (a new version starts unsigned)."""
        for signature in reversed(self.signatures):
            if signature.version == self.current.version:
                return signature.file
        return None

    @property
    def leader_signed(self) -> bool:
        """Whether the current version carries the leader's signature."""
        return any(
            s.kind is SignatureKind.LEADER and s.version == self.current.version
            for s in self.signatures
        )

    def with_signature(self, signature: Signature) -> tuple[OutgoingDocument, bool]:
        """The document with `signature` recorded, and whether it is new: a signature already
        recorded (by its id: the signing service calls, and its event follows) leaves the
        document as it is, so nothing is written twice. A document the archive keeps takes no
        new one (DOCUMENT_ARCHIVED).

        Signatures form one chain per version: each is added to the file the one before made
        (the first to the version's own file). The leader signs the current version of a draft;
        the agency signs an issued document the leader signed, on top of the leader's signature
        (Decree 30/2020, appendix I: the agency signs only what its leader signed).
        """
        if any(s.id == signature.id for s in self.signatures):
            return self, False
        self.require_not_archived()
        signature.check()
        if len(self.signatures) >= SIGNATURES_MAX:
            raise FailedPreconditionError(
                f"a document keeps at most {SIGNATURES_MAX} signatures",
                reason="TOO_MANY_SIGNATURES",
            )
        signed = self.signed_file
        if signature.kind is SignatureKind.LEADER:
            self.require_draft()
            if signature.version != self.current.version:
                raise FailedPreconditionError(
                    f"version {signature.version} was signed, but the draft is at version "
                    f"{self.current.version}",
                    reason="DRAFT_CHANGED",
                    metadata={"current_version": str(self.current.version)},
                )
            allowed = {self.current.file.sha256, *((signed.sha256,) if signed else ())}
        else:
            if self.status is not DocumentStatus.ISSUED:
                raise FailedPreconditionError(
                    f"the document is {self.status.value}: the agency signs issued documents",
                    reason="DOCUMENT_NOT_ISSUED",
                    metadata={"status": self.status.value},
                )
            if not self.leader_signed or signed is None:
                raise FailedPreconditionError(
                    "the agency signs only a document its leader signed",
                    reason="LEADER_SIGNATURE_REQUIRED",
                )
            allowed = {signed.sha256} if signature.version == self.current.version else set()
        if signature.source_sha256 not in allowed:
            raise FailedPreconditionError(
                "the signature was added to another file than the document's last signed one",
                reason="SIGNATURE_OUT_OF_ORDER",
            )
        return replace(self, signatures=(*self.signatures, signature)), True

    def require_not_archived(self) -> None:
        refuse_archived(self.id, self.archive)

    def require_draft(self) -> None:
        """Only a draft changes (a version, its issue, the leader's signature), and only while
        the archive does not keep it."""
        self.require_not_archived()
        if self.status is not DocumentStatus.DRAFT:
            raise FailedPreconditionError(
                f"the document is {self.status.value}: its registered fields are locked",
                reason="DOCUMENT_NOT_DRAFT",
                metadata={"status": self.status.value},
            )

    def require_version(self, expected: int | None) -> None:
        """Optimistic concurrency: `expected` (when given) must be the current version."""
        if expected is not None and expected != self.current.version:
            raise AbortedError(
                f"the draft is at version {self.current.version}, not {expected}",
                reason="VERSION_CONFLICT",
                metadata={"current_version": str(self.current.version)},
            )

    def with_version(self, file: FileRef, *, by: str, at: datetime, note: str) -> OutgoingDocument:
        self.require_draft()
        if len(self.versions) >= VERSIONS_MAX:
            raise FailedPreconditionError(
                f"a draft keeps at most {VERSIONS_MAX} versions", reason="TOO_MANY_VERSIONS"
            )
        problems = Problems()
        problems.file("file", file)
        problems.text("note", note, NOTE_MAX, required=False)
        problems.raise_if_any("INVALID_OUTGOING_VERSION")
        version = Version(self.current.version + 1, file, by, at, note)
        return replace(self, versions=(*self.versions, version))

    def issued(self, issue: Issue) -> OutgoingDocument:
        self.require_draft()
        return replace(self, status=DocumentStatus.ISSUED, issue=issue)

    def require_issued(self) -> Issue:
        """Only an issued document's number can be cancelled: a draft has none yet, and a
        cancelled or recalled one is past it."""
        self.require_not_archived()
        if self.status is DocumentStatus.CANCELLED:
            raise FailedPreconditionError(
                "the document's number is already cancelled", reason="ALREADY_CANCELLED"
            )
        if self.status is not DocumentStatus.ISSUED or self.issue is None:
            raise FailedPreconditionError(
                f"the document is {self.status.value}: only an issued document's number can be "
                "cancelled",
                reason="DOCUMENT_NOT_ISSUED",
                metadata={"status": self.status.value},
            )
        return self.issue

    def cancelled(self, cancellation: CancelledNumber) -> OutgoingDocument:
        self.require_issued()
        return replace(self, status=DocumentStatus.CANCELLED, cancellation=cancellation)
