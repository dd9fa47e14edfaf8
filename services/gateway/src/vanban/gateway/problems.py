"""Every error leaves the gateway as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.exceptions import HTTPException as StarletteHTTPException

from vanban.platform.errors import DomainError, FieldViolation
from vanban.platform.grpc.status import remote_error
from vanban.platform.problem import PROBLEM_CONTENT_TYPE, Problem, http_status

log = logging.getLogger(__name__)


class HttpProblem(Exception):
    """A problem the gateway itself detects (size, media type), with its own HTTP status."""

    def __init__(self, status: int, code: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors = (FieldViolation(field=field, description=detail),) if field else ()


def _trace_id() -> str:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def respond(request: Request, problem: Problem) -> JSONResponse:
    problem.instance = request.url.path
    problem.trace_id = _trace_id()
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return JSONResponse(
        problem.body(), status_code=problem.status, media_type=PROBLEM_CONTENT_TYPE, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(HttpProblem)
    async def _http_problem(request: Request, exc: HttpProblem) -> JSONResponse:
        return respond(
            request, Problem(status=exc.status, code=exc.code, detail=exc.detail, errors=exc.errors)
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return respond(
            request,
            Problem(
                status=http_status(exc.code),
                code=exc.reason,
                detail=exc.message,
                errors=exc.violations,
            ),
        )

    @app.exception_handler(grpc.aio.AioRpcError)
    async def _upstream(request: Request, exc: grpc.aio.AioRpcError) -> JSONResponse:
        err = remote_error(exc)
        status = http_status(err.code)
        if status >= 500:
            log.error("upstream call failed: %s %s", exc.code(), exc.details())
            detail = "a service behind the gateway failed; quote the trace id when reporting it"
            if status == 503:
                detail = "a service behind the gateway is unavailable; try again shortly"
            return respond(
                request, Problem(status=status, code=err.reason or "UPSTREAM_ERROR", detail=detail)
            )
        return respond(
            request,
            Problem(
                status=status,
                code=err.reason or exc.code().name,
                detail=err.message,
                errors=err.violations,
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = tuple(
            FieldViolation(
                field=".".join(str(p) for p in e["loc"] if p not in ("body",)), description=e["msg"]
            )
            for e in exc.errors()
        )
        detail = "; ".join(f"{v.field}: {v.description}" for v in errors)
        return respond(
            request, Problem(status=422, code="VALIDATION_FAILED", detail=detail, errors=errors)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "FILE_TOO_LARGE"}.get(
            exc.status_code, "HTTP_ERROR"
        )
        return respond(request, Problem(status=exc.status_code, code=code, detail=str(exc.detail)))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return respond(
            request,
            Problem(
                status=500,
                code="INTERNAL",
                detail="unexpected error; quote the trace id when reporting it",
            ),
        )
