"""The signing service's domain and records as protobuf, and back."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives import serialization
from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.signing.v1 import signing_pb2 as pb
from vanban.platform.convert import from_timestamp, to_timestamp
from vanban.signing.domain.certificates import Role, Status, StoredCertificate
from vanban.signing.domain.model import (
    CertificateSummary,
    PadesLevel,
    SignatureCheck,
    ValidationResult,
)

_LEVEL_TO_PB = {
    PadesLevel.B_B: pb.PADES_LEVEL_B_B,
    PadesLevel.B_T: pb.PADES_LEVEL_B_T,
    PadesLevel.B_LT: pb.PADES_LEVEL_B_LT,
    PadesLevel.B_LTA: pb.PADES_LEVEL_B_LTA,
}
_LEVEL_FROM_PB = {v: k for k, v in _LEVEL_TO_PB.items()}
_ROLE_TO_PB = {
    Role.TRUST_ROOT: pb.CERTIFICATE_ROLE_TRUST_ROOT,
    Role.ORGANISATION: pb.CERTIFICATE_ROLE_ORGANISATION,
    Role.PERSON: pb.CERTIFICATE_ROLE_PERSON,
    Role.TIMESTAMPING: pb.CERTIFICATE_ROLE_TIMESTAMPING,
}
_STATUS_TO_PB = {
    Status.VALID: pb.CERTIFICATE_STATUS_VALID,
    Status.EXPIRED: pb.CERTIFICATE_STATUS_EXPIRED,
    Status.NOT_YET_VALID: pb.CERTIFICATE_STATUS_NOT_YET_VALID,
    Status.REVOKED: pb.CERTIFICATE_STATUS_REVOKED,
}


def ts(moment: datetime | None) -> Timestamp | None:
    """An optional time (unset in the message when None)."""
    return to_timestamp(moment) if moment is not None else None


def _dt(stamp: Timestamp, present: bool) -> datetime | None:
    return from_timestamp(stamp) if present else None


def certificate_info_to_pb(summary: CertificateSummary) -> pb.CertificateInfo:
    return pb.CertificateInfo(
        subject=summary.subject,
        issuer=summary.issuer,
        serial_number=summary.serial_number,
        not_before=ts(summary.not_before),
        not_after=ts(summary.not_after),
        sha256=summary.sha256,
        organization_identifier=summary.organization_identifier,
        issuer_organization_identifier=summary.issuer_organization_identifier,
    )


def certificate_info_from_pb(info: pb.CertificateInfo) -> CertificateSummary:
    return CertificateSummary(
        subject=info.subject,
        issuer=info.issuer,
        serial_number=info.serial_number,
        not_before=from_timestamp(info.not_before),
        not_after=from_timestamp(info.not_after),
        sha256=info.sha256,
        organization_identifier=info.organization_identifier,
        issuer_organization_identifier=info.issuer_organization_identifier,
    )


def check_to_pb(check: SignatureCheck) -> pb.SignatureReport:
    return pb.SignatureReport(
        field_name=check.field_name,
        signer=certificate_info_to_pb(check.signer) if check.signer else None,
        chain=[certificate_info_to_pb(c) for c in check.chain],
        intact=check.intact,
        valid=check.valid,
        trusted=check.trusted,
        trust_problem=check.trust_problem,
        signing_time=ts(check.signing_time),
        has_timestamp=check.has_timestamp,
        timestamp_time=ts(check.timestamp_time),
        timestamp_valid=check.timestamp_valid,
        coverage=check.coverage,
        modification_level=check.modification_level,
        docmdp_ok=check.docmdp_ok,
        level=_LEVEL_TO_PB[check.level] if check.level else pb.PADES_LEVEL_UNSPECIFIED,
        summary=check.summary,
        ok=check.ok,
        error=check.error,
        organisation=check.organisation,
        trailing_data=check.trailing_data,
    )


def check_from_pb(report: pb.SignatureReport) -> SignatureCheck:
    return SignatureCheck(
        field_name=report.field_name,
        signer=certificate_info_from_pb(report.signer) if report.HasField("signer") else None,
        chain=tuple(certificate_info_from_pb(c) for c in report.chain),
        intact=report.intact,
        valid=report.valid,
        trusted=report.trusted,
        trust_problem=report.trust_problem,
        signing_time=_dt(report.signing_time, report.HasField("signing_time")),
        has_timestamp=report.has_timestamp,
        timestamp_time=_dt(report.timestamp_time, report.HasField("timestamp_time")),
        timestamp_valid=report.timestamp_valid,
        coverage=report.coverage,
        modification_level=report.modification_level,
        docmdp_ok=report.docmdp_ok,
        level=_LEVEL_FROM_PB.get(report.level),
        summary=report.summary,
        ok=report.ok,
        error=report.error,
        organisation=report.organisation,
        trailing_data=report.trailing_data,
    )


def report_to_pb(
    report_id: str,
    result: ValidationResult,
    *,
    file_name: str,
    validated_at: datetime,
    validated_by: str,
) -> pb.ValidationReport:
    return pb.ValidationReport(
        id=report_id,
        file_name=file_name,
        file_sha256=result.file_sha256,
        file_size=result.file_size,
        signatures=[check_to_pb(c) for c in result.signatures],
        ok=result.ok,
        validated_at=ts(validated_at),
        validated_by=validated_by,
    )


def result_from_pb(report: pb.ValidationReport) -> ValidationResult:
    return ValidationResult(
        file_sha256=report.file_sha256,
        file_size=report.file_size,
        signatures=tuple(check_from_pb(s) for s in report.signatures),
    )


def certificate_to_pb(stored: StoredCertificate, *, now: datetime) -> pb.Certificate:
    c = stored.certificate
    return pb.Certificate(
        id=stored.id,
        role=_ROLE_TO_PB[stored.role],
        info=pb.CertificateInfo(
            subject=c.subject.rfc4514_string(),
            issuer=c.issuer.rfc4514_string(),
            serial_number=format(c.serial_number, "x"),
            not_before=ts(c.not_valid_before_utc),
            not_after=ts(c.not_valid_after_utc),
            sha256=stored.sha256,
        ),
        status=_STATUS_TO_PB[stored.status(now)],
        person_id=stored.person_id or "",
        key_label=stored.key_label or "",
        pem=c.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        created_at=ts(stored.created_at),
        imported=stored.imported,
        revoked_at=ts(stored.revoked_at),
        revocation_reason=stored.revocation_reason or "",
    )
