"""Bad input gets a 4xx problem+json naming the problem, and leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.support import Gateway, make_pdf, metadata
from vanban.launcher.platform import Platform

MB = 1024 * 1024


def stored_counts(platform: Platform) -> tuple[int, int, int]:
    """(documents of the registry, archive rows, S3 objects) of the agency."""
    agency = platform.agencies[0]

    async def count(service: str, table: str) -> int:
        engine = create_async_engine(platform.postgres.dsn(agency.database_name(service)))
        try:
            async with engine.connect() as connection:
                return (
                    await connection.execute(text(f"select count(*) from {table}"))
                ).scalar_one()
        finally:
            await engine.dispose()

    documents = asyncio.run(count("documents", "documents"))
    archived = asyncio.run(count("archive", "objects"))
    objects = sum(
        1
        for _ in platform.seaweed.client().list_objects(
            agency.bucket(), prefix="objects/", recursive=True
        )
    )
    return documents, archived, objects


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "instance", "code", "trace_id"} <= body.keys()
    assert body["status"] == status
    return body


@pytest.fixture
def unchanged(platform: Platform) -> Iterator[None]:
    before = stored_counts(platform)
    yield
    assert stored_counts(platform) == before


def test_a_file_that_is_not_a_pdf_is_refused(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    body = problem(
        gateway.register(clerk_token, pdf=b"PK\x03\x04 this is a zip, not a PDF" * 100), 415
    )
    assert body["code"] == "NOT_A_PDF"
    assert body["errors"][0]["field"] == "file"


def test_a_broken_pdf_is_refused_before_anything_is_stored(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    # The header and the end marker of a PDF, but cut in the middle: only opening it tells.
    broken = make_pdf()[:400] + b"\n%%EOF\n"
    body = problem(gateway.register(clerk_token, pdf=broken), 422)
    assert body["code"] == "INVALID_PDF"
    assert body["errors"][0]["field"] == "file"
    assert "cannot be opened as a PDF" in body["detail"]


def test_a_file_over_the_limit_is_refused(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    pdf = make_pdf()
    oversized = pdf[:-6] + b" " * (50 * MB + 1 - len(pdf)) + pdf[-6:]
    body = problem(gateway.register(clerk_token, pdf=oversized), 413)
    assert body["code"] == "FILE_TOO_LARGE"
    assert "50 MB" in body["detail"]


def test_an_empty_file_is_refused(gateway: Gateway, clerk_token: str, unchanged: None) -> None:
    assert problem(gateway.register(clerk_token, pdf=b""), 400)["code"] == "FILE_EMPTY"


@pytest.mark.parametrize("missing", ["subject", "issuer_code", "code_number", "issued_date"])
def test_a_missing_required_field_is_named(
    gateway: Gateway, clerk_token: str, unchanged: None, missing: str
) -> None:
    body = problem(gateway.register(clerk_token, meta=metadata(**{missing: None})), 400)
    assert body["code"] == "INVALID_METADATA"
    assert [e["field"] for e in body["errors"]] == [f"metadata.{missing}"]


@pytest.mark.parametrize(
    "bad_date", ["2026-13-01", "21/11/2026", "2026-02-30", "yesterday", 20261121]
)
def test_a_malformed_date_is_named(
    gateway: Gateway, clerk_token: str, unchanged: None, bad_date: object
) -> None:
    body = problem(gateway.register(clerk_token, meta=metadata(issued_date=bad_date)), 400)
    assert [e["field"] for e in body["errors"]] == ["metadata.issued_date"]


def test_an_issued_date_in_the_future_is_refused(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    body = problem(gateway.register(clerk_token, meta=metadata(issued_date="2999-01-01")), 400)
    assert [e["field"] for e in body["errors"]] == ["metadata.issued_date"]


def test_metadata_that_is_not_json_is_refused(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    body = problem(gateway.register(clerk_token, meta="{not json"), 400)
    assert body["errors"] == [{"field": "metadata", "detail": "must be a JSON object"}]


def test_an_unknown_metadata_field_is_refused(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    body = problem(
        gateway.register(clerk_token, meta=json.dumps({**metadata(), "arrival_number": 1})), 400
    )
    assert [e["field"] for e in body["errors"]] == ["metadata.arrival_number"]


def test_a_missing_file_part_is_named(gateway: Gateway, clerk_token: str, unchanged: None) -> None:
    response = gateway.http.post(
        "/v1/incoming-documents",
        headers={"Authorization": f"Bearer {clerk_token}"},
        data={"metadata": json.dumps(metadata())},
        files={"other": ("x.txt", b"x")},
    )
    body = problem(response, 422)
    assert "file" in [e["field"] for e in body["errors"]]


def test_a_specialist_may_not_register(gateway: Gateway, unchanged: None) -> None:
    body = problem(gateway.register(gateway.token("chuyenvien")), 403)
    assert body["code"] == "ROLE_REQUIRED"


def test_a_file_over_the_limit_without_content_length_is_refused(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    boundary = "vanban-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
        f"{json.dumps(metadata())}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    ).encode()

    def chunked_body() -> Iterator[bytes]:
        yield head
        for _ in range(60):  # 60 MiB, sent without a Content-Length
            yield b" " * MB
        yield f"%%EOF\r\n--{boundary}--\r\n".encode()

    response = gateway.http.post(
        "/v1/incoming-documents",
        headers={
            "Authorization": f"Bearer {clerk_token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        content=chunked_body(),
    )
    assert problem(response, 413)["code"] == "FILE_TOO_LARGE"


def test_control_characters_in_metadata_are_named(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    body = problem(gateway.register(clerk_token, meta=metadata(subject="V/v\x00kiểm tra")), 400)
    assert [e["field"] for e in body["errors"]] == ["metadata.subject"]


def test_a_malformed_document_id_is_a_client_error(gateway: Gateway, clerk_token: str) -> None:
    auth = {"Authorization": f"Bearer {clerk_token}"}
    for path in ("/v1/incoming-documents/%00", "/v1/incoming-documents/not-a-uuid/file"):
        body = problem(gateway.http.get(path, headers=auth), 422)
        assert [e["field"] for e in body["errors"]] == ["path.document_id"]


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "TOKEN_MISSING"),
        ("Bearer not-a-token", "TOKEN_INVALID"),
        ("Basic dmFudGh1", "TOKEN_MISSING"),
    ],
)
def test_an_upload_without_a_valid_token_is_refused_before_its_body_is_read(
    gateway: Gateway, unchanged: None, authorization: str | None, code: str
) -> None:
    response = gateway.http.post(
        "/v1/incoming-documents",
        headers={"Authorization": authorization} if authorization else {},
        files={"file": ("a.pdf", make_pdf(), "application/pdf")},
        data={"metadata": json.dumps(metadata())},
    )
    assert problem(response, 401)["code"] == code
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_user_name_with_control_characters_is_refused(gateway: Gateway) -> None:
    response = gateway.http.post("/v1/auth/token", data={"username": "van\x00thu", "password": "x"})
    assert problem(response, 400)["code"] == "INVALID_CREDENTIALS_FORMAT"


def test_an_unknown_document_type_is_named_and_its_file_given_back(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    body = problem(gateway.register(clerk_token, meta=metadata(document_type="Thư tình")), 400)

    assert body["code"] == "INVALID_INCOMING_DOCUMENT"
    assert [e["field"] for e in body["errors"]] == ["document_type"]


@pytest.mark.parametrize("number", ["5a", "V/05", "-5", "٥"])
def test_a_malformed_so_is_named(
    gateway: Gateway, clerk_token: str, unchanged: None, number: str
) -> None:
    body = problem(gateway.register(clerk_token, meta=metadata(code_number=number)), 400)

    assert [e["field"] for e in body["errors"]] == ["metadata.code_number"]


def test_a_relation_to_a_document_that_does_not_exist_is_named(
    gateway: Gateway, clerk_token: str, unchanged: None
) -> None:
    relation = {"kind": "response_for", "document_id": "00000000-0000-4000-8000-000000000000"}
    body = problem(gateway.register(clerk_token, meta=metadata(relations=[relation])), 400)

    assert [e["field"] for e in body["errors"]] == ["relations[0].document_id"]
