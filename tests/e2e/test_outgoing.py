"""Outgoing documents through the gateway: a specialist drafts, revises; the clerk issues; the
number, date and identifier come at issue and lock the draft."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.support import (
    Gateway,
    archive_holds,
    archive_was_asked,
    eventually,
    make_pdf,
    query,
)
from vanban.launcher.platform import Platform

RECIPIENT = "000.00.00.G22"


def draft_metadata(**overrides: Any) -> dict[str, Any]:
    meta = {
        "document_type": "Quyết định",
        "subject": "Về việc ban hành quy chế làm việc của Văn phòng",
        "priority": "urgent",
        "secrecy": "none",
        "recipients": [{"organ_id": RECIPIENT, "organ_name": "Văn phòng Chính phủ"}],
        "drafting_unit": "VP",
        "signer": {"competence": "kt", "position": "Phó Chủ tịch", "full_name": "Trần Văn B"},
    }
    meta.update(overrides)
    return meta


def draft(gateway: Gateway, token: str, pdf: bytes, **overrides: Any) -> httpx.Response:
    return gateway.http.post(
        "/v1/outgoing-documents",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("du-thao.pdf", pdf, "application/pdf")},
        data={"metadata": json.dumps(draft_metadata(**overrides))},
    )


def add_version(
    gateway: Gateway, token: str, document_id: str, pdf: bytes, **meta: Any
) -> httpx.Response:
    return gateway.http.post(
        f"/v1/outgoing-documents/{document_id}/versions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("du-thao-2.pdf", pdf, "application/pdf")},
        data={"metadata": json.dumps(meta)} if meta else {},
    )


def approve_for_issue(gateway: Gateway, drafter: str, document_id: str) -> None:
    """The demo agencies' shortest chain: the drafter submits to the leader, who signs."""
    leader = gateway.token("lanhdao")
    me = gateway.http.get("/v1/me", headers={"Authorization": f"Bearer {leader}"}).json()
    submitted = gateway.http.post(
        f"/v1/outgoing-documents/{document_id}/submit",
        headers={"Authorization": f"Bearer {drafter}"},
        json={"signer_id": me["id"]},
    )
    assert submitted.status_code == 200, submitted.text
    signed = gateway.http.post(
        f"/v1/outgoing-documents/{document_id}/sign",
        headers={"Authorization": f"Bearer {leader}"},
    )
    assert signed.status_code == 200 and signed.json()["approval"]["state"] == "approved", (
        signed.text
    )


def issue(gateway: Gateway, token: str, document_id: str, **body: Any) -> httpx.Response:
    return gateway.http.post(
        f"/v1/outgoing-documents/{document_id}/issue",
        headers={"Authorization": f"Bearer {token}"},
        json=body or None,
    )


def test_a_draft_is_revised_then_issued_with_number_date_and_identifier_and_locked(
    gateway: Gateway, platform: Platform, clerk_token: str
) -> None:
    specialist = gateway.token("chuyenvien")
    first, second = make_pdf("Du thao lan 1"), make_pdf("Du thao lan 2")

    created = draft(gateway, specialist, first)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["status"] == "draft"
    assert (document["code_number"], document["issued_date"], document["identifier"]) == (
        None,
        None,
        None,
    )
    assert created.headers["Location"] == f"/v1/outgoing-documents/{document['id']}"
    # Its text is extracted for search after the answer (digitization), never before it.
    assert document["digitization"]["state"] == "queued"

    revised = add_version(
        gateway, specialist, document["id"], second, note="Sửa theo ý kiến", expected_version=1
    )
    assert revised.status_code == 201, revised.text
    assert [v["version"] for v in revised.json()["versions"]] == [1, 2]
    assert [v["file"]["sha256"] for v in revised.json()["versions"]] == [
        hashlib.sha256(first).hexdigest(),
        hashlib.sha256(second).hexdigest(),
    ]

    stale = issue(gateway, clerk_token, document["id"], expected_version=1)
    assert stale.status_code == 409, stale.text
    assert stale.json()["code"] == "VERSION_CONFLICT"
    assert issue(gateway, specialist, document["id"]).status_code == 403
    # Numbered only once it passed its approval chain.
    unapproved = issue(gateway, clerk_token, document["id"], expected_version=2)
    assert unapproved.status_code == 400 and unapproved.json()["code"] == "NOT_APPROVED"
    approve_for_issue(gateway, specialist, document["id"])

    issued = issue(gateway, clerk_token, document["id"], expected_version=2)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    assert body["status"] == "issued"
    assert body["code_notation"] == "QĐ-UBND"
    assert body["code_number"] == f"{body['number']:02d}"
    assert body["issued_date"] == today.isoformat()
    agency = platform.agencies[0].spec.code
    assert body["identifier"] == (f"{agency},{today:%Y/%m/%d},{body['code_number']}/QĐ-UBND")

    # Locked: no version and no second issue.
    late = add_version(gateway, specialist, document["id"], make_pdf("Du thao lan 3"))
    assert late.status_code == 400 and late.json()["code"] == "DOCUMENT_NOT_DRAFT"
    again = issue(gateway, clerk_token, document["id"])
    assert again.status_code == 400 and again.json()["code"] == "DOCUMENT_NOT_DRAFT"

    # The current file is the second version's, and both versions' files are kept for good.
    download = gateway.http.get(
        f"/v1/outgoing-documents/{document['id']}/file",
        headers={"Authorization": f"Bearer {specialist}"},
    )
    assert download.status_code == 200 and download.content == second

    def claimed_at(data: bytes) -> Any:
        rows = query(
            platform,
            "archive",
            "select claimed_at from objects where sha256 = :sha",
            sha=hashlib.sha256(data).hexdigest(),
        )
        return rows and rows[0][0]

    for data in (first, second):
        claimed = eventually(functools.partial(claimed_at, data))
        assert claimed, "a draft's version file must be claimed, or the sweeper deletes it"


