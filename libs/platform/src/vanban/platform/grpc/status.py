"""DomainError <-> gRPC status with `google.rpc.ErrorInfo` (and `BadRequest` for fields)."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from vanban.platform.errors import DomainError, ErrorCode, FieldViolation

ERROR_DOMAIN = "vanban.gov.vn"
DETAILS_KEY = "grpc-status-details-bin"


def to_rich_status(error: DomainError) -> status_pb2.Status:
    info = any_pb2.Any()
    info.Pack(
        error_details_pb2.ErrorInfo(
            reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
        )
    )
    details = [info]
    if error.violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(bad_request)
        details.append(packed)
    return status_pb2.Status(code=int(error.code), message=error.message, details=details)


def grpc_code(code: int) -> grpc.StatusCode:
    for candidate in grpc.StatusCode:
        if candidate.value[0] == code:
            return candidate
    return grpc.StatusCode.UNKNOWN


@dataclass(frozen=True)
class RemoteError:
    """What a client learns from a failed call: code, message, reason and fields."""

    code: ErrorCode | None
    message: str
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    violations: tuple[FieldViolation, ...] = ()


def remote_error(exc: grpc.aio.AioRpcError | grpc.RpcError) -> RemoteError:
    code_value = exc.code().value[0] if exc.code() is not None else ErrorCode.UNKNOWN
    try:
        code: ErrorCode | None = ErrorCode(code_value)
    except ValueError:
        code = None
    message = exc.details() or ""
    reason, domain, metadata = "", "", {}
    violations: list[FieldViolation] = []
    for key, value in _trailing_metadata(exc):
        if key != DETAILS_KEY or not isinstance(value, bytes):  # a `-bin` key's value is bytes
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            bad = error_details_pb2.BadRequest()
            # Unpack answers whether the detail is of that type (and fills the message if so).
            if detail.Unpack(info):
                reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
            elif detail.Unpack(bad):
                violations.extend(
                    FieldViolation(field=v.field, description=v.description)
                    for v in bad.field_violations
                )
    return RemoteError(
        code=code,
        message=message,
        reason=reason,
        domain=domain,
        metadata=metadata,
        violations=tuple(violations),
    )


def _trailing_metadata(exc: grpc.aio.AioRpcError | grpc.RpcError) -> list[tuple[str, str | bytes]]:
    if isinstance(exc, grpc.aio.AioRpcError):
        return list(exc.trailing_metadata() or ())
    # A blocking call's error: its metadata are (key, value) named tuples.
    return [(item.key, item.value) for item in exc.trailing_metadata() or ()]


def passed_on(exc: grpc.aio.AioRpcError) -> DomainError:
    """Another service's refusal, passed on to our caller as it was given (code, reason, the
    fields): the workflow's NOT_YOUR_STEP stays NOT_YOUR_STEP."""
    remote = remote_error(exc)
    error = DomainError(
        remote.message or exc.code().name,
        reason=remote.reason or exc.code().name,
        metadata=remote.metadata,
        violations=remote.violations,
    )
    error.code = remote.code or ErrorCode.UNAVAILABLE
    return error
