"""Documents of the agency (Decree 30/2020, appendix VI)."""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from vanban.platform import stored_files
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import FailedPreconditionError, invalid_fields
from vanban.platform.organ_id import ORGAN_ID_MAX, ORGAN_ID_PATTERN


class Priority(enum.Enum):
    """Độ khẩn."""

    NORMAL = "normal"  # thường
    URGENT = "urgent"  # khẩn
    VERY_URGENT = "very_urgent"  # thượng khẩn
    FLASH = "flash"  # hỏa tốc


class ReceivedVia(enum.Enum):
    """How an incoming document arrived: paper and electronic arrivals share a register."""

    ELECTRONIC = "electronic"
    PAPER = "paper"  # the file is its scan (số hóa)


class SignerCompetence(enum.Enum):
    """Thẩm quyền ký: the prefix before the signer's position (Decree 30/2020)."""

    TM = "TM."
    Q = "Q."
    KT = "KT."
    TL = "TL."
    TUQ = "TUQ."


class RelationKind(enum.Enum):
    RESPONSE_FOR = "response_for"  # replies to (edXML ResponseFor)
    AMENDS = "amends"  # sửa đổi, bổ sung
    REPLACES = "replaces"  # thay thế
    RECALLS = "recalls"  # thu hồi


class DocumentStatus(enum.Enum):
    REGISTERED = "registered"
    DRAFT = "draft"
    ISSUED = "issued"
    CANCELLED = "cancelled"
    RECALLED = "recalled"


@dataclass(frozen=True, slots=True)
class Signer:
    """SignerInfo: who signed, with what authority. Empty when the document names nobody."""

    competence: SignerCompetence | None = None
    position: str = ""
    full_name: str = ""

    @property
    def is_empty(self) -> bool:
        return self.competence is None and not self.position and not self.full_name


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation to another document: one of this registry (`document_id`), or named the way
    edXML's ResponseFor names another agency's document."""

    kind: RelationKind
    document_id: str = ""
    identifier: str = ""
    organ_id: str = ""
    code: str = ""  # số/ký hiệu, e.g. "05/QĐ-UBND"
    issued_date: date | None = None


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An incoming document registered earlier that looks like the same one."""

    document_id: str
    rule: str  # "identifier" or "number"
    # The earlier document's: a reader below it is not told of it (its existence is information).
    secrecy: Secrecy = Secrecy.NONE


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    """Where the agency archive (lưu trữ cơ quan) holds a document: the dossier (hồ sơ) whose
    handover (nộp lưu) made it read-only, and, once a disposition (hủy tài liệu hết giá trị)
    destroyed it, when and by which. The record stays when its files are gone."""

    dossier_id: str
    archived_at: datetime
    destroyed_at: datetime | None = None
    disposition_id: str = ""

    @property
    def destroyed(self) -> bool:
        return self.destroyed_at is not None


def refuse_archived(document_id: str, archive: ArchiveRecord | None) -> None:
    """A document of a handed-over (or destroyed) dossier is read-only: every change to it is
    refused with DOCUMENT_ARCHIVED, before anything is written. Reading stays allowed."""
    if archive is None:
        return
    metadata = {"document_id": document_id, "dossier_id": archive.dossier_id}
    if archive.destroyed:
        metadata["disposition_id"] = archive.disposition_id
        what = "was destroyed by a disposition of the agency archive"
    else:
        what = "belongs to a dossier handed over to the agency archive"
    raise FailedPreconditionError(
        f"the document {what}: it is read-only", reason="DOCUMENT_ARCHIVED", metadata=metadata
    )


