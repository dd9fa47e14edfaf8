"""The HTTP status and problem+json body a gateway client receives for each error code."""

import pytest
from google.rpc import code_pb2

from vanban.platform.errors import ErrorCode, FieldViolation
from vanban.platform.problem import Problem, http_status

# google/rpc/code.proto, the "HTTP Mapping" line of each code, written out by hand.
CODE_PROTO_HTTP = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


def test_error_codes_are_exactly_the_non_ok_google_rpc_codes() -> None:
    expected = {name: number for name, number in code_pb2.Code.items() if name != "OK"}
    assert {code.name: code.value for code in ErrorCode} == expected


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
def test_each_code_maps_to_the_http_status_of_code_proto(code: ErrorCode) -> None:
    assert http_status(code) == CODE_PROTO_HTTP[code.name]


def test_an_unknown_outcome_is_a_500() -> None:
    assert http_status(None) == 500


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
def test_every_problem_has_a_real_title(code: ErrorCode) -> None:
    body = Problem(status=http_status(code), code=code.name, detail="d").body()
    assert body["title"] not in ("", "Error")


def test_a_problem_body_carries_the_rfc9457_members_and_the_rejected_fields() -> None:
    problem = Problem(
        status=400,
        code="INVALID_INCOMING_DOCUMENT",
        detail="subject: is required",
        instance="/v1/incoming-documents",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        errors=(FieldViolation("subject", "is required"),),
        type="/problems/INVALID_INCOMING_DOCUMENT",
    )

    assert problem.body() == {
        "type": "/problems/INVALID_INCOMING_DOCUMENT",
        "title": "Bad Request",
        "status": 400,
        "detail": "subject: is required",
        "instance": "/v1/incoming-documents",
        "code": "INVALID_INCOMING_DOCUMENT",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "errors": [{"field": "subject", "detail": "is required"}],
    }


def test_a_problem_without_field_errors_has_no_errors_member() -> None:
    assert "errors" not in Problem(status=404, code="NOT_FOUND", detail="gone").body()


def test_a_problem_without_a_page_of_its_own_is_about_blank() -> None:
    assert Problem(status=404, code="NOT_FOUND", detail="gone").body()["type"] == "about:blank"
