"""What an HTTP client receives when something goes wrong: RFC 9457 problem+json, every time."""

from collections.abc import Iterator
from typing import Annotated

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, File, Request, UploadFile
from fastapi.testclient import TestClient
from httpx import Response

from vanban.gateway import problems
from vanban.gateway.auth import AccessTokens
from vanban.gateway.upload import MULTIPART_OVERHEAD, BodyLimitMiddleware, check_pdf
from vanban.platform.caller import Caller
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
UPLOAD_PATH = "/v1/incoming-documents"
# The middleware's limit: a 1 MB file plus the room it leaves for multipart framing.
MAX_BODY = 1024 * 1024 + MULTIPART_OVERHEAD


class DraftRejectedError(DomainError):
    code = ErrorCode.INVALID_ARGUMENT
    reason = "DRAFT_REJECTED"


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


def build_app(tokens: AccessTokens) -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=MAX_BODY)
    app.state.access_tokens = tokens
    app.state.uploads_received = []
    app.state.upload_lengths_announced = []

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

    @app.get("/crash")
    async def _crash() -> None:
        raise RuntimeError("secret internals")

    @app.get("/items")
    async def _items(limit: int) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/check-pdf")
    async def _check_pdf(file: Annotated[UploadFile, File()]) -> dict[str, int]:
        return {"size": await check_pdf(file, max_bytes=1024)}

    @app.post(UPLOAD_PATH)
    async def _upload(request: Request) -> dict[str, int]:
        body = await request.body()
        request.app.state.uploads_received.append(len(body))
        request.app.state.upload_lengths_announced.append(request.headers.get("content-length"))
        return {"received": len(body)}

    @app.post("/echo")
    async def _echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    return app


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def tokens(key: Ed25519PrivateKey) -> AccessTokens:
    return AccessTokens(key, agency_code=AGENCY, ttl_seconds=300)


@pytest.fixture(scope="module")
def app(tokens: AccessTokens) -> FastAPI:
    return build_app(tokens)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    app.state.uploads_received.clear()
    app.state.upload_lengths_announced.clear()
    # A real server answers a crash with the 500 body; it does not raise into the client.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def bearer(tokens: AccessTokens) -> dict[str, str]:
    token = tokens.issue(Caller(agency_code=AGENCY, subject="clerk-1"), name="Trần Thị Bình")
    return {"Authorization": f"Bearer {token}"}


def problem_of(response: Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "instance", "code", "trace_id"} <= body.keys()
    return body


def error_fields(body: dict[str, object]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]  # type: ignore[attr-defined, index]


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


def test_a_domain_error_names_each_rejected_field(client: TestClient) -> None:
    body = problem_of(client.get("/domain-error"), 400)

    assert body["code"] == "DRAFT_REJECTED"
    assert body["type"] == "https://vanban.gov.vn/problems/draft-rejected"
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
    assert "unavailable" in body["detail"]  # type: ignore[operator]
    assert "10.0.0.5" not in response.text
    assert "postgres" not in response.text


def test_an_unexpected_exception_is_a_500_without_internals(client: TestClient) -> None:
    response = client.get("/crash")
    body = problem_of(response, 500)

    assert body["code"] == "INTERNAL"
    assert "secret internals" not in response.text
    assert "RuntimeError" not in response.text


def test_a_request_validation_error_is_a_422_naming_the_parameter(client: TestClient) -> None:
    body = problem_of(client.get("/items", params={"limit": "many"}), 422)

    assert body["code"] == "VALIDATION_FAILED"
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


def test_an_upload_without_a_token_is_refused_before_its_body_is_read(
    client: TestClient,
) -> None:
    response = client.post(UPLOAD_PATH, content=b"%PDF-1.7 ...")
    body = problem_of(response, 401)

    assert body["code"] == "TOKEN_MISSING"
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.app.state.uploads_received == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-token"], ids=repr
)
def test_an_upload_with_a_bad_token_is_refused(client: TestClient, authorization: str) -> None:
    response = client.post(
        UPLOAD_PATH, content=b"%PDF-1.7", headers={"Authorization": authorization}
    )
    body = problem_of(response, 401)

    assert body["code"] in {"TOKEN_MISSING", "TOKEN_INVALID"}
    assert client.app.state.uploads_received == []  # type: ignore[attr-defined]


def test_an_upload_with_an_expired_token_is_refused_as_expired(
    client: TestClient, key: Ed25519PrivateKey
) -> None:
    expired = AccessTokens(key, agency_code=AGENCY, ttl_seconds=-60)
    token = expired.issue(Caller(agency_code=AGENCY, subject="clerk-1"), name="Trần Thị Bình")

    response = client.post(
        UPLOAD_PATH, content=b"%PDF-1.7", headers={"Authorization": f"Bearer {token}"}
    )

    assert problem_of(response, 401)["code"] == "TOKEN_EXPIRED"


def test_an_upload_with_a_valid_token_reaches_the_route(
    client: TestClient, bearer: dict[str, str]
) -> None:
    response = client.post(UPLOAD_PATH, content=b"x" * 1000, headers=bearer)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1000}


def test_only_uploads_need_a_token(client: TestClient) -> None:
    response = client.post("/echo", content=b"hello")

    assert response.status_code == 200, response.text


def test_a_streamed_upload_over_the_limit_without_length_is_a_413(
    client: TestClient, bearer: dict[str, str]
) -> None:
    response = client.post(UPLOAD_PATH, content=chunks(MAX_BODY + 1), headers=bearer)
    body = problem_of(response, 413)

    assert body["code"] == "FILE_TOO_LARGE"
    assert client.app.state.uploads_received == []  # type: ignore[attr-defined]


def test_a_streamed_upload_at_the_limit_is_accepted(
    client: TestClient, bearer: dict[str, str]
) -> None:
    response = client.post(UPLOAD_PATH, content=chunks(MAX_BODY), headers=bearer)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": MAX_BODY}
    # The same streamed request announced no length: the 413 above came from counting.
    assert client.app.state.upload_lengths_announced == [None]  # type: ignore[attr-defined]


def test_an_announced_length_over_the_limit_is_a_413(
    client: TestClient, bearer: dict[str, str]
) -> None:
    body = problem_of(client.post(UPLOAD_PATH, content=b"x" * (MAX_BODY + 1), headers=bearer), 413)

    assert body["code"] == "FILE_TOO_LARGE"
    assert client.app.state.uploads_received == []  # type: ignore[attr-defined]


def test_any_route_refuses_a_streamed_body_over_the_limit(client: TestClient) -> None:
    body = problem_of(client.post("/echo", content=chunks(MAX_BODY + 1)), 413)

    assert body["code"] == "FILE_TOO_LARGE"
