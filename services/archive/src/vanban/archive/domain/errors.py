"""Failures of the archive, each with the `google.rpc.Code` a caller sees."""

from __future__ import annotations

from vanban.platform.errors import (
    DomainError,
    ErrorCode,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
)


class ObjectTooLargeError(ResourceExhaustedError):
    reason = "OBJECT_TOO_LARGE"

    @classmethod
    def for_limit(cls, max_bytes: int) -> ObjectTooLargeError:
        return cls(
            f"the object is larger than the limit of {max_bytes} bytes",
            metadata={"max_bytes": str(max_bytes)},
        )


class EmptyObjectError(InvalidArgumentError):
    reason = "EMPTY_OBJECT"


class SizeMismatchError(InvalidArgumentError):
    reason = "SIZE_MISMATCH"

    @classmethod
    def for_sizes(cls, *, declared: int, received: int) -> SizeMismatchError:
        return cls(
            f"the header declared {declared} bytes but {received} arrived",
            metadata={"declared_size": str(declared), "received_size": str(received)},
        )


class ObjectNotFoundError(NotFoundError):
    reason = "OBJECT_NOT_FOUND"


class FixityMismatchError(DomainError):
    """The bytes read back differ from those stored: corruption or tampering."""

    code = ErrorCode.DATA_LOSS
    reason = "FIXITY_MISMATCH"


class ObjectMissingError(DomainError):
    """The database knows the object but the object store no longer holds its bytes."""

    code = ErrorCode.DATA_LOSS
    reason = "OBJECT_MISSING"


class ObjectUnreadableError(DomainError):
    """The object store still holds the object but cannot give its bytes back: its own checksum
    no longer matches (bit rot or tampering on disk; SeaweedFS checks a CRC per stored chunk,
    MinIO a hash per erasure shard) or too little of it is intact to rebuild it. For a fixity
    check this is a failure like altered bytes."""

    code = ErrorCode.DATA_LOSS
    reason = "OBJECT_UNREADABLE"


class RetentionConflictError(FailedPreconditionError):
    """The object is already locked in a mode that cannot become the one asked for without
    bypassing the lock (GOVERNANCE to COMPLIANCE), which the archive never does."""

    reason = "RETENTION_CONFLICT"


class ClaimedObjectError(FailedPreconditionError):
    reason = "OBJECT_CLAIMED"


class ConcurrentCollectionError(DomainError):
    """The object was collected while the same content was being stored; the caller retries."""

    code = ErrorCode.ABORTED
    reason = "CONCURRENT_COLLECTION"
