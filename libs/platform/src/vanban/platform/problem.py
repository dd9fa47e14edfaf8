"""RFC 9457 problem details from domain errors and gRPC failures (used at the gateway)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vanban.platform.errors import ErrorCode, FieldViolation

PROBLEM_CONTENT_TYPE = "application/problem+json"

# google/rpc/code.proto: the HTTP mapping of each canonical code.
HTTP_STATUS = {
    ErrorCode.CANCELLED: 499,
    ErrorCode.UNKNOWN: 500,
    ErrorCode.INVALID_ARGUMENT: 400,
    ErrorCode.DEADLINE_EXCEEDED: 504,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ALREADY_EXISTS: 409,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.RESOURCE_EXHAUSTED: 429,
    ErrorCode.FAILED_PRECONDITION: 400,
    ErrorCode.ABORTED: 409,
    ErrorCode.OUT_OF_RANGE: 400,
    ErrorCode.UNIMPLEMENTED: 501,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.DATA_LOSS: 500,
    ErrorCode.UNAUTHENTICATED: 401,
}

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    499: "Client Closed Request",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Problem:
    status: int
    code: str
    detail: str
    instance: str = ""
    trace_id: str = ""
    errors: tuple[FieldViolation, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # A URI of a page describing the problem's code, on a host the project owns (the gateway
    # serves `/problems/<code>`); RFC 9457's `about:blank` when there is none.
    type: str = "about:blank"

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
            "instance": self.instance,
            "code": self.code,
            "trace_id": self.trace_id,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "detail": e.description} for e in self.errors]
        body.update(self.extra)
        return body


def http_status(code: ErrorCode | None) -> int:
    return HTTP_STATUS.get(code, 500) if code is not None else 500
