"""The archive service as the directory's `ObjectStore`, over its gRPC contract."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable

import grpc

from vanban.contracts.archive.v1 import archive_pb2 as apb
from vanban.contracts.archive.v1 import archive_pb2_grpc
from vanban.directory.domain.model import ImageRef
from vanban.directory.domain.ports import StoredImage
from vanban.platform.caller import CALLER_METADATA_KEY
from vanban.platform.errors import DomainError, ErrorCode, UnavailableError
from vanban.platform.grpc.status import remote_error

logger = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024


class ArchiveMismatchError(DomainError):
    """The archive answered with another hash or size than the bytes sent."""

    code = ErrorCode.DATA_LOSS
    reason = "ARCHIVE_MISMATCH"


class ArchiveObjectStore:
    """Streams bytes to archive `PutObject`: the header first, then chunks.

    The channel is opened on first use, so a directory without an archive peer still starts
    (the launcher starts the directory before the archive); storing then fails as UNAVAILABLE.

    The call carries the caller token of the RPC being served (`for_caller`), never the
    directory's own identity. It is passed explicitly: grpc.aio files an interceptor under the
    first call kind it implements, so the platform's token-forwarding interceptor reaches only
    unary-unary calls, not this client-streaming one.
    """

    def __init__(
        self,
        channel: Callable[[], grpc.aio.Channel],
        *,
        timeout: float = 30.0,
        caller_token: str | None = None,
    ) -> None:
        self._channel = channel
        self._timeout = timeout
        self._token = caller_token

    def for_caller(self, caller_token: str | None) -> ArchiveObjectStore:
        """The same store, calling the archive as the given caller."""
        return ArchiveObjectStore(self._channel, timeout=self._timeout, caller_token=caller_token)

    async def put(self, data: bytes, *, content_type: str, file_name: str) -> StoredImage:
        try:
            channel = self._channel()
        except ValueError:
            raise UnavailableError(
                "the directory has no archive service configured (VANBAN_PEERS)",
                reason="ARCHIVE_NOT_CONFIGURED",
            ) from None
        stub = archive_pb2_grpc.ArchiveServiceStub(channel)

        async def parts() -> AsyncIterator[apb.PutObjectRequest]:
            yield apb.PutObjectRequest(
                header=apb.ObjectHeader(
                    content_type=content_type, file_name=file_name, declared_size=len(data)
                )
            )
            for start in range(0, len(data), CHUNK_BYTES):
                yield apb.PutObjectRequest(chunk=data[start : start + CHUNK_BYTES])

        try:
            response = await stub.PutObject(
                parts(),
                timeout=self._timeout,
                metadata=((CALLER_METADATA_KEY, self._token),) if self._token else None,
            )
        except grpc.aio.AioRpcError as exc:
            error = remote_error(exc)
            raise UnavailableError(
                f"the archive could not store the image: {exc.code().name} {error.message}",
                reason="ARCHIVE_UNAVAILABLE",
            ) from exc
        expected = hashlib.sha256(data).hexdigest()
        stored = response.object
        if stored.sha256 != expected or stored.size != len(data):
            await self.release(response.upload_id)
            raise ArchiveMismatchError(
                f"the archive stored {stored.sha256} ({stored.size} bytes) "
                f"for {expected} ({len(data)} bytes)"
            )
        return StoredImage(
            ref=ImageRef(sha256=stored.sha256, size=stored.size), upload_id=response.upload_id
        )

    async def release(self, upload_id: str) -> None:
        if not upload_id:
            return
        try:
            stub = archive_pb2_grpc.ArchiveServiceStub(self._channel())
            await stub.ReleaseUpload(
                apb.ReleaseUploadRequest(upload_id=upload_id),
                timeout=self._timeout,
                metadata=((CALLER_METADATA_KEY, self._token),) if self._token else None,
            )
        except (grpc.aio.AioRpcError, ValueError) as exc:
            logger.warning(
                "could not release an image upload; it expires in the archive",
                extra={"upload_id": upload_id, "error": repr(exc)},
            )
