"""Signatures, validation reports and certificates as the API writes them: the contract's enums
as lower-case names, timestamps as ISO 8601 in UTC, and what was not set as null."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, get_args

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.signing.v1 import signing_pb2 as pb
from vanban.gateway.api.convert.signing import (
    KIND,
    KIND_NAME,
    LEVEL_NAME,
    ROLE_NAME,
    STATUS_NAME,
    agency_result_out,
    certificate_out,
    report_out,
    signature_out,
)
from vanban.gateway.api.schemas.signing import (
    CertificateRoleName,
    CertificateStatusName,
    PadesLevelName,
    SignatureKindName,
    SignOutgoingIn,
)

SIGNED_AT = datetime(2026, 11, 2, 3, 4, 5, 678000, tzinfo=UTC)


def stamp(when: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(when)
    return value


def as_json(model: Any) -> dict[str, Any]:
    """The body a client receives."""
    body: dict[str, Any] = json.loads(model.model_dump_json())
    return body


def make_signature(**overrides: Any) -> pb.Signature:
    fields: dict[str, Any] = {
        "id": "0197a3c2-0000-7000-8000-000000000001",
        "document_id": "0197a3c2-0000-7000-8000-0000000000d0",
        "version": 2,
        "kind": pb.SIGNATURE_KIND_LEADER,
        "level": pb.PADES_LEVEL_B_T,
        "signed_by": "0197a3c2-0000-7000-8000-0000000000aa",
        "certificate_subject": "CN=Nguyễn Văn An, O=Ủy ban nhân dân tỉnh Demo",
        "certificate_sha256": "ab" * 32,
        "signed_at": stamp(SIGNED_AT),
        "file": docs.FileRef(
            sha256="cd" * 32, size=1234, content_type="application/pdf", file_name="qd-05.pdf"
        ),
        "field_name": "Signature1",
        "source_sha256": "ef" * 32,
    }
    fields.update(overrides)
    return pb.Signature(**fields)


def make_info(subject: str = "CN=Nguyễn Văn An") -> pb.CertificateInfo:
    return pb.CertificateInfo(
        subject=subject,
        issuer="CN=Vanban Demo CA",
        serial_number="1a2b",
        not_before=stamp(datetime(2026, 1, 1, tzinfo=UTC)),
        not_after=stamp(datetime(2028, 1, 1, tzinfo=UTC)),
        sha256="12" * 32,
    )


def test_the_api_names_of_the_enums_are_the_contracts_no_more_no_fewer() -> None:
    assert set(get_args(SignatureKindName)) == set(KIND_NAME.values())
    assert set(get_args(PadesLevelName)) == set(LEVEL_NAME.values())
    assert set(get_args(CertificateRoleName)) == set(ROLE_NAME.values())
    assert set(get_args(CertificateStatusName)) == set(STATUS_NAME.values())
    # Every kind a person may ask for is one the contract has.
    assert set(get_args(SignOutgoingIn.model_fields["kind"].annotation)) == KIND.keys()


def test_a_signature_names_its_kind_and_level_and_dates_in_iso_8601() -> None:
    body = as_json(signature_out(make_signature()))

    assert body["kind"] == "leader"
    assert body["level"] == "b-t"
    assert body["signed_at"] == "2026-11-02T03:04:05.678000Z"
    assert datetime.fromisoformat(body["signed_at"]) == SIGNED_AT
    assert body["file"] == {
        "sha256": "cd" * 32,
        "size": 1234,
        "content_type": "application/pdf",
        "file_name": "qd-05.pdf",
    }
    assert body["version"] == 2


def test_every_pades_level_is_written_as_the_standard_writes_it() -> None:
    written = {
        level: signature_out(make_signature(level=level)).level
        for level in (
            pb.PADES_LEVEL_B_B,
            pb.PADES_LEVEL_B_T,
            pb.PADES_LEVEL_B_LT,
            pb.PADES_LEVEL_B_LTA,
        )
    }

    assert list(written.values()) == ["b-b", "b-t", "b-lt", "b-lta"]


def test_what_a_signature_does_not_carry_is_null() -> None:
    bare = pb.Signature(id="s", document_id="d", kind=pb.SIGNATURE_KIND_AGENCY)

    body = as_json(signature_out(bare))

    assert body["kind"] == "agency"
    assert body["level"] is None
    assert body["signed_at"] is None
    assert body["file"] is None


def test_a_documents_agency_signing_result_says_why_not_when_not() -> None:
    refused = pb.DocumentSigningResult(
        document_id="d1",
        reason="LEADER_SIGNATURE_REQUIRED",
        message="the leader has not signed this document",
    )
    before = pb.DocumentSigningResult(
        document_id="d2",
        signature=make_signature(kind=pb.SIGNATURE_KIND_AGENCY),
        already_signed=True,
    )

    assert as_json(agency_result_out(refused)) == {
        "document_id": "d1",
        "signature": None,
        "already_signed": False,
        "code": "LEADER_SIGNATURE_REQUIRED",
        "detail": "the leader has not signed this document",
    }
    signed = as_json(agency_result_out(before))
    assert signed["already_signed"] is True
    assert signed["signature"]["kind"] == "agency"
    assert signed["code"] is None and signed["detail"] is None


def test_a_validation_report_keeps_every_finding_and_writes_enums_in_lower_case() -> None:
    report = pb.ValidationReport(
        id="r1",
        file_name="qd-05.pdf",
        file_sha256="cd" * 32,
        file_size=1234,
        ok=False,
        validated_at=stamp(SIGNED_AT),
        validated_by="0197a3c2-0000-7000-8000-0000000000aa",
        signatures=[
            pb.SignatureReport(
                field_name="Signature1",
                signer=make_info(),
                chain=[make_info(), make_info("CN=Vanban Demo CA")],
                intact=True,
                valid=True,
                trusted=True,
                signing_time=stamp(SIGNED_AT),
                has_timestamp=True,
                timestamp_time=stamp(SIGNED_AT),
                timestamp_valid=True,
                coverage="ENTIRE_REVISION",
                modification_level="FORM_FILLING",
                docmdp_ok=True,
                level=pb.PADES_LEVEL_B_LTA,
                summary="INTACT:TRUSTED,UNTOUCHED",
                ok=True,
                trailing_data=True,
            ),
            # A damaged signature: a finding, with nothing else known of it.
            pb.SignatureReport(field_name="Signature2", error="the CMS cannot be parsed"),
        ],
    )

    body = as_json(report_out(report))

    assert body["validated_at"] == "2026-11-02T03:04:05.678000Z"
    assert body["ok"] is False
    good, broken = body["signatures"]
    assert good["coverage"] == "entire_revision"
    assert good["modification_level"] == "form_filling"
    assert good["level"] == "b-lta"
    assert good["summary"] == "INTACT:TRUSTED,UNTOUCHED"
    assert good["signer"]["not_after"] == "2028-01-01T00:00:00Z"
    assert [c["subject"] for c in good["chain"]] == ["CN=Nguyễn Văn An", "CN=Vanban Demo CA"]
    assert good["trailing_data"] is True and good["trust_problem"] is None
    assert broken["error"] == "the CMS cannot be parsed"
    assert broken["signer"] is None
    assert broken["chain"] == []
    assert broken["signing_time"] is None and broken["timestamp_time"] is None
    assert broken["coverage"] is None and broken["level"] is None
    assert broken["ok"] is False


def test_a_certificate_names_its_role_and_status() -> None:
    certificate = pb.Certificate(
        id="c1",
        role=pb.CERTIFICATE_ROLE_TRUST_ROOT,
        status=pb.CERTIFICATE_STATUS_NOT_YET_VALID,
        info=make_info("CN=Vanban Demo CA"),
        pem="-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
        created_at=stamp(SIGNED_AT),
        imported=True,
    )

    body = as_json(certificate_out(certificate))

    assert body["role"] == "trust_root"
    assert body["status"] == "not_yet_valid"
    assert body["person_id"] is None and body["key_label"] is None
    assert body["imported"] is True
    assert body["created_at"] == "2026-11-02T03:04:05.678000Z"
    assert body["info"]["not_before"] == "2026-01-01T00:00:00Z"
    person = certificate_out(
        pb.Certificate(
            role=pb.CERTIFICATE_ROLE_PERSON,
            status=pb.CERTIFICATE_STATUS_REVOKED,
            person_id="p1",
            key_label="person-p1",
        )
    )
    assert (person.role, person.status, person.person_id, person.key_label) == (
        "person",
        "revoked",
        "p1",
        "person-p1",
    )
