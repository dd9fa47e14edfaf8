"""Signatures, validation reports and certificates between the REST API and the signing
contract."""

from __future__ import annotations

from vanban.contracts.signing.v1 import signing_pb2 as pb
from vanban.gateway.api.convert.common import enum_names
from vanban.gateway.api.convert.documents import file_out
from vanban.gateway.api.schemas.signing import (
    AgencySignatureResultOut,
    AgencySigningAttemptOut,
    CertificateInfoOut,
    CertificateOut,
    SignatureOut,
    SignatureReportOut,
    ValidationReportOut,
)
from vanban.platform.convert import optional_datetime

KIND_NAME = enum_names(pb.SignatureKind)
# PAdES levels as the standard writes them: B-T is "b-t".
LEVEL_NAME = {value: name.replace("_", "-") for value, name in enum_names(pb.PadesLevel).items()}
ROLE_NAME = enum_names(pb.CertificateRole)
STATUS_NAME = enum_names(pb.CertificateStatus)
# The kinds a person asks for; the text-only agency signature is the service's own.
KIND = {"leader": pb.SIGNATURE_KIND_LEADER, "agency": pb.SIGNATURE_KIND_AGENCY}


def certificate_info_out(info: pb.CertificateInfo) -> CertificateInfoOut:
    return CertificateInfoOut(
        subject=info.subject,
        issuer=info.issuer,
        serial_number=info.serial_number,
        not_before=optional_datetime(info, "not_before"),
        not_after=optional_datetime(info, "not_after"),
        sha256=info.sha256,
    )


def signature_out(signature: pb.Signature) -> SignatureOut:
    return SignatureOut(
        id=signature.id,
        document_id=signature.document_id,
        version=signature.version,
        kind=KIND_NAME[signature.kind],
        level=LEVEL_NAME.get(signature.level),
        signed_by=signature.signed_by,
        certificate_subject=signature.certificate_subject,
        certificate_sha256=signature.certificate_sha256,
        signed_at=optional_datetime(signature, "signed_at"),
        file=file_out(signature.file) if signature.HasField("file") else None,
        field_name=signature.field_name,
        source_sha256=signature.source_sha256,
    )


def agency_result_out(result: pb.DocumentSigningResult) -> AgencySignatureResultOut:
    return AgencySignatureResultOut(
        document_id=result.document_id,
        signature=signature_out(result.signature) if result.HasField("signature") else None,
        already_signed=result.already_signed,
        code=result.reason or None,
        detail=result.message or None,
    )


def _name(value: str) -> str | None:
    """A validator's enum written as a string (ENTIRE_FILE), as the API writes enums."""
    return value.lower() or None


def signature_report_out(report: pb.SignatureReport) -> SignatureReportOut:
    return SignatureReportOut(
        field_name=report.field_name,
        signer=certificate_info_out(report.signer) if report.HasField("signer") else None,
        chain=[certificate_info_out(c) for c in report.chain],
        intact=report.intact,
        valid=report.valid,
        trusted=report.trusted,
        trust_problem=report.trust_problem or None,
        signing_time=optional_datetime(report, "signing_time"),
        has_timestamp=report.has_timestamp,
        timestamp_time=optional_datetime(report, "timestamp_time"),
        timestamp_valid=report.timestamp_valid,
        coverage=_name(report.coverage),
        modification_level=_name(report.modification_level),
        docmdp_ok=report.docmdp_ok,
        level=LEVEL_NAME.get(report.level),
        summary=report.summary,
        ok=report.ok,
        error=report.error or None,
        organisation=report.organisation,
        trailing_data=report.trailing_data,
    )


def report_out(report: pb.ValidationReport) -> ValidationReportOut:
    return ValidationReportOut(
        id=report.id,
        file_name=report.file_name,
        file_sha256=report.file_sha256,
        file_size=report.file_size,
        signatures=[signature_report_out(s) for s in report.signatures],
        ok=report.ok,
        validated_at=optional_datetime(report, "validated_at"),
        validated_by=report.validated_by,
    )


def certificate_out(certificate: pb.Certificate) -> CertificateOut:
    return CertificateOut(
        id=certificate.id,
        role=ROLE_NAME[certificate.role],
        status=STATUS_NAME[certificate.status],
        info=certificate_info_out(certificate.info),
        person_id=certificate.person_id or None,
        key_label=certificate.key_label or None,
        pem=certificate.pem,
        imported=certificate.imported,
        created_at=optional_datetime(certificate, "created_at"),
        revoked_at=optional_datetime(certificate, "revoked_at"),
        revocation_reason=certificate.revocation_reason or None,
    )


def attempt_out(attempt: pb.AgencySigningAttempt) -> AgencySigningAttemptOut:
    return AgencySigningAttemptOut(
        outcome=attempt.outcome,
        code=attempt.reason or None,
        detail=attempt.message or None,
        attempted_at=optional_datetime(attempt, "attempted_at"),
    )
