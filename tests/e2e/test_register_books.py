"""Register books downloaded through the gateway of the whole platform, as a clerk prints the
sổ đến of a year: the file opens, holds the documents in number order and the cancelled number
with its reason; and who may not print one learns nothing."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pypdfium2
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.support import Gateway
from vanban.launcher.platform import DEMO_AGENCY_NAME, Platform

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# A past year nothing else in the suite registers in.
YEAR = 2020
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seed(platform: Platform) -> None:
    """Three arrivals of 2020 in the incoming register, the second cancelled with a reason,
    written into the documents database as registration writes them."""
    agency = platform.agencies[0]
    now = datetime.now(UTC)
    subjects = {
        1: "Về việc tổ chức Hội nghị tổng kết công tác văn thư, lưu trữ",
        2: "Về việc cử cán bộ tham gia đoàn kiểm tra liên ngành",
        3: "Về việc điều chỉnh kế hoạch đầu tư công trung hạn",
    }

    async def run() -> None:
        engine = create_async_engine(platform.postgres.dsn(agency.database_name("documents")))
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO counters (series, year, last_number) "
                        "VALUES ('incoming', :year, 3) ON CONFLICT DO NOTHING"
                    ),
                    {"year": YEAR},
                )
                for number, subject in subjects.items():
                    arrived = datetime(YEAR, 3, number, 9, 0, tzinfo=VN)
                    await connection.execute(
                        text(
                            "INSERT INTO documents (id, direction, status, document_type, subject,"
                            " priority, secrecy, secrecy_rank, code_number, code_notation,"
                            " issued_date, issuer_code, issuer_name, register_id, reg_year,"
                            " reg_number, registered_at, created_by, created_at, updated_at,"
                            " received_via) VALUES (:id, 'incoming', 'registered', 'Công văn',"
                            " :subject, 'normal', 'none', 0, :code, 'BNV-VP', :issued,"
                            " '000.00.00.G09', 'Bộ Nội vụ', 'incoming', :year, :number, :at,"
                            " 'e2e', :now, :now, 'paper')"
                        ),
                        {
                            "id": str(uuid.uuid4()),
                            "subject": subject,
                            "code": f"{number * 10:02d}",
                            "issued": arrived.date(),
                            "year": YEAR,
                            "number": number,
                            "at": arrived,
                            "now": now,
                        },
                    )
                await connection.execute(
                    text(
                        "INSERT INTO cancelled_numbers (register_id, year, number, reason,"
                        " cancelled_by, cancelled_at) VALUES ('incoming', :year, 2,"
                        " 'Đăng ký trùng với văn bản số đến 01', 'vanthu', :at)"
                    ),
                    {"year": YEAR, "at": datetime(YEAR, 3, 2, 10, 0, tzinfo=VN)},
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="module")
def seeded(platform: Platform) -> None:
    seed(platform)


def book(gateway: Gateway, token: str, register: str = "incoming", **params: str) -> Any:
    query = {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31", "format": "xlsx"} | params
    return gateway.http.get(f"/v1/registers/{register}/book", params=query, headers=auth(token))


def test_a_clerk_lists_the_registers_and_the_document_types(
    gateway: Gateway, clerk_token: str
) -> None:
    registers = gateway.http.get("/v1/registers", headers=auth(clerk_token))
    assert registers.status_code == 200, registers.text
    ids = [r["id"] for r in registers.json()["items"]]
    # The demo clerk is cleared for "mật" (confidential), not above.
    assert ids == ["incoming", "incoming-confidential", "outgoing", "outgoing-confidential"]
    types = gateway.http.get("/v1/document-types", headers=auth(clerk_token))
    assert types.status_code == 200, types.text
    by_name = {t["name"]: t["abbreviation"] for t in types.json()["items"]}
    assert by_name["Quyết định"] == "QĐ"
    assert by_name["Công văn"] is None


def test_the_clerk_downloads_the_xlsx_book_of_the_year(
    gateway: Gateway, clerk_token: str, seeded: None
) -> None:
    response = book(gateway, clerk_token)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    assert response.headers["content-disposition"] == (
        f"attachment; filename*=UTF-8''so-dang-ky-incoming-{YEAR}-01-01-{YEAR}-12-31.xlsx"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == DEMO_AGENCY_NAME.upper()
    assert rows[1][0] == "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
    assert rows[6][:3] == ("Ngày đến", "Số đến", "Tác giả")
    body = rows[7:]
    assert [r[1] for r in body] == [1, 2, 3]
    assert body[0][3] == "10/BNV-VP"
    assert body[0][5] == "Công văn: Về việc tổ chức Hội nghị tổng kết công tác văn thư, lưu trữ"
    assert body[1][8] == "Đã hủy số: Đăng ký trùng với văn bản số đến 01"


def test_the_clerk_downloads_the_pdf_book_of_a_quarter(
    gateway: Gateway, clerk_token: str, seeded: None
) -> None:
    response = book(gateway, clerk_token, to=f"{YEAR}-03-02", format="pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].endswith(f"{YEAR}-03-02.pdf")
    document = pypdfium2.PdfDocument(response.content)
    try:
        pages = [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()
    assert DEMO_AGENCY_NAME.upper() in pages[0]
    assert f"Từ ngày 01/01/{YEAR} đến ngày 02/03/{YEAR}" in pages[0]
    table = " ".join(" ".join(pages[1:]).split())
    assert "10/BNV-VP" in table
    assert "Đã hủy số: Đăng ký trùng với văn bản số đến 01" in table
    assert "30/BNV-VP" not in table  # registered on 3 March, after the period


def test_bad_requests_are_problems_naming_the_field(gateway: Gateway, clerk_token: str) -> None:
    unknown = book(gateway, clerk_token, format="docx")
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in unknown.json()["errors"]] == ["query.format"]
    backwards = book(gateway, clerk_token, **{"from": f"{YEAR}-05-01", "to": f"{YEAR}-04-01"})
    assert backwards.status_code == 400
    assert backwards.json()["code"] == "INVALID_BOOK_REQUEST"
    assert [e["field"] for e in backwards.json()["errors"]] == ["to"]
    too_long = book(gateway, clerk_token, **{"from": f"{YEAR}-01-01", "to": f"{YEAR + 1}-01-01"})
    assert too_long.status_code == 400
    assert [e["field"] for e in too_long.json()["errors"]] == ["to"]
    malformed = book(gateway, clerk_token, **{"from": "01/01/2020"})
    assert malformed.status_code == 422
    assert [e["field"] for e in malformed.json()["errors"]] == ["query.from"]


def test_who_may_not_print_a_book_gets_none(gateway: Gateway, clerk_token: str) -> None:
    specialist = book(gateway, gateway.token("chuyenvien"))
    assert specialist.status_code == 403
    assert specialist.json()["code"] == "ROLE_REQUIRED"
    # Tối mật is above the clerk's clearance: that register is not found, like one that
    # does not exist.
    secret = book(gateway, clerk_token, register="incoming-secret")
    assert secret.status_code == 404
    assert secret.json()["code"] == "REGISTER_NOT_FOUND"
    missing = book(gateway, clerk_token, register="no-such-register")
    assert (missing.status_code, missing.json()["code"]) == (404, "REGISTER_NOT_FOUND")
