"""Bodies of digital signatures (chữ ký số): signing outgoing documents, validating any PDF's
signatures, and the agency's certificates (chứng thư số)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vanban.gateway.api.schemas.approvals import ApprovalOut
from vanban.gateway.api.schemas.documents import FileOut

# The contract's enums by their API names (`convert.signing` derives the tables from the
# descriptors; a test holds these lists to them).
SignatureKindName = Literal["leader", "agency", "agency_text"]
PadesLevelName = Literal["b-b", "b-t", "b-lt", "b-lta"]
CertificateRoleName = Literal["trust_root", "organisation", "person", "timestamping"]
CertificateStatusName = Literal["valid", "expired", "not_yet_valid", "revoked"]

T = TypeVar("T")

# One request signs at most this many documents with the agency signature (the contract's).
AGENCY_BATCH_MAX = 20
# A PKCS#12 password, as long as anyone types one.
PASSWORD_MAX = 1024


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignOutgoingIn(_Body):
    kind: Literal["leader", "agency"] = Field(
        default="leader",
        description="leader: the signer's signature at the draft's sign step (chữ ký của người "
        "có thẩm quyền); agency: the clerk's agency signature on an issued document that "
        "carries the leader's (chữ ký số của cơ quan)",
    )
    comment: str = Field(default="", max_length=2000, description="leader only")
    on_behalf_of: UUID | None = Field(
        default=None,
        description="leader only: the leader whose delegation (scope sign) you act under",
    )
    expected_version: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="leader only: the draft's version you read and sign",
    )

    @field_validator("comment", "on_behalf_of", "expected_version")
    @classmethod
    def _leader_only(cls, value: T, info: ValidationInfo) -> T:
        # `kind` comes first, so it is validated by now (absent: it was not valid itself).
        if info.data.get("kind") == "agency" and value not in ("", None):
            raise ValueError("only with kind leader")
        return value


class CertificateInfoOut(BaseModel):
    subject: str = Field(description='e.g. "CN=Nguyễn Văn An, O=Ủy ban nhân dân tỉnh Demo"')
    issuer: str
    serial_number: str
    not_before: datetime | None
    not_after: datetime | None
    sha256: str = Field(description="Lower-case hex SHA-256 of the DER certificate")


class SignatureOut(BaseModel):
    id: str
    document_id: str
    version: int = Field(description="The document version whose file was signed")
    kind: SignatureKindName
    level: PadesLevelName | None = Field(description="PAdES baseline level")
    signed_by: str = Field(
        description='The person who signed or asked for the signature; "service:signing" when '
        "it was made automatically"
    )
    certificate_subject: str
    certificate_sha256: str
    signed_at: datetime | None
    file: FileOut | None = Field(description="The PDF as it is after this signature")
    field_name: str = Field(description="The signature's field in the PDF")
    source_sha256: str = Field(
        description="The file the signature was added to (its bytes are the signed file's prefix)"
    )


class SignedOut(BaseModel):
    signature: SignatureOut
    approval: ApprovalOut | None = Field(
        description="leader: the approval, passed with the signature; agency: null"
    )


class AgencySignaturesIn(_Body):
    document_ids: list[UUID] = Field(
        min_length=1,
        max_length=AGENCY_BATCH_MAX,
        description=f"Issued documents, at most {AGENCY_BATCH_MAX}, each once",
    )

    @field_validator("document_ids")
    @classmethod
    def _each_once(cls, ids: list[UUID]) -> list[UUID]:
        if len(set(ids)) != len(ids):
            raise ValueError("each document at most once")
        return ids


class AgencySignatureResultOut(BaseModel):
    document_id: str
    signature: SignatureOut | None = Field(description="Set when signed, now or before")
    already_signed: bool
    code: str | None = Field(
        description="Why not, when not: a problem code, e.g. LEADER_SIGNATURE_REQUIRED"
    )
    detail: str | None


class AgencySignatureResultsOut(BaseModel):
    results: list[AgencySignatureResultOut] = Field(description="One per document, in order")


class AgencySigningAttemptOut(BaseModel):
    outcome: Literal["signed", "already_signed", "refused", "failed"] = Field(
        description="refused: `code` says why (e.g. LEADER_SIGNATURE_REQUIRED); failed: tried "
        "again later"
    )
    code: str | None
    detail: str | None
    attempted_at: datetime | None


class SignaturesOut(BaseModel):
    signatures: list[SignatureOut] = Field(description="Oldest first")
    automatic_agency_signature: AgencySigningAttemptOut | None = Field(
        description="The last attempt at the agency signature made automatically at issue"
    )


class SignatureReportOut(BaseModel):
    field_name: str
    signer: CertificateInfoOut | None = Field(
        description="null when the signature could not be read"
    )
    chain: list[CertificateInfoOut] = Field(
        description="From the signer to the trust root, signer first, when one was found"
    )
    intact: bool = Field(description="The bytes it covers are unchanged")
    valid: bool = Field(description="The cryptographic signature verifies")
    trusted: bool = Field(description="The chain ends at one of the agency's trust roots")
    trust_problem: str | None = Field(description="e.g. NO_CERTIFICATE_CHAIN_FOUND")
    signing_time: datetime | None = Field(description="The time the signer claimed")
    has_timestamp: bool
    timestamp_time: datetime | None
    timestamp_valid: bool
    coverage: str | None = Field(description="entire_file, entire_revision or uncovered")
    modification_level: str | None = Field(
        description="What later revisions changed: none, lta_updates, form_filling, "
        "annotations, other"
    )
    docmdp_ok: bool = Field(description="The later revisions keep to what the signature allows")
    level: PadesLevelName | None
    summary: str = Field(description="The validator's one-word summary")
    ok: bool = Field(
        description="The one verdict: intact, valid, trusted, nothing suspicious added afterwards"
    )
    error: str | None = Field(description="Why the signature could not be read at all")
    organisation: bool = Field(description="An agency (organisation) signature, not a person's")
    trailing_data: bool = Field(
        description="Bytes after the last revision that no revision accounts for"
    )


class ValidationReportOut(BaseModel):
    id: str = Field(description="Names the report in `/v1/signatures/reports/{id}`")
    file_name: str
    file_sha256: str
    file_size: int
    signatures: list[SignatureReportOut]
    ok: bool = Field(description="Every signature is ok, and there is at least one")
    validated_at: datetime | None
    validated_by: str


class CertificateOut(BaseModel):
    id: str
    role: CertificateRoleName
    status: CertificateStatusName
    info: CertificateInfoOut
    person_id: str | None = Field(description="The person it belongs to (role person)")
    key_label: str | None = Field(description="The label of its key, when the token holds it")
    pem: str
    imported: bool = Field(description="Imported from a CA, not made by the development CA")
    created_at: datetime | None
    revoked_at: datetime | None = Field(description="Set when it was revoked")
    revocation_reason: str | None


class RevokeCertificateIn(_Body):
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Why it is revoked (e.g. lộ khóa bí mật, đã nghỉ việc)",
    )


class CertificatesOut(BaseModel):
    certificates: list[CertificateOut]
