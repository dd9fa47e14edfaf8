"""The body of every error answer: RFC 9457 problem details (application/problem+json).

The gateway builds these bodies itself (`vanban.platform.problem.Problem`); this model describes
them in the OpenAPI document, and a test holds the two equal.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from vanban.gateway.api.schemas.records import DossierListProblemOut


class FieldError(BaseModel):
    field: str = Field(
        description="The rejected parameter or field, e.g. `metadata.issued_date`, "
        "`query.page_size`"
    )
    detail: str


_EXAMPLE = {
    "type": "/problems/VALIDATION_FAILED",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "page_size: Input should be less than or equal to 500",
    "instance": "/v1/people",
    "code": "VALIDATION_FAILED",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "errors": [{"field": "query.page_size", "detail": "Input should be less than or equal to 500"}],
}


def _document(schema: dict[str, Any]) -> None:
    """An example; and the optional members are left out when empty, never null."""
    schema["examples"] = [_EXAMPLE]
    for member in schema.get("properties", {}).values():
        if "default" in member and member["default"] is None:
            del member["default"]


class Problem(BaseModel):
    """What went wrong, for people (`title`, `detail`) and programs (`code`, `status`)."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_document)

    type: str = Field(
        description="The page describing `code`, on this gateway (`/problems/<code>`, relative "
        "to the request), or `about:blank` for a code it has no page for",
        json_schema_extra={"format": "uri-reference"},
    )
    title: str = Field(description="The HTTP status, in words")
    status: int = Field(ge=400, le=599, description="The HTTP status")
    detail: str = Field(description="What went wrong this time, for people")
    instance: str = Field(
        description="The path of the request", json_schema_extra={"format": "uri-reference"}
    )
    code: str = Field(
        description="A stable UPPER_SNAKE identifier of the problem, for programs (see `type`)"
    )
    trace_id: str = Field(
        description="The request's trace id (32 hex digits; empty when it was not traced): "
        "quote it when reporting a problem"
    )
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None, description="Each rejected parameter or field, when there are any"
    )
    retry_after_seconds: int | SkipJsonSchema[None] = Field(
        default=None,
        description="With 429 and 503 refusals that pass: seconds until a retry may succeed "
        "(also in the Retry-After header)",
    )
    problems: list[DossierListProblemOut] | SkipJsonSchema[None] = Field(
        default=None,
        description="With `DOSSIER_LIST_INVALID`: every problem of the file imported, by line",
    )
