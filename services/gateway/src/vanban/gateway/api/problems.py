"""Every error leaves the gateway as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.exceptions import HTTPException as StarletteHTTPException

from vanban.gateway.api.problem_types import type_uri
from vanban.platform.errors import DomainError, FieldViolation
from vanban.platform.grpc.status import remote_error
from vanban.platform.problem import PROBLEM_CONTENT_TYPE, Problem, http_status

logger = logging.getLogger(__name__)


class HttpProblem(Exception):
    """A problem the gateway itself detects (size, media type), with its own HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors = (FieldViolation(field=field, description=detail),) if field else ()
        # Members of the problem beyond RFC 9457's and `errors` (the import's `problems`).
        self.extra = dict(extra or {})


def _trace_id() -> str:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def problem_for(exc: BaseException) -> tuple[Problem, dict[str, str]]:
    """The problem an exception is answered with, and the headers that go with it."""
    headers: dict[str, str] = {}
    if isinstance(exc, HttpProblem):
        problem = Problem(
            status=exc.status,
            code=exc.code,
            detail=exc.detail,
            errors=exc.errors,
            extra=dict(exc.extra),
        )
    elif isinstance(exc, DomainError):
        problem = Problem(
            status=http_status(exc.code),
            code=exc.reason,
            detail=exc.message,
            errors=exc.violations,
        )
        retry_after = exc.metadata.get("retry_after_seconds")
        if retry_after and problem.status in (429, 503):
            headers["Retry-After"] = retry_after
            problem.extra["retry_after_seconds"] = int(retry_after)
    elif isinstance(exc, grpc.aio.AioRpcError):
        problem = _upstream_problem(exc)
    elif isinstance(exc, StarletteHTTPException):
        code = getattr(exc, "code", None) or {
            404: "ROUTE_NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            413: "BODY_TOO_LARGE",
        }.get(exc.status_code, "HTTP_ERROR")
        problem = Problem(status=exc.status_code, code=code, detail=str(exc.detail))
    else:
        logger.error("unexpected error", exc_info=exc)
        problem = Problem(
            status=500,
            code="INTERNAL",
            detail="unexpected error; quote the trace id when reporting it",
        )
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return problem, headers


def _upstream_problem(exc: grpc.aio.AioRpcError) -> Problem:
    err = remote_error(exc)
    if exc.code() == grpc.StatusCode.CANCELLED:
        # The gateway never cancels a call whose client is still there to read the answer, so
        # a cancelled call was cut off by the service (a call that reached it as it shut
        # down): a service to retry shortly (503), not the 499 of a client that went away.
        logger.warning(
            "upstream call cancelled by the service", extra={"grpc_details": exc.details()}
        )
        return Problem(
            status=503,
            code="UNAVAILABLE",
            detail="a service behind the gateway is unavailable; try again shortly",
        )
    status = http_status(err.code)
    if status >= 500:
        logger.error(
            "upstream call failed",
            extra={"grpc_code": exc.code().name, "grpc_details": exc.details()},
        )
        detail = "a service behind the gateway failed; quote the trace id when reporting it"
        if status == 503:
            detail = "a service behind the gateway is unavailable; try again shortly"
        return Problem(status=status, code=err.reason or "UPSTREAM_ERROR", detail=detail)
    return Problem(
        status=status,
        code=err.reason or exc.code().name,
        detail=err.message,
        errors=err.violations,
    )


def problem_response(
    problem: Problem, *, instance: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    problem.instance = instance
    problem.trace_id = _trace_id()
    problem.type = type_uri(problem.code)
    return JSONResponse(
        problem.body(),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )


def respond(request: Request, problem: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return problem_response(problem, instance=request.url.path, headers=headers)


async def _answer(request: Request, exc: Exception) -> JSONResponse:
    problem, headers = problem_for(exc)
    return problem_response(problem, instance=request.url.path, headers=headers)


def install(app: FastAPI) -> None:
    for exc_class in (
        HttpProblem,
        DomainError,
        grpc.aio.AioRpcError,
        StarletteHTTPException,
        Exception,
    ):
        app.add_exception_handler(exc_class, _answer)

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
