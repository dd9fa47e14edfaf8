"""Records through the gateway on the running platform (issue 12): a dossier (hồ sơ) is formed
from the year's list, closed, handed over to the agency archive and exported; its files are
locked in S3 and its documents read-only; damage to stored bytes and to the audit log is
found; an old list is imported and what is past its retention is destroyed only with the
leader's approval."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import subprocess
import sys
import uuid
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
from minio.error import S3Error
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.support import Gateway, eventually, make_pdf, metadata, query
from tests.e2e.test_outgoing import approve_for_issue, draft, issue
from vanban.launcher.infra.seaweed_damage import corrupt_stored_object
from vanban.launcher.platform import Platform

pytestmark = pytest.mark.e2e


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def random_pdf(label: str) -> bytes:
    """A one-page PDF that carries 96 KiB of random pixels uncompressed: its bytes can be found
    in the S3 server's volume files (SeaweedFS keeps them as they came)."""
    pixels = Image.frombytes("RGB", (128, 256), os.urandom(128 * 256 * 3))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pageCompression=0)
    page.drawString(72, 760, label)
    page.drawImage(ImageReader(pixels), 72, 400, width=128, height=256)
    page.showPage()
    page.save()
    return buffer.getvalue()


def register(gateway: Gateway, token: str, pdf: bytes, **fields: Any) -> dict[str, Any]:
    answer = gateway.register(
        token, pdf=pdf, meta=metadata(code_number=str(uuid.uuid4().int % 10**6), **fields)
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def dossier(gateway: Gateway, token: str, dossier_id: str) -> dict[str, Any]:
    answer = gateway.http.get(f"/v1/dossiers/{dossier_id}", headers=auth(token))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def add(gateway: Gateway, token: str, dossier_id: str, document_id: str) -> httpx.Response:
    return gateway.http.post(
        f"/v1/dossiers/{dossier_id}/documents",
        headers=auth(token),
        json={"document_id": document_id},
    )


def execute_sql(platform: Platform, service: str, sql: str, **params: Any) -> None:
    """Changes a service's database behind its back (what the tamper checks must notice)."""
    agency = platform.agencies[0]

    async def run() -> None:
        engine = create_async_engine(platform.postgres.dsn(agency.database_name(service)))
        try:
            async with engine.begin() as connection:
                await connection.execute(text(sql), params)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_a_dossier_is_formed_closed_handed_over_locked_and_exported(
    gateway: Gateway, platform: Platform, clerk_token: str, tmp_path: Path
) -> None:
    clerk, archivist = clerk_token, gateway.token("luutru")
    year = date.today().year
    listed = gateway.http.get("/v1/dossier-lists", headers=auth(clerk))
    assert listed.status_code == 200, listed.text
    codes = {item["code"]: item for item in listed.json()["items"]}
    # The demo agency starts with an approved list for the year.
    assert codes["03.VP"]["retention"] == "06" and codes["03.VP"]["approved_at"]

    # Two incoming documents and one issued outgoing document.
    first = register(gateway, clerk, random_pdf("first"))
    second = register(gateway, clerk, random_pdf("second"))
    drafter = gateway.token("chuyenvien")
    drafted = draft(gateway, drafter, make_pdf("records outgoing"), subject="Hồ sơ lưu trữ")
    assert drafted.status_code == 201, drafted.text
    approve_for_issue(gateway, drafter, drafted.json()["id"])
    issued = issue(gateway, clerk, drafted.json()["id"])
    assert issued.status_code == 200, issued.text
    outgoing = issued.json()
    # The agency's signature follows the issue (signing): the document is final once it is on.
    assert eventually(
        lambda: (
            len(
                gateway.http.get(
                    f"/v1/outgoing-documents/{outgoing['id']}/signatures", headers=auth(clerk)
                ).json()["signatures"]
            )
            == 2
        )
    ), "the agency signature was not made after issue"

    opened = gateway.http.post("/v1/dossiers", headers=auth(clerk), json={"list_code": "03.VP"})
    assert opened.status_code == 201, opened.text
    dossier_id = opened.json()["id"]
    assert opened.json()["file_code"] == f"000.00.00.H99.{year}.03.VP"
    again = gateway.http.post("/v1/dossiers", headers=auth(clerk), json={"list_code": "03.VP"})
    assert again.status_code == 409 and again.json()["code"] == "DOSSIER_EXISTS"
    unknown = gateway.http.post("/v1/dossiers", headers=auth(clerk), json={"list_code": "99.XX"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "UNKNOWN_LIST_CODE"

    for document in (first, second, outgoing):
        answer = add(gateway, clerk, dossier_id, document["id"])
        assert answer.status_code == 201, answer.text
    formed = dossier(gateway, clerk, dossier_id)
    assert formed["doc_total"] == 3 and formed["page_total"] >= 3
    assert [d["document_id"] for d in formed["documents"]] == [
        first["id"],
        second["id"],
        outgoing["id"],
    ]

    closed = gateway.http.post(f"/v1/dossiers/{dossier_id}/close", headers=auth(clerk), json={})
    assert closed.status_code == 200 and closed.json()["state"] == "closed", closed.text
    late = register(gateway, clerk, make_pdf("late"))
    refused = add(gateway, clerk, dossier_id, late["id"])
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "DOSSIER_NOT_OPEN"
    assert dossier(gateway, clerk, dossier_id)["doc_total"] == 3

    # The clerk does not receive into the archive; the archivist does.
    not_theirs = gateway.http.post(f"/v1/dossiers/{dossier_id}/handover", headers=auth(clerk))
    assert not_theirs.status_code == 403, not_theirs.text
    handed = gateway.http.post(f"/v1/dossiers/{dossier_id}/handover", headers=auth(archivist))
    assert handed.status_code == 200, handed.text
    assert handed.json()["state"] == "handed_over"
    record = handed.json()["handover_record"]
    assert record["content_type"] == "application/pdf"
    # The handover record (biên bản giao nộp) names who handed over and who received, by name.
    kept_record = gateway.http.get(
        f"/v1/dossiers/{dossier_id}/handover-record", headers=auth(archivist)
    )
    assert kept_record.status_code == 200, kept_record.text
    assert hashlib.sha256(kept_record.content).hexdigest() == record["sha256"]
    text = pdfium.PdfDocument(kept_record.content)[0].get_textpage().get_text_range()
    assert "BIÊN BẢN" in text and "Đỗ Thị Lưu Trữ" in text, text

    # Deleting a locked file through S3 with the archive's own credentials is refused.
    agency = platform.agencies[0]
    own = platform.seaweed.client(platform.s3_identity_name(agency.spec))
    key = f"objects/{first['file']['sha256']}"
    versions = [
        v
        for v in own.list_objects(agency.bucket(), prefix=key, include_version=True)
        if v.object_name == key and not v.is_delete_marker
    ]
    assert versions
    for version in versions:
        with pytest.raises(S3Error) as refusal:
            own.remove_object(agency.bucket(), key, version_id=version.version_id)
        assert refusal.value.code == "AccessDenied"
    assert own.get_object_retention(agency.bucket(), key, version_id=versions[0].version_id)

    # A legal hold on demand holds every file in S3 until it is lifted.
    hold = gateway.http.post(
        f"/v1/dossiers/{dossier_id}/hold",
        headers=auth(archivist),
        json={"hold": True, "reason": "Phục vụ thanh tra"},
    )
    assert hold.status_code == 200 and hold.json()["legal_hold"], hold.text
    version = versions[0].version_id
    assert own.is_object_legal_hold_enabled(agency.bucket(), key, version_id=version)
    lifted = gateway.http.post(
        f"/v1/dossiers/{dossier_id}/hold",
        headers=auth(archivist),
        json={"hold": False, "reason": "Kết thúc thanh tra"},
    )
    assert lifted.status_code == 200 and not lifted.json()["legal_hold"], lifted.text
    assert not own.is_object_legal_hold_enabled(agency.bucket(), key, version_id=version)

    # Its documents are read-only now.
    cancel = gateway.http.post(
        f"/v1/outgoing-documents/{outgoing['id']}/cancel",
        headers=auth(clerk),
        json={"reason": "Hủy số để thử"},
    )
    assert cancel.status_code == 400 and cancel.json()["code"] == "DOCUMENT_ARCHIVED", cancel.text
    still = gateway.http.get(f"/v1/outgoing-documents/{outgoing['id']}", headers=auth(clerk))
    assert still.json()["status"] == "issued"

    # The bag validates in another process and carries exactly the registered bytes.
    exported = gateway.http.get(
        f"/v1/dossiers/{dossier_id}/export", params={"format": "bagit"}, headers=auth(archivist)
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/zip"
    assert int(exported.headers["content-length"]) == len(exported.content)
    with zipfile.ZipFile(io.BytesIO(exported.content)) as bag_zip:
        bag_zip.extractall(tmp_path)
    (bag_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    checked = subprocess.run(
        [sys.executable, "-c", "import bagit, sys; bagit.Bag(sys.argv[1]).validate()", bag_dir],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    manifest: dict[str, str] = {}
    for line in (bag_dir / "manifest-sha256.txt").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        manifest[name] = digest
    kept_outgoing = gateway.http.get(
        f"/v1/outgoing-documents/{outgoing['id']}", headers=auth(clerk)
    ).json()
    sent = (kept_outgoing.get("signed_file") or kept_outgoing["file"])["sha256"]
    registered = {first["file"]["sha256"], second["file"]["sha256"], sent}
    payload = {digest for name, digest in manifest.items() if name.startswith("data/documents/")}
    # Exactly the registered files (the issued, signed PDF of the outgoing one), nothing else.
    assert payload == registered

    as_pdf = gateway.http.get(
        f"/v1/dossiers/{dossier_id}/export", params={"format": "pdf"}, headers=auth(archivist)
    )
    assert as_pdf.status_code == 200 and as_pdf.headers["content-type"] == "application/pdf"
    pages = len(pdfium.PdfDocument(as_pdf.content))
    assert pages >= 2 + 3  # cover, list, then every document's pages


def test_damaged_bytes_and_an_edited_audit_row_are_found(
    gateway: Gateway, platform: Platform, clerk_token: str
) -> None:
    clerk, archivist = clerk_token, gateway.token("luutru")
    pdf = random_pdf("fixity")
    kept = register(gateway, clerk, pdf)
    opened = gateway.http.post("/v1/dossiers", headers=auth(clerk), json={"list_code": "04.VP"})
    assert opened.status_code == 201, opened.text
    dossier_id = opened.json()["id"]
    assert add(gateway, clerk, dossier_id, kept["id"]).status_code == 201
    healthy = gateway.http.post(f"/v1/dossiers/{dossier_id}/fixity", headers=auth(archivist))
    assert healthy.status_code == 200 and healthy.json()["ok"], healthy.text

    corrupt_stored_object(platform.seaweed.data_dir, pdf)
    damaged = gateway.http.post(f"/v1/dossiers/{dossier_id}/fixity", headers=auth(archivist))
    assert damaged.status_code == 200, damaged.text
    assert not damaged.json()["ok"]
    (bad,) = [f for f in damaged.json()["files"] if not f["ok"]]
    assert bad["sha256"] == kept["file"]["sha256"] and bad["problem"] in ("altered", "unreadable")
    assert query(
        platform,
        "archive",
        "select fixity_problem from objects where sha256 = :sha",
        sha=kept["file"]["sha256"],
    ) == [(bad["problem"],)]

    intact = gateway.http.get("/v1/audit/verify", headers=auth(archivist))
    assert intact.status_code == 200 and intact.json()["ok"], intact.text
    ((row_id, actor),) = query(
        platform,
        "archive",
        "select id, actor from audit_log where action = 'dossier.open' and resource = :resource",
        resource=f"dossiers/{dossier_id}",
    )
    edit = "update audit_log set actor = :actor where id = :id"
    execute_sql(platform, "archive", edit, id=row_id, actor="someone-else")
    try:
        broken = gateway.http.get("/v1/audit/verify", headers=auth(archivist))
        assert broken.status_code == 200, broken.text
        assert not broken.json()["ok"]
        assert broken.json()["broken"]["id"] == row_id
        assert broken.json()["broken"]["problem"] == "content altered"
    finally:
        # Put back as it was (the chain is the whole platform's): it holds again.
        execute_sql(platform, "archive", edit, id=row_id, actor=actor)
    assert gateway.http.get("/v1/audit/verify", headers=auth(archivist)).json()["ok"]
    # Nobody but an archivist or an administrator walks the chain.
    assert gateway.http.get("/v1/audit/verify", headers=auth(clerk)).status_code == 403


OLD_LIST = (
    "code,title,retention,retention_years,access,creator_unit,responsible\n"
    "01.VP,Hồ sơ chương trình công tác năm 2010,01,,01,VP,vanthu\n"
    "02.VP,Tập lưu công văn năm 2010,06,,01,VP,vanthu\n"
    "03.VP,Hồ sơ báo cáo định kỳ năm 2010,07,5,01,VP,vanthu\n"
)


def test_an_old_list_is_imported_and_what_is_past_retention_goes_only_once_approved(
    gateway: Gateway, platform: Platform, clerk_token: str
) -> None:
    clerk, archivist, leader = clerk_token, gateway.token("luutru"), gateway.token("lanhdao")

    def upload(body: str, *, dry_run: bool) -> httpx.Response:
        return gateway.http.post(
            "/v1/dossier-lists/import",
            params={"year": 2010, "dry_run": str(dry_run).lower()},
            headers=auth(archivist),
            files={"file": ("danh-muc-2010.csv", body.encode(), "text/csv")},
        )

    wrong = (
        OLD_LIST
        + "04.VP,Hồ sơ sai mã,08,,01,VP,vanthu\n"
        + "05.VP,Hồ sơ của đơn vị lạ,06,,01,KHONGCO,vanthu\n"
        + "06.VP,Hồ sơ của người lạ,06,,01,VP,khongai\n"
    )
    checked = upload(wrong, dry_run=True)
    assert checked.status_code == 200, checked.text
    assert [(p["line"], p["field"]) for p in checked.json()["problems"]] == [
        (5, "retention"),
        (6, "creator_unit"),
        (7, "responsible"),
    ]
    refused = upload(wrong, dry_run=False)
    assert refused.status_code == 422 and refused.json()["code"] == "DOSSIER_LIST_INVALID"
    assert refused.json()["problems"][0]["line"] == 5
    empty = gateway.http.get("/v1/dossier-lists", params={"year": 2010}, headers=auth(clerk))
    assert empty.json()["items"] == []

    imported = upload(OLD_LIST, dry_run=False)
    assert imported.status_code == 200 and imported.json()["added"] == 3, imported.text
    not_yet = gateway.http.post(
        "/v1/dossiers", headers=auth(clerk), json={"list_code": "02.VP", "year": 2010}
    )
    assert not_yet.status_code == 400 and not_yet.json()["code"] == "LIST_ENTRY_NOT_APPROVED"
    assert (
        gateway.http.post("/v1/dossier-lists/2010/approve", headers=auth(clerk)).status_code == 403
    )
    approved = gateway.http.post("/v1/dossier-lists/2010/approve", headers=auth(leader))
    assert approved.status_code == 200, approved.text

    dossiers: dict[str, str] = {}
    documents: dict[str, dict[str, Any]] = {}
    for code in ("01.VP", "02.VP", "03.VP"):
        opened = gateway.http.post(
            "/v1/dossiers", headers=auth(clerk), json={"list_code": code, "year": 2010}
        )
        assert opened.status_code == 201, opened.text
        dossiers[code] = opened.json()["id"]
        documents[code] = register(gateway, clerk, random_pdf(code), issued_date="2010-03-01")
        assert add(gateway, clerk, dossiers[code], documents[code]["id"]).status_code == 201
    # 03.VP's document is also in the permanent dossier: it outlives 03.VP's destruction.
    shared = documents["03.VP"]
    assert add(gateway, clerk, dossiers["01.VP"], shared["id"]).status_code == 201
    for code in ("01.VP", "02.VP", "03.VP"):
        closed = gateway.http.post(
            f"/v1/dossiers/{dossiers[code]}/close",
            headers=auth(clerk),
            json={"end_date": "2010-12-31"},
        )
        assert closed.status_code == 200, closed.text
    changed = upload(
        OLD_LIST.replace(
            "02.VP,Tập lưu công văn năm 2010,06", "02.VP,Tập lưu công văn năm 2010,04"
        ),
        dry_run=False,
    )
    assert changed.status_code == 422, changed.text
    assert [(p["line"], p["field"]) for p in changed.json()["problems"]] == [(3, "code")]
    handed = gateway.http.post(
        f"/v1/dossiers/{dossiers['02.VP']}/handover", headers=auth(archivist)
    )
    assert handed.status_code == 200, handed.text

    permanent = gateway.http.post(
        "/v1/dispositions",
        headers=auth(archivist),
        json={"reason": "Hết thời hạn bảo quản", "dossier_ids": [dossiers["01.VP"]]},
    )
    assert permanent.status_code == 400 and permanent.json()["code"] == "NOT_DISPOSABLE"
    proposed = gateway.http.post(
        "/v1/dispositions", headers=auth(archivist), json={"reason": "Hết thời hạn bảo quản"}
    )
    assert proposed.status_code == 201, proposed.text
    disposition_id = proposed.json()["id"]
    going = {dossiers["02.VP"], dossiers["03.VP"]}
    assert {i["dossier_id"] for i in proposed.json()["items"]} == going

    twice = gateway.http.post(
        "/v1/dispositions",
        headers=auth(archivist),
        json={"reason": "Đề xuất lần hai", "dossier_ids": [dossiers["02.VP"]]},
    )
    assert twice.status_code == 400 and twice.json()["code"] == "NOT_DISPOSABLE", twice.text
    plan = gateway.http.get(f"/v1/dispositions/{disposition_id}/dry-run", headers=auth(archivist))
    assert plan.status_code == 200, plan.text
    assert {i["dossier_id"] for i in plan.json()["items"]} == going
    # Only 02.VP's document goes: 03.VP's is still held by the permanent dossier.
    assert plan.json()["document_ids"] == [documents["02.VP"]["id"]]
    files = {f["sha256"]: f["kept"] for f in plan.json()["files"]}
    doomed = {sha for sha, kept in files.items() if not kept}
    assert documents["02.VP"]["file"]["sha256"] in doomed
    assert files.get(shared["file"]["sha256"], True) is True  # listed as kept, or not at all
    assert documents["01.VP"]["file"]["sha256"] not in doomed

    early = gateway.http.post(f"/v1/dispositions/{disposition_id}/execute", headers=auth(archivist))
    assert early.status_code == 400 and early.json()["code"] == "DISPOSITION_NOT_APPROVED"
    agency = platform.agencies[0]
    client = platform.seaweed.client()

    def held(sha256: str) -> int:
        key = f"objects/{sha256}"
        return sum(
            1
            for v in client.list_objects(agency.bucket(), prefix=key, include_version=True)
            if v.object_name == key and not v.is_delete_marker
        )

    assert all(held(sha) for sha in doomed)

    decided = gateway.http.post(
        f"/v1/dispositions/{disposition_id}/approve", headers=auth(leader), json={}
    )
    assert decided.status_code == 200 and decided.json()["state"] == "approved", decided.text
    done = gateway.http.post(f"/v1/dispositions/{disposition_id}/execute", headers=auth(archivist))
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "executed" and done.json()["record"]["sha256"]
    assert not any(held(sha) for sha in doomed)
    assert held(documents["01.VP"]["file"]["sha256"]) and held(shared["file"]["sha256"])
    assert dossier(gateway, archivist, dossiers["02.VP"])["state"] == "disposed"
    assert dossier(gateway, archivist, dossiers["03.VP"])["state"] == "disposed"
    gone = gateway.http.get(
        f"/v1/incoming-documents/{documents['02.VP']['id']}", headers=auth(clerk)
    ).json()
    assert gone["archive"]["destroyed_at"], gone
    download = gateway.http.get(
        f"/v1/incoming-documents/{documents['02.VP']['id']}/file", headers=auth(clerk)
    )
    assert download.status_code == 404 and download.json()["code"] == "OBJECT_DESTROYED"
    alive = gateway.http.get(f"/v1/incoming-documents/{shared['id']}", headers=auth(clerk)).json()
    assert alive["archive"] is None or not alive["archive"]["destroyed_at"], alive
    assert dossier(gateway, archivist, dossiers["01.VP"])["state"] == "closed"
