"""What an HTTP client receives when something goes wrong: RFC 9457 problem+json, every time."""

from collections.abc import Iterator
from typing import Annotated, Any

import grpc
import pytest
from fastapi import FastAPI, File, UploadFile
from fastapi.testclient import TestClient
from httpx import Response

from vanban.gateway.api import problems
from vanban.gateway.api.upload import check_pdf
from vanban.platform.errors import (
    DomainError,
    ErrorCode,
    FieldViolation,
    NotFoundError,
    UnavailableError,
    invalid_fields,
)
from vanban.platform.grpc.status import DETAILS_KEY, to_rich_status

AGENCY = "000.00.00.H99"


class DraftRejectedError(DomainError):
    code = ErrorCode.INVALID_ARGUMENT
    reason = "DRAFT_REJECTED"


class SlowDownError(DomainError):
    code = ErrorCode.RESOURCE_EXHAUSTED
    reason = "SLOW_DOWN"


def rpc_error(
    code: grpc.StatusCode, details: str, error: DomainError | None = None
) -> grpc.aio.AioRpcError:
    """A failed call as grpc.aio raises it, with the rich status a Vanban service attaches."""
    trailing = (
        grpc.aio.Metadata((DETAILS_KEY, to_rich_status(error).SerializeToString()))
        if error is not None
        else grpc.aio.Metadata()
    )
    return grpc.aio.AioRpcError(
        code, initial_metadata=grpc.aio.Metadata(), trailing_metadata=trailing, details=details
    )


def build_app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/domain-error")
    async def _domain_error() -> None:
        raise DraftRejectedError(
            "subject: is required; issued_date: cannot be later than today",
            violations=(
                FieldViolation("subject", "is required"),
                FieldViolation("issued_date", "cannot be later than today"),
            ),
        )

    @app.get("/not-found")
    async def _not_found() -> None:
        raise rpc_error(
            grpc.StatusCode.NOT_FOUND,
            "no incoming document 42",
            NotFoundError("no incoming document 42", reason="DOCUMENT_NOT_FOUND"),
        )

    @app.get("/invalid-argument")
    async def _invalid_argument() -> None:
        raise rpc_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "code_notation: must not be blank",
            invalid_fields(
                {"code_notation": "must not be blank"}, reason="INVALID_INCOMING_DOCUMENT"
            ),
        )

    @app.get("/bare-not-found")
    async def _bare_not_found() -> None:
        raise rpc_error(grpc.StatusCode.NOT_FOUND, "nothing here")

    @app.get("/unavailable")
    async def _unavailable() -> None:
        raise rpc_error(
            grpc.StatusCode.UNAVAILABLE,
            "connect to postgres at 10.0.0.5:5432 failed",
            UnavailableError("connect to postgres at 10.0.0.5:5432 failed"),
        )

    @app.get("/cancelled")
    async def _cancelled() -> None:
        raise rpc_error(grpc.StatusCode.CANCELLED, "Server shutdown")

    @app.get("/busy")
    async def _busy() -> None:
        raise SlowDownError("slow down", metadata={"retry_after_seconds": "7"})

    @app.get("/books-busy")
    async def _books_busy() -> None:
        raise rpc_error(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "as many register books as this service renders at once are being made",
            DomainError("register books busy", reason="BOOKS_BUSY"),
        )

    @app.get("/crash")
    async def _crash() -> None:
        raise RuntimeError("secret internals")

    @app.get("/items")
    async def _items(limit: int) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/check-pdf")
    async def _check_pdf(file: Annotated[UploadFile, File()]) -> dict[str, int]:
        return {"size": await check_pdf(file, max_bytes=1024)}

    return app


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return build_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # A real server answers a crash with the 500 body; it does not raise into the client.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def problem_of(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "instance", "code", "trace_id"} <= body.keys()
    return body


def error_fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