def archive_mark(
    current: ArchiveRecord | None, *, dossier_id: str, disposition_id: str, at: datetime
) -> ArchiveRecord | None:
    """The document's record after the archive marks it, or None when the mark changes nothing.

    A handover (no `disposition_id`) keeps the first dossier a document was handed over with:
    handing it over again, with the same dossier or another, changes nothing. A disposition
    destroys it, handed over before or not (a dossier past its retention may be destroyed without
    being handed over), and a destroyed document stays as it was.
    """
    if not disposition_id:
        return ArchiveRecord(dossier_id=dossier_id, archived_at=at) if current is None else None
    if current is None:
        return ArchiveRecord(
            dossier_id=dossier_id, archived_at=at, destroyed_at=at, disposition_id=disposition_id
        )
    if current.destroyed:
        return None
    return replace(current, destroyed_at=at, disposition_id=disposition_id)


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file held by the archive service, identified by its SHA-256."""

    sha256: str
    size: int
    content_type: str
    file_name: str


# Field sizes are those of Decree 30/2020, appendix VI.
IDENTIFIER_MAX = 100
DESCRIPTION_MAX = 500
SIGNER_TEXT_MAX = 100
RELATION_CODE_MAX = 42
PAGE_AMOUNT_MAX = 999  # PageAmount N3
# Explicit limits on repeated parts of one request.
ATTACHMENTS_MAX = 20
RELATIONS_MAX = 20
RECIPIENTS_MAX = 500
ISSUER_CODE_MAX = ORGAN_ID_MAX
ISSUER_NAME_MAX = 200
CODE_NUMBER_MAX = 11
CODE_NOTATION_MAX = 30
TYPE_NAME_MAX = 100
SUBJECT_MAX = 500
FILE_NAME_MAX = stored_files.FILE_NAME_MAX
# The width of the database column: a longer value must be refused here, not fail the insert.
CONTENT_TYPE_MAX = stored_files.CONTENT_TYPE_MAX
# Mã định danh (Decision 20/2020): digits, capitals and dots, e.g. 000.00.00.G22. The contract
# declares the same rule on RegisterIncomingDocumentRequest, for the gateway to check first.
ISSUER_CODE_PATTERN = ORGAN_ID_PATTERN
_ISSUER_CODE_RE = re.compile(ISSUER_CODE_PATTERN)
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Số: Arabic numerals ("05", "123"). The contract declares the same rule for the gateway.
CODE_NUMBER_PATTERN = r"^[0-9]+$"
_CODE_NUMBER_RE = re.compile(CODE_NUMBER_PATTERN)
# Ký hiệu: letters (Vietnamese ones too), digits, and the separators - / . & ("QĐ-UBND",
# "2020/NĐ-CP"), no spaces.
_CODE_NOTATION_RE = re.compile(r"^[^\W_](?:(?:[^\W_]|[./&-])*[^\W_])?$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class Problems(dict[str, str]):
    """Field problems gathered while checking one request: all are reported at once."""

    def text(self, name: str, value: str, limit: int, *, required: bool = True) -> None:
        if not value:
            if required:
                self[name] = "is required"
        elif CONTROL_RE.search(value):
            self[name] = "must not contain control characters"
        elif len(value) > limit:
            self[name] = f"must be at most {limit} characters"

    def day(self, name: str, value: str, *, required: bool = True) -> date | None:
        if not value:
            if required:
                self[name] = "is required"
            return None
        try:
            if len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self[name] = "must be a date written YYYY-MM-DD"
            return None

    def file(self, name: str, file: FileRef) -> None:
        if not _SHA256_RE.match(file.sha256):
            self[f"{name}.sha256"] = "must be a lower-case hex SHA-256"
        if file.size <= 0:
            self[f"{name}.size"] = "must be positive"
        if CONTROL_RE.search(file.file_name + file.content_type):
            self[name] = "names must not contain control characters"
        if len(file.file_name) > FILE_NAME_MAX:
            self[f"{name}.file_name"] = f"must be at most {FILE_NAME_MAX} characters"
        if len(file.content_type) > CONTENT_TYPE_MAX:
            self[f"{name}.content_type"] = f"must be at most {CONTENT_TYPE_MAX} characters"

    def organ_id(self, name: str, value: str, *, required: bool = True) -> None:
        self.text(name, value, ISSUER_CODE_MAX, required=required)
        if value and name not in self and not _ISSUER_CODE_RE.match(value):
            self[name] = "must be an agency identifier such as 000.00.00.G22"

    def signer(self, signer: Signer) -> Signer:
        clean = Signer(
            competence=signer.competence,
            position=signer.position.strip(),
            full_name=signer.full_name.strip(),
        )
        self.text("signer.position", clean.position, SIGNER_TEXT_MAX, required=False)
        self.text("signer.full_name", clean.full_name, SIGNER_TEXT_MAX, required=False)
        if clean.competence is not None and not clean.position:
            self["signer.position"] = "is required with a signing authority"
        return clean

    def relations(self, relations: tuple[Relation, ...]) -> tuple[Relation, ...]:
        if len(relations) > RELATIONS_MAX:
            self["relations"] = f"at most {RELATIONS_MAX}"
            return relations
        clean: list[Relation] = []
        for i, relation in enumerate(relations):
            name = f"relations[{i}]"
            r = Relation(
                kind=relation.kind,
                document_id=relation.document_id.strip(),
                identifier=relation.identifier.strip(),
                organ_id=relation.organ_id.strip(),
                code=relation.code.strip(),
                issued_date=relation.issued_date,
            )
            if r.document_id and not is_uuid(r.document_id):
                self[f"{name}.document_id"] = "must be the id of a document of this registry"
            self.text(f"{name}.identifier", r.identifier, IDENTIFIER_MAX, required=False)
            self.organ_id(f"{name}.organ_id", r.organ_id, required=False)
            self.text(f"{name}.code", r.code, RELATION_CODE_MAX, required=False)
            if not (r.document_id or r.identifier or (r.organ_id and r.code)):
                self[name] = "must name a document: its id, its identifier, or organ and số/ký hiệu"
            clean.append(r)
        return tuple(clean)

    def attachments(self, files: tuple[FileRef, ...]) -> None:
        if len(files) > ATTACHMENTS_MAX:
            self["attachments"] = f"at most {ATTACHMENTS_MAX}"
            return
        for i, file in enumerate(files):
            self.file(f"attachments[{i}]", file)

    def raise_if_any(self, reason: str) -> None:
        if self:
            raise invalid_fields(dict(self), reason=reason)


def is_sha256(value: str) -> bool:
    """A lower-case hex SHA-256, as the archive names its files."""
    return _SHA256_RE.fullmatch(value) is not None


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def check_code_number(problems: Problems, value: str) -> None:
    problems.text("code_number", value, CODE_NUMBER_MAX)
    if value and "code_number" not in problems and not _CODE_NUMBER_RE.match(value):
        problems["code_number"] = "must be the số in Arabic numerals, such as 05"


def check_code_notation(problems: Problems, value: str) -> None:
    problems.text("code_notation", value, CODE_NOTATION_MAX)
    if value and "code_notation" not in problems and not _CODE_NOTATION_RE.match(value):
        problems["code_notation"] = "must be a ký hiệu such as QĐ-UBND, without spaces"


@dataclass(frozen=True, slots=True)
class IncomingDraft:
    """What a clerk enters for an arriving document, before it has an arrival number."""

    issuer_code: str
    issuer_name: str
    code_number: str
    code_notation: str
    issued_date: str
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    file: FileRef
    received_via: ReceivedVia = ReceivedVia.ELECTRONIC
    identifier: str = ""
    signer: Signer = field(default_factory=Signer)
    relations: tuple[Relation, ...] = ()
    attachments: tuple[FileRef, ...] = ()
    page_amount: int = 0
    description: str = ""
    due_date: str = ""

    def validated(self, *, arrival_day: date) -> ValidIncoming:
        """Trims the text fields and checks every one; raises one error naming all problems.
        The document type's place in the catalogue is the service's check (it needs the data)."""
        problems = Problems()
        issuer_code = self.issuer_code.strip()
        problems.organ_id("issuer_code", issuer_code)
        issuer_name = self.issuer_name.strip()
        problems.text("issuer_name", issuer_name, ISSUER_NAME_MAX)
        code_number = self.code_number.strip()
        check_code_number(problems, code_number)
        code_notation = self.code_notation.strip()
        check_code_notation(problems, code_notation)
        document_type = self.document_type.strip()
        problems.text("document_type", document_type, TYPE_NAME_MAX)
        subject = self.subject.strip()
        problems.text("subject", subject, SUBJECT_MAX)
        issued = problems.day("issued_date", self.issued_date.strip())
        if issued is not None and issued > arrival_day:
            problems["issued_date"] = "cannot be later than the day of arrival"
        due = problems.day("due_date", self.due_date.strip(), required=False)
        identifier = self.identifier.strip()
        problems.text("identifier", identifier, IDENTIFIER_MAX, required=False)
        description = self.description.strip()
        problems.text("description", description, DESCRIPTION_MAX, required=False)
        if not 0 <= self.page_amount <= PAGE_AMOUNT_MAX:
            problems["page_amount"] = f"must be from 0 to {PAGE_AMOUNT_MAX}"
        problems.file("file", self.file)
        problems.attachments(self.attachments)
        signer = problems.signer(self.signer)
        relations = problems.relations(self.relations)
        problems.raise_if_any("INVALID_INCOMING_DOCUMENT")
        assert issued is not None
        if not identifier:
            # Mã định danh văn bản as the sender would have made it (edXML DocumentId).
            identifier = document_identifier(issuer_code, issued, f"{code_number}/{code_notation}")[
                :IDENTIFIER_MAX
            ]
        return ValidIncoming(
            issuer_code=issuer_code,
            issuer_name=issuer_name,
            code_number=code_number,
            code_notation=code_notation,
            issued_date=issued,
            document_type=document_type,
            subject=subject,
            priority=self.priority,
            secrecy=self.secrecy,
            file=self.file,
            received_via=self.received_via,
            identifier=identifier,
            signer=signer,
            relations=relations,
            attachments=self.attachments,
            page_amount=self.page_amount,
            description=description,
            due_date=due,
        )


def document_identifier(organ_id: str, issued: date, code: str) -> str:
    """Mã định danh văn bản: `OrganId,yyyy/MM/dd,số/ký hiệu` (edXML DocumentId)."""
    return f"{organ_id},{issued:%Y/%m/%d},{code}"


@dataclass(frozen=True, slots=True)
class ValidIncoming:
    """An IncomingDraft whose every field was checked."""

    issuer_code: str
    issuer_name: str
    code_number: str
    code_notation: str
    issued_date: date
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    file: FileRef
    received_via: ReceivedVia
    identifier: str
    signer: Signer
    relations: tuple[Relation, ...]
    attachments: tuple[FileRef, ...]
    page_amount: int
    description: str
    due_date: date | None


@dataclass(frozen=True, slots=True)
class IncomingDocument:
    """Văn bản đến: a registered incoming document."""

    id: str
    register_id: str
    arrival_number: int
    arrival_year: int
    arrived_at: datetime
    issuer_code: str
    issuer_name: str
    code_number: str
    code_notation: str
    issued_date: date
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    file: FileRef
    registered_by: str
    received_via: ReceivedVia = ReceivedVia.ELECTRONIC
    status: DocumentStatus = DocumentStatus.REGISTERED
    identifier: str = ""
    signer: Signer = field(default_factory=Signer)
    relations: tuple[Relation, ...] = ()
    attachments: tuple[FileRef, ...] = ()
    page_amount: int = 0
    description: str = ""
    due_date: date | None = None
    duplicates: tuple[Duplicate, ...] = ()
    # Who may read it besides the read-all roles (ADR 0009, 4): "unit:<code>", "person:<id>".
    reach: tuple[str, ...] = ()
    # Set once the agency archive keeps it: read-only from then on.
    archive: ArchiveRecord | None = None

    def require_not_archived(self) -> None:
        refuse_archived(self.id, self.archive)
