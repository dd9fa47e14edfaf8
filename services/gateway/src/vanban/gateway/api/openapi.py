"""The OpenAPI document: every operation's problem+json answers, and what FastAPI leaves out.

Each route declares the problem codes it can answer (`responses=answers(...)`, from the groups
below and its own); each becomes an example of its status's answer, with the `Problem` schema.
`install` completes the document: the `Problem` schema (in place of FastAPI's
`HTTPValidationError`, which the gateway never answers), the schemas that multipart parts
refer to, and the scopes of the security scheme.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from vanban.gateway.api.problem_types import PROBLEM_TYPES, ProblemType
from vanban.gateway.api.schemas.incoming_documents import IncomingMetadataIn
from vanban.gateway.api.schemas.outgoing_documents import OutgoingMetadataIn, VersionMetadataIn
from vanban.gateway.api.schemas.problems import Problem
from vanban.platform.problem import PROBLEM_CONTENT_TYPE, TITLES

PROBLEM_REF = "#/components/schemas/Problem"
_EXAMPLE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

# Any request at all: a Host the gateway does not serve, or a failure of its own.
ANYONE = ("HOST_NOT_ALLOWED", "INTERNAL")
# The services behind the gateway, for a route that calls them.
UPSTREAM = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "UPSTREAM_ERROR")
# A route that needs a caller: the admission middleware establishes it from the headers.
CALLER = (
    *ANYONE,
    "TOKEN_MISSING",
    "TOKEN_INVALID",
    "TOKEN_EXPIRED",
    "SESSION_ENDED",
    "API_KEY_INVALID",
    "API_KEY_REVOKED",
    "API_KEY_EXPIRED",
    "OIDC_TOKEN_INVALID",
    "OIDC_NOT_ACCESS_TOKEN",
    "OIDC_WRONG_CLIENT",
    "OIDC_UNKNOWN_PERSON",
    "ACCOUNT_INACTIVE",
    # The delegations a person holds are asked of the directory.
    "UNAVAILABLE",
)
# ... and a route with scopes, which a person whose password must change cannot use yet.
SCOPED = (*CALLER, "PASSWORD_CHANGE_REQUIRED", "SCOPE_REQUIRED")
# Parameters or a JSON (or form) body that FastAPI validates.
PARAMETERS = ("VALIDATION_FAILED",)
BODY = ("BODY_TOO_LARGE", "VALIDATION_FAILED")
# A multipart body the route reads itself.
FILE = ("VALIDATION_FAILED", "FILE_TOO_LARGE", "HTTP_ERROR")

# Refusals that say when to retry.
_RETRY_AFTER = frozenset(
    {
        "ACCOUNT_LOCKED",
        "ACCOUNT_THROTTLED",
        "ADDRESS_THROTTLED",
        "TOO_MANY_SIGN_IN_ATTEMPTS",
        "SIGN_IN_BUSY",
    }
)


_FIELD_ERRORS = {
    "VALIDATION_FAILED": {"field": "name", "detail": "Field required"},
    "INVALID_METADATA": {"field": "metadata.issued_date", "detail": "cannot be later than today"},
    "INVALID_CREDENTIALS_FORMAT": {"field": "username", "detail": "is required"},
}
# Members of a problem beyond `errors`, as the codes that carry them show them.
_MEMBERS: dict[str, dict[str, Any]] = {
    "DOSSIER_LIST_INVALID": {
        "problems": [{"line": 3, "field": "retention", "message": "must be a code 01 to 07"}]
    },
}


def example(problem: ProblemType, *, instance: str = "") -> dict[str, Any]:
    """A body of the problem as the gateway answers it."""
    body: dict[str, Any] = {
        "type": problem.uri,
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.meaning,
        "instance": instance,
        "code": problem.code,
        "trace_id": _EXAMPLE_TRACE_ID,
    }
    if problem.code in _FIELD_ERRORS:
        body["errors"] = [_FIELD_ERRORS[problem.code]]
    if problem.code in _RETRY_AFTER:
        body["retry_after_seconds"] = 60
    body.update(_MEMBERS.get(problem.code, {}))
    return body


def answers(*codes: str) -> dict[int | str, dict[str, Any]]:
    """The problem+json answers of an operation that can refuse with these codes, by status,
    each code an example."""
    by_status: dict[int, list[ProblemType]] = {}
    for code in dict.fromkeys(codes):
        problem = PROBLEM_TYPES[code]
        by_status.setdefault(problem.status, []).append(problem)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, problems in sorted(by_status.items()):
        answer: dict[str, Any] = {
            "description": f"{TITLES.get(status, 'Error')}: "
            + ", ".join(f"`{p.code}`" for p in problems),
            "content": {
                PROBLEM_CONTENT_TYPE: {
                    "schema": {"$ref": PROBLEM_REF},
                    "examples": {
                        p.code: {"summary": p.title, "value": example(p)} for p in problems
                    },
                }
            },
        }
        if status == 401:
            answer["headers"] = {
                "WWW-Authenticate": {
                    "description": "Bearer",
                    "schema": {"type": "string"},
                }
            }
        if any(p.code in _RETRY_AFTER for p in problems):
            answer["headers"] = {
                "Retry-After": {
                    "description": "Seconds until a retry may succeed",
                    "schema": {"type": "integer"},
                }
            }
        responses[status] = answer
    return responses


def _schemas(*models: type[BaseModel]) -> dict[str, Any]:
    _, top = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    return schemas


def install(app: FastAPI, *, scopes: dict[str, str]) -> None:
    """Completes the app's OpenAPI document (built once, at the first request for it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = build()
        components = document.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        # FastAPI adds these for routes that do not declare their 422; every route here does,
        # with the Problem schema, so they would only describe answers nobody gets.
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas.update(_schemas(Problem, IncomingMetadataIn, OutgoingMetadataIn, VersionMetadataIn))
        for scheme in components.get("securitySchemes", {}).values():
            for flow in scheme.get("flows", {}).values():
                flow["scopes"] = dict(scopes)
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {}).get(PROBLEM_CONTENT_TYPE, {})
                    for named in content.get("examples", {}).values():
                        named["value"]["instance"] = named["value"]["instance"] or path
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to replace the document
