"""Errors shared by every service.

A domain raises a `DomainError` subclass; its `code` mirrors `google.rpc.Code`, so the gRPC
adapter and the gateway translate it without a lookup table per service.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class ErrorCode(enum.IntEnum):
    """The closed set of codes, numbered as `google.rpc.Code`."""

    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One rejected input field, reported as `google.rpc.BadRequest.FieldViolation`."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every expected failure; `reason` is a stable UPPER_SNAKE identifier."""

    code: ErrorCode = ErrorCode.FAILED_PRECONDITION
    reason: str = "FAILED_PRECONDITION"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        violations: tuple[FieldViolation, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata = dict(metadata or {})
        self.violations = violations


class InvalidArgumentError(DomainError):
    code = ErrorCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"


class NotFoundError(DomainError):
    code = ErrorCode.NOT_FOUND
    reason = "NOT_FOUND"


class AlreadyExistsError(DomainError):
    code = ErrorCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


class PermissionDeniedError(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"


class UnauthenticatedError(DomainError):
    code = ErrorCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class FailedPreconditionError(DomainError):
    code = ErrorCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class AbortedError(DomainError):
    """A concurrency conflict: the state the request was made against has changed meanwhile
    (optimistic concurrency); reading again and retrying may succeed."""

    code = ErrorCode.ABORTED
    reason = "ABORTED"


class ResourceExhaustedError(DomainError):
    code = ErrorCode.RESOURCE_EXHAUSTED
    reason = "RESOURCE_EXHAUSTED"


class UnavailableError(DomainError):
    code = ErrorCode.UNAVAILABLE
    reason = "UNAVAILABLE"


def invalid_fields(
    violations: Mapping[str, str], *, reason: str = "INVALID_FIELDS"
) -> InvalidArgumentError:
    """Builds one error that names every rejected field."""
    items = tuple(FieldViolation(field=f, description=d) for f, d in violations.items())
    summary = "; ".join(f"{v.field}: {v.description}" for v in items)
    return InvalidArgumentError(summary, reason=reason, violations=items)
