"""The rules of an outgoing document's signatures (`OutgoingDocument.with_signature`): the
leader signs the current version of a draft, the agency signs on top of it once issued, each
signature on the file the one before made, and a signature recorded twice is recorded once."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from vanban.documents.domain.model import DocumentStatus, FileRef, Priority, Signer
from vanban.documents.domain.numbering import CancelledNumber
from vanban.documents.domain.outgoing import (
    SIGNATURES_MAX,
    Issue,
    OutgoingDocument,
    Recipient,
    Signature,
    SignatureKind,
    Version,
)
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import FailedPreconditionError, InvalidArgumentError

ICT = timezone(timedelta(hours=7))
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=ICT)


def pdf(content: str) -> FileRef:
    return FileRef(
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        size=len(content),
        content_type="application/pdf",
        file_name=f"{content}.pdf",
    )


V1, V2 = pdf("v1"), pdf("v2")


def draft(*, versions: int = 1) -> OutgoingDocument:
    return OutgoingDocument(
        id="4a1f8b0e-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
        status=DocumentStatus.DRAFT,
        document_type="Quyết định",
        subject="Về việc ban hành quy chế",
        priority=Priority.NORMAL,
        secrecy=Secrecy.NONE,
        recipients=(Recipient("000.00.00.G22"),),
        signer=Signer(),
        drafting_unit="VP",
        versions=tuple(Version(n, (V1, V2)[n - 1], "cv-an", NOW) for n in range(1, versions + 1)),
        relations=(),
        created_by="cv-an",
        created_at=NOW,
    )


def issued(document: OutgoingDocument) -> OutgoingDocument:
    return document.issued(
        Issue(
            register_id="outgoing",
            year=2025,
            number=5,
            code_number="05",
            code_notation="QĐ-UBND",
            issued_date=NOW.date(),
            identifier="000.00.00.H99,2025/03/14,05/QĐ-UBND",
            issuer_code="000.00.00.H99",
            issuer_name="Ủy ban nhân dân tỉnh Demo",
            issued_at=NOW,
            issued_by="vt-lan",
        )
    )


def signature(
    id: str, kind: SignatureKind, source: FileRef, *, version: int = 1, **overrides: Any
) -> Signature:
    """A signature whose file is the source with one more revision."""
    return replace(
        Signature(
            id=id,
            version=version,
            kind=kind,
            file=pdf(f"{source.file_name}+{id}"),
            source_sha256=source.sha256,
            signed_by="ld-hung",
            signed_at=NOW,
            certificate_subject="CN=Trần Văn Hùng",
        ),
        **overrides,
    )


def signed(document: OutgoingDocument, *signatures: Signature) -> OutgoingDocument:
    for s in signatures:
        document, added = document.with_signature(s)
        assert added
    return document


def refusal(document: OutgoingDocument, s: Signature) -> str:
    with pytest.raises(FailedPreconditionError) as refused:
        document.with_signature(s)
    return refused.value.reason


LEADER = signature("leader", SignatureKind.LEADER, V1)


def test_the_leader_signs_the_current_version_of_a_draft() -> None:
    document = draft()
    assert document.signed_file is None and not document.leader_signed

    after, added = document.with_signature(LEADER)

    assert added
    assert after.signatures == (LEADER,)
    assert after.signed_file == LEADER.file
    assert after.leader_signed
    assert document.signatures == ()  # the document is a value: the original is unchanged


def test_a_signature_recorded_again_changes_nothing() -> None:
    document = signed(draft(), LEADER)

    again, added = document.with_signature(LEADER)

    assert not added
    assert again is document
    assert again.signatures == (LEADER,)


def test_a_second_leader_signs_on_the_signed_file_or_the_versions_own() -> None:
    document = signed(draft(), LEADER)
    co_signer = signature("co-signer", SignatureKind.LEADER, LEADER.file)
    assert signed(document, co_signer).signed_file == co_signer.file
    assert signed(document, signature("beside", SignatureKind.LEADER, V1)).signatures[-1].id == (
        "beside"
    )


def test_a_leader_signature_of_another_version_is_refused_as_draft_changed() -> None:
    document = draft(versions=2)
    assert refusal(document, LEADER) == "DRAFT_CHANGED"
    assert refusal(draft(), signature("ahead", SignatureKind.LEADER, V2, version=2)) == (
        "DRAFT_CHANGED"
    )


def test_a_signature_added_to_another_file_is_out_of_order() -> None:
    assert refusal(draft(), signature("x", SignatureKind.LEADER, V2)) == "SIGNATURE_OUT_OF_ORDER"
    # Once signed, a signature on an older signed file would fork the chain.
    first = signed(draft(), LEADER)
    second = signature("second", SignatureKind.LEADER, LEADER.file)
    document = signed(first, second)
    stale = signature("stale", SignatureKind.LEADER, LEADER.file)
    assert refusal(document, stale) == "SIGNATURE_OUT_OF_ORDER"


def test_the_leader_signs_only_a_draft() -> None:
    document = issued(signed(draft(), LEADER))
    late = signature("late", SignatureKind.LEADER, LEADER.file)
    assert refusal(document, late) == "DOCUMENT_NOT_DRAFT"


@pytest.mark.parametrize("kind", [SignatureKind.AGENCY, SignatureKind.AGENCY_TEXT])
def test_the_agency_signs_an_issued_document_on_top_of_the_leaders_signature(
    kind: SignatureKind,
) -> None:
    document = issued(signed(draft(), LEADER))
    agency = signature("agency", kind, LEADER.file)

    after = signed(document, agency)

    assert [s.id for s in after.signatures] == ["leader", "agency"]
    assert after.signed_file == agency.file


def test_the_agency_text_signature_goes_on_top_of_the_agency_seal() -> None:
    agency = signature("agency", SignatureKind.AGENCY, LEADER.file)
    document = signed(issued(signed(draft(), LEADER)), agency)
    text = signature("text", SignatureKind.AGENCY_TEXT, agency.file)
    assert signed(document, text).signed_file == text.file
    assert refusal(document, signature("fork", SignatureKind.AGENCY_TEXT, LEADER.file)) == (
        "SIGNATURE_OUT_OF_ORDER"
    )


def test_the_agency_does_not_sign_a_draft_even_one_the_leader_signed() -> None:
    agency = signature("agency", SignatureKind.AGENCY, LEADER.file)
    assert refusal(signed(draft(), LEADER), agency) == "DOCUMENT_NOT_ISSUED"
    assert refusal(draft(), signature("a", SignatureKind.AGENCY, V1)) == "DOCUMENT_NOT_ISSUED"


def test_the_agency_does_not_sign_a_cancelled_number() -> None:
    document = issued(signed(draft(), LEADER))
    cancelled = document.cancelled(
        CancelledNumber(
            register_id="outgoing",
            year=2025,
            number=5,
            reason="Sai thể thức",
            cancelled_by="vt-lan",
            at=NOW,
        )
    )
    agency = signature("agency", SignatureKind.AGENCY, LEADER.file)
    assert refusal(cancelled, agency) == "DOCUMENT_NOT_ISSUED"


def test_the_agency_signs_only_what_its_leader_signed() -> None:
    unsigned = issued(draft())
    assert refusal(unsigned, signature("agency", SignatureKind.AGENCY, V1)) == (
        "LEADER_SIGNATURE_REQUIRED"
    )
    # The leader signed version 1; version 2 was issued.
    old = signed(draft(), LEADER)
    revised = issued(replace(old, versions=(*old.versions, Version(2, V2, "cv-an", NOW))))
    assert revised.signed_file is None
    assert refusal(revised, signature("agency", SignatureKind.AGENCY, V2, version=2)) == (
        "LEADER_SIGNATURE_REQUIRED"
    )


def test_the_agency_signature_goes_on_the_leaders_signed_file_not_the_unsigned_one() -> None:
    document = issued(signed(draft(), LEADER))
    assert refusal(document, signature("agency", SignatureKind.AGENCY, V1)) == (
        "SIGNATURE_OUT_OF_ORDER"
    )


def test_a_document_keeps_at_most_twenty_signatures() -> None:
    document = draft()
    source = V1
    chain = []
    for n in range(SIGNATURES_MAX):
        s = signature(f"s{n}", SignatureKind.LEADER, source)
        chain.append(s)
        source = s.file
    full = signed(document, *chain)
    assert refusal(full, signature("one-more", SignatureKind.LEADER, source)) == (
        "TOO_MANY_SIGNATURES"
    )
    # A signature already recorded is still answered as recorded.
    assert full.with_signature(chain[-1]) == (full, False)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"file": replace(LEADER.file, content_type="image/png")}, "signature.file.content_type"),
        ({"file": replace(LEADER.file, sha256="X" * 64)}, "signature.file.sha256"),
        ({"file": replace(LEADER.file, size=0)}, "signature.file.size"),
        ({"source_sha256": "ab" * 31}, "signature.source_sha256"),
        ({"source_sha256": LEADER.source_sha256 + "\n"}, "signature.source_sha256"),
        ({"id": ""}, "signature.id"),
        ({"id": "x" * 65}, "signature.id"),
        ({"version": 0}, "signature.version"),
        ({"signed_by": ""}, "signature.signed_by"),
        ({"signed_at": NOW.replace(tzinfo=None)}, "signature.signed_at"),
        ({"certificate_subject": "CN=a\x00"}, "signature.certificate_subject"),
    ],
)
def test_a_malformed_signature_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        draft().with_signature(replace(LEADER, **overrides))
    assert refused.value.reason == "INVALID_SIGNATURE"
    assert [v.field for v in refused.value.violations] == [field]