def test_a_domain_error_names_each_rejected_field(client: TestClient) -> None:
    body = problem_of(client.get("/domain-error"), 400)

    assert body["code"] == "DRAFT_REJECTED"
    # A code the gateway has no page for (a newer service's) has the type RFC 9457 names.
    assert body["type"] == "about:blank"
    assert body["instance"] == "/domain-error"
    assert body["errors"] == [
        {"field": "subject", "detail": "is required"},
        {"field": "issued_date", "detail": "cannot be later than today"},
    ]


def test_an_upstream_not_found_is_a_404_with_the_services_reason(client: TestClient) -> None:
    body = problem_of(client.get("/not-found"), 404)

    assert body["code"] == "DOCUMENT_NOT_FOUND"
    assert body["detail"] == "no incoming document 42"
    assert "errors" not in body


def test_an_upstream_invalid_argument_is_a_400_naming_the_field(client: TestClient) -> None:
    body = problem_of(client.get("/invalid-argument"), 400)

    assert body["code"] == "INVALID_INCOMING_DOCUMENT"
    assert body["errors"] == [{"field": "code_notation", "detail": "must not be blank"}]


def test_an_upstream_error_without_details_is_named_by_its_grpc_code(client: TestClient) -> None:
    body = problem_of(client.get("/bare-not-found"), 404)

    assert body["code"] == "NOT_FOUND"


def test_an_unavailable_service_is_a_503_without_its_internals(client: TestClient) -> None:
    response = client.get("/unavailable")
    body = problem_of(response, 503)

    assert body["code"] == "UNAVAILABLE"
    assert "unavailable" in body["detail"]
    assert "10.0.0.5" not in response.text
    assert "postgres" not in response.text


def test_a_call_the_service_cut_off_is_a_503_to_retry(client: TestClient) -> None:
    # A service shutting down may cancel a call that reached it just then; the client did not
    # go away (499), the service did.
    body = problem_of(client.get("/cancelled"), 503)

    assert body["code"] == "UNAVAILABLE"


def test_an_unexpected_exception_is_a_500_without_internals(client: TestClient) -> None:
    response = client.get("/crash")
    body = problem_of(response, 500)

    assert body["code"] == "INTERNAL"
    assert "secret internals" not in response.text
    assert "RuntimeError" not in response.text


def test_a_request_validation_error_is_a_422_naming_the_parameter(client: TestClient) -> None:
    body = problem_of(client.get("/items", params={"limit": "many"}), 422)

    assert body["code"] == "VALIDATION_FAILED"
    # The page describing the code, on the gateway itself (relative to the request's URI).
    assert body["type"] == "/problems/VALIDATION_FAILED"
    assert error_fields(body) == ["query.limit"]


def test_an_unknown_route_is_a_problem_too(client: TestClient) -> None:
    body = problem_of(client.get("/no-such-route"), 404)

    assert body["code"] == "ROUTE_NOT_FOUND"


def test_a_wrong_method_is_a_405_problem(client: TestClient) -> None:
    body = problem_of(client.delete("/items"), 405)

    assert body["code"] == "METHOD_NOT_ALLOWED"


def test_a_gateway_problem_keeps_its_status_and_names_the_file(client: TestClient) -> None:
    files = {"file": ("van-ban.pdf", b"PK\x03\x04 not a pdf", "application/pdf")}

    body = problem_of(client.post("/check-pdf", files=files), 415)

    assert body["code"] == "NOT_A_PDF"
    assert error_fields(body) == ["file"]


def test_a_busy_refusal_says_when_to_retry(client: TestClient) -> None:
    response = client.get("/busy")
    body = problem_of(response, 429)

    assert response.headers["retry-after"] == "7"
    assert body["retry_after_seconds"] == 7


def test_register_books_all_busy_is_a_429_with_its_problem_page(client: TestClient) -> None:
    body = problem_of(client.get("/books-busy"), 429)

    assert body["code"] == "BOOKS_BUSY"
    assert body["type"] == "/problems/BOOKS_BUSY"
