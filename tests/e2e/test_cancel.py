"""Cancelling an issued outgoing document's number (hủy số) through the gateway: the clerk gives a
reason, the number is never given again, and the register book prints it as cancelled with the
reason."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl

from tests.e2e.support import Gateway, make_pdf
from tests.e2e.test_outgoing import approve_for_issue, draft, issue

VN = ZoneInfo("Asia/Ho_Chi_Minh")
REASON = "Sai thẩm quyền ký, ban hành lại bằng văn bản khác"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cancel(gateway: Gateway, token: str, document_id: str, body: Any) -> httpx.Response:
    return gateway.http.post(
        f"/v1/outgoing-documents/{document_id}/cancel", headers=auth(token), json=body
    )


def issued(gateway: Gateway, clerk_token: str, subject: str) -> dict[str, Any]:
    drafter = gateway.token("chuyenvien")
    created = draft(gateway, drafter, make_pdf(subject), subject=subject)
    assert created.status_code == 201, created.text
    approve_for_issue(gateway, drafter, created.json()["id"])
    answer = issue(gateway, clerk_token, created.json()["id"])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_cancelled_number_is_never_reused_and_the_book_prints_its_reason(
    gateway: Gateway, clerk_token: str
) -> None:
    specialist = gateway.token("chuyenvien")
    document = issued(gateway, clerk_token, "Về việc điều động cán bộ (hủy số)")

    # Refused: someone not the clerk, and no reason; nothing changes.
    refused = cancel(gateway, specialist, document["id"], {"reason": REASON})
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_REQUIRED"
    blank = cancel(gateway, clerk_token, document["id"], {"reason": "   "})
    assert blank.status_code == 422, blank.text
    assert [e["field"] for e in blank.json()["errors"]] == ["reason"]
    missing = cancel(gateway, clerk_token, document["id"], {})
    assert missing.status_code == 422, missing.text

    cancelled = cancel(gateway, clerk_token, document["id"], {"reason": REASON})
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled"
    assert (body["number"], body["code_number"], body["identifier"]) == (
        document["number"],
        document["code_number"],
        document["identifier"],
    )
    assert (body["cancel_reason"], body["cancelled_by"]) == (REASON, document["issued_by"])
    assert body["cancelled_at"]

    read = gateway.http.get(f"/v1/outgoing-documents/{document['id']}", headers=auth(specialist))
    assert read.status_code == 200, read.text
    assert read.json()["status"] == "cancelled" and read.json()["cancel_reason"] == REASON

    again = cancel(gateway, clerk_token, document["id"], {"reason": "Lần nữa"})
    assert again.status_code == 400 and again.json()["code"] == "ALREADY_CANCELLED"
    a_draft = draft(gateway, specialist, make_pdf("Chưa ban hành"))
    not_issued = cancel(gateway, clerk_token, a_draft.json()["id"], {"reason": REASON})
    assert not_issued.status_code == 400 and not_issued.json()["code"] == "DOCUMENT_NOT_ISSUED"

    # The number stays taken: the next issue takes the one after it.
    following = issued(gateway, clerk_token, "Về việc điều động cán bộ (ban hành lại)")
    assert following["number"] > document["number"]
    assert following["register_id"] == document["register_id"]

    today = datetime.now(VN).date().isoformat()
    book = gateway.http.get(
        f"/v1/registers/{document['register_id']}/book",
        params={"from": today, "to": today, "format": "xlsx"},
        headers=auth(clerk_token),
    )
    assert book.status_code == 200, book.text
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True) if r and r[0]}
    code = f"{document['code_number']}/{document['code_notation']}"
    assert rows[code][-1] == f"Đã hủy số: {REASON}"
    reissued = f"{following['code_number']}/{following['code_notation']}"
    assert not str(rows[reissued][-1] or "").startswith("Đã hủy số")
