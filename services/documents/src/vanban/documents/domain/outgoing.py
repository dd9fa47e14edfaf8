"""Outgoing documents (văn bản đi): drafts with versions, then issue (Decree 30/2020, art. 15-16).

A draft needs only its type, subject, urgency, secrecy, recipients and a file; the number, date
and identifier come at issue, in the transaction that takes the number. Each upload is a new
version; none is ever changed, and issue freezes the current one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from vanban.documents.domain.model import (
    DESCRIPTION_MAX,
    RECIPIENTS_MAX,
    SUBJECT_MAX,
    TYPE_NAME_MAX,
    DocumentStatus,
    FileRef,
    Priority,
    Problems,
    Relation,
    Signer,
)
from vanban.documents.domain.numbering import CancelledNumber
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import AbortedError, FailedPreconditionError

ORGAN_NAME_MAX = 200
UNIT_CODE_MAX = 64
NOTE_MAX = 500
ISSUED_AMOUNT_MAX = 999  # IssuedAmount N3
VERSIONS_MAX = 200  # versions of one draft: a limit, not a wish


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

    @property
    def current(self) -> Version:
        return self.versions[-1]

    def require_draft(self) -> None:
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
