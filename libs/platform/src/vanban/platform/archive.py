"""The archive as other services use it for work of their own: whole files read with a size
limit, bytes stored, an upload given up. Calls are made as the calling service (its identity),
and the archive's refusals are passed on with their reasons."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import grpc

from vanban.contracts.archive.v1 import archive_pb2
from vanban.contracts.archive.v1.archive_pb2_grpc import ArchiveServiceStub
from vanban.contracts.documents.v1 import documents_pb2
from vanban.platform.caller import CALLER_METADATA_KEY
from vanban.platform.errors import FailedPreconditionError
from vanban.platform.grpc.status import passed_on

if TYPE_CHECKING:
    from vanban.contracts.archive.v1.archive_pb2_grpc import ArchiveServiceAsyncStub

CHUNK = 256 * 1024


class ArchiveFiles:
    def __init__(
        self,
        channel: Callable[[], grpc.aio.Channel],
        *,
        service_token: Callable[[], str],
        timeout: float,
    ) -> None:
        """`channel` gives the archive's channel once the host has started."""
        self._channel = channel
        self._token = service_token
        self._timeout = timeout
        self._stub: ArchiveServiceAsyncStub | None = None

    @property
    def _archive(self) -> ArchiveServiceAsyncStub:
        if self._stub is None:
            self._stub = ArchiveServiceStub(self._channel())
        return self._stub

    def _as_service(self) -> tuple[tuple[str, str], ...]:
        return ((CALLER_METADATA_KEY, self._token()),)

    async def read(
        self, sha256: str, *, max_bytes: int, too_large: str = "FILE_TOO_LARGE"
    ) -> bytes:
        """The stored bytes, refused (reason `too_large`) past `max_bytes`: by the size the
        archive announces first, and by what actually comes."""
        parts: list[bytes] = []
        size = 0
        try:
            async for message in self._archive.GetObject(
                archive_pb2.GetObjectRequest(sha256=sha256),
                metadata=self._as_service(),
                timeout=self._timeout * 6,
            ):
                part = message.WhichOneof("part")
                size += len(message.chunk) if part == "chunk" else 0
                if (part == "info" and message.info.size > max_bytes) or size > max_bytes:
                    raise FailedPreconditionError(
                        f"the file {sha256} is over {max_bytes} bytes", reason=too_large
                    )
                if part == "chunk":
                    parts.append(message.chunk)
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return b"".join(parts)

    async def store(
        self, data: bytes, *, content_type: str, file_name: str
    ) -> tuple[documents_pb2.FileRef, str]:
        """Stores `data`; its FileRef and the upload id, which holds the bytes until a record
        claims them (or `release`, or the archive's grace period)."""

        def parts() -> Iterator[archive_pb2.PutObjectRequest]:
            yield archive_pb2.PutObjectRequest(
                header=archive_pb2.ObjectHeader(
                    content_type=content_type, file_name=file_name, declared_size=len(data)
                )
            )
            for start in range(0, len(data), CHUNK):
                yield archive_pb2.PutObjectRequest(chunk=data[start : start + CHUNK])

        try:
            answer = await self._archive.PutObject(
                parts(), metadata=self._as_service(), timeout=self._timeout * 6
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        ref = documents_pb2.FileRef(
            sha256=answer.object.sha256,
            size=answer.object.size,
            content_type=content_type,
            file_name=file_name,
        )
        return ref, answer.upload_id

    async def release(self, upload_id: str) -> None:
        """Gives up an upload no record will claim; a failure is left to the grace period."""
        try:
            await self._archive.ReleaseUpload(
                archive_pb2.ReleaseUploadRequest(upload_id=upload_id),
                metadata=self._as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError:
            return
