"""Search and lists through the gateway: what a clerk finds, what a specialist may not, and
parameters the gateway refuses with a problem naming them."""

from __future__ import annotations

import secrets
from typing import Any

from tests.e2e.support import Gateway, eventually, make_pdf, metadata


def get(gateway: Gateway, token: str, path: str, **params: Any) -> Any:
    return gateway.http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def test_a_registered_document_is_found_without_diacritics_and_by_its_number(
    gateway: Gateway, clerk_token: str
) -> None:
    word = f"Khánh{secrets.randbelow(10**6)}"  # a word no other test registers
    created = gateway.register(
        clerk_token,
        pdf=make_pdf(word),
        meta=metadata(
            subject=f"Quyết định về việc thành lập đoàn kiểm tra {word}",
            code_number="07",
            code_notation="QĐ-BNV",
        ),
    )
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]

    plain = get(gateway, clerk_token, "/v1/search", q=f"quyet dinh doan kiem tra {word}")
    assert plain.status_code == 200, plain.text
    body = plain.json()
    assert [item["id"] for item in body["items"]] == [document_id]
    assert (body["total"], body["total_exact"], body["next_page_token"]) == (1, True, None)
    assert body["items"][0]["code_notation"] == "QĐ-BNV"

    by_number = get(gateway, clerk_token, "/v1/search", q=f"QD-BNV 7 {word}")
    assert [item["id"] for item in by_number.json()["items"]] == [document_id]

    listed = get(gateway, clerk_token, "/v1/incoming-documents", page_size=5)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0]["id"] == document_id  # newest first

    # A specialist of no unit the document reached sees nothing of it, total included.
    specialist = gateway.token("chuyenvien")
    hidden = get(gateway, specialist, "/v1/search", q=word)
    assert hidden.status_code == 200, hidden.text
    assert (hidden.json()["items"], hidden.json()["total"]) == ([], 0)

    # Once a leader assigns it to the specialist's unit (workflow's event, documents' reach
    # consumer), they find it, and the lead unit shows.
    assigned = gateway.http.post(
        f"/v1/incoming-documents/{document_id}/assignment",
        headers={"Authorization": f"Bearer {gateway.token('lanhdao')}"},
        json={"lead_unit": "VP", "opinion": "Đề nghị Văn phòng chủ trì xử lý."},
    )
    assert assigned.status_code == 201, assigned.text

    def found() -> Any:
        body = get(gateway, specialist, "/v1/search", q=word).json()
        return body if body["total"] == 1 else None

    body = eventually(found)
    assert [(item["id"], item["unit"]) for item in body["items"]] == [(document_id, "VP")]


def problem(response: Any) -> tuple[int, str, list[str]]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    return response.status_code, body["code"], [e["field"] for e in body.get("errors", [])]


def test_bad_parameters_are_problems_naming_them(gateway: Gateway, clerk_token: str) -> None:
    cases: list[tuple[str, dict[str, Any], tuple[int, str, str]]] = [
        ("/v1/search", {}, (422, "VALIDATION_FAILED", "query.q")),
        (
            "/v1/search",
            {"q": "x", "from": "2025-05-01", "to": "2025-04-01"},
            (422, "VALIDATION_FAILED", "to"),
        ),
        (
            "/v1/incoming-documents",
            {"priority": "soon"},
            (422, "VALIDATION_FAILED", "query.priority.0"),
        ),
        (
            "/v1/outgoing-documents",
            {"page_size": 1000},
            (422, "VALIDATION_FAILED", "query.page_size"),
        ),
        (
            "/v1/incoming-documents",
            {"from": "2025-02-30"},
            (422, "VALIDATION_FAILED", "query.from"),
        ),
        (
            "/v1/search",
            {"q": "x", "page_token": "not-a-token"},
            (400, "INVALID_PAGE_TOKEN", "page_token"),
        ),
        ("/v1/search", {"q": "--- ///"}, (400, "INVALID_QUERY", "q")),
        ("/v1/incoming-documents", {"status": "draft"}, (400, "INVALID_FILTER", "filter.statuses")),
    ]
    for path, params, (status, code, field) in cases:
        status_, code_, fields = problem(get(gateway, clerk_token, path, **params))
        assert (status_, code_) == (status, code), (path, params)
        assert field in fields, (path, params, fields)