def test_a_cong_van_has_no_type_abbreviation_in_its_ky_hieu(
    gateway: Gateway, clerk_token: str
) -> None:
    specialist = gateway.token("chuyenvien")
    created = draft(gateway, specialist, make_pdf(), document_type="Công văn")
    assert created.status_code == 201, created.text
    approve_for_issue(gateway, specialist, created.json()["id"])

    issued = issue(gateway, clerk_token, created.json()["id"])

    assert issued.status_code == 200, issued.text
    assert issued.json()["code_notation"] == "UBND-VP"


def test_a_draft_is_seen_by_its_author_and_the_clerk_and_not_by_others(
    gateway: Gateway, clerk_token: str
) -> None:
    specialist = gateway.token("chuyenvien")
    # A specialist drafts for their own unit only.
    elsewhere = draft(gateway, specialist, make_pdf(), drafting_unit="PTH")
    assert elsewhere.status_code == 400, elsewhere.text
    assert [e["field"] for e in elsewhere.json()["errors"]] == ["drafting_unit"]
    created = draft(gateway, specialist, make_pdf(), drafting_unit="")
    assert created.status_code == 201, created.text
    assert created.json()["drafting_unit"] == "VP"
    document_id = created.json()["id"]

    # The author and their unit see the draft; the clerk reads every document; the
    # administrator (VP too, but without a drafting role) sees it through the unit as well,
    # while a leader of no unit is a registry reader.
    admin = gateway.token("quantri")
    for token, status in ((specialist, 200), (clerk_token, 200), (admin, 200)):
        seen = gateway.http.get(
            f"/v1/outgoing-documents/{document_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert seen.status_code == status, seen.text

    # The clerk drafts for any unit: a draft of Phòng Tổng hợp is not Văn phòng's to read.
    other = draft(gateway, clerk_token, make_pdf(), drafting_unit="PTH")
    assert other.status_code == 201, other.text
    for token, status in ((specialist, 404), (admin, 404), (clerk_token, 200)):
        seen = gateway.http.get(
            f"/v1/outgoing-documents/{other.json()['id']}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert seen.status_code == status, seen.text


def test_a_refused_draft_is_named_and_keeps_nothing(gateway: Gateway, platform: Platform) -> None:
    specialist = gateway.token("chuyenvien")
    subject = f"Dự thảo bị từ chối {uuid.uuid4()}"
    pdfs = [make_pdf(f"Du thao tu choi {i} {uuid.uuid4()}") for i in range(5)]

    empty = draft(gateway, specialist, pdfs[0], subject=subject, recipients=[])
    bad = draft(
        gateway, specialist, pdfs[1], subject=subject, recipients=[{"organ_id": "not an id"}]
    )
    unknown_type = draft(gateway, specialist, pdfs[2], subject=subject, document_type="Thư riêng")
    other_unit = draft(gateway, specialist, pdfs[3], subject=subject, drafting_unit="PTH")
    admin = draft(gateway, gateway.token("quantri"), pdfs[4], subject=subject)

    assert empty.status_code == 400 and [e["field"] for e in empty.json()["errors"]] == [
        "metadata.recipients"
    ]
    assert bad.status_code == 400 and [e["field"] for e in bad.json()["errors"]] == [
        "metadata.recipients[0].organ_id"
    ]
    assert unknown_type.status_code == 400, unknown_type.text
    assert [e["field"] for e in unknown_type.json()["errors"]] == ["document_type"]
    assert other_unit.status_code == 400, other_unit.text
    assert [e["field"] for e in other_unit.json()["errors"]] == ["drafting_unit"]
    assert admin.status_code == 403 and admin.json()["code"] == "ROLE_REQUIRED"
    assert not query(platform, "documents", "select 1 from documents where subject = :s", s=subject)
    # What the gateway can judge never reaches the archive; the unknown type (the documents
    # service's catalogue decides) was stored, then given back at once: no bytes are left.
    for data in (pdfs[0], pdfs[1], pdfs[3], pdfs[4]):
        assert not archive_was_asked(platform, data)
    assert archive_holds(platform, pdfs[2]) == (False, 0)
