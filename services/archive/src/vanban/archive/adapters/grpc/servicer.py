from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import grpc

from vanban.archive.adapters.grpc.convert import header_from_pb, object_to_pb
from vanban.archive.adapters.spool import Spool
from vanban.archive.adapters.transaction import ArchiveTransaction
from vanban.archive.domain import service
from vanban.archive.domain.model import Content, ContentMeter
from vanban.archive.domain.ports import ObjectStore
from vanban.contracts.archive.v1 import archive_pb2 as pb
from vanban.contracts.archive.v1 import archive_pb2_grpc
from vanban.platform.caller import current_caller
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import InvalidArgumentError


class ArchiveServicer(archive_pb2_grpc.ArchiveServiceServicer):
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        store: ObjectStore,
        max_object_bytes: int,
        spool_dir: Path | None,
    ) -> None:
        self._uow_factory = uow_factory
        self._store = store
        self._max = max_object_bytes
        self._spool_dir = spool_dir

    async def PutObject(
        self,
        request_iterator: AsyncIterator[pb.PutObjectRequest],
        context: grpc.aio.ServicerContext,
    ) -> pb.PutObjectResponse:
        # Any authenticated caller may store bytes: what they are for is decided by the record
        # that claims them, and unclaimed bytes are collected.
        caller = current_caller()
        requests = aiter(request_iterator)
        first = await anext(requests, None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgumentError(
                "the first message of an upload must carry the header", reason="HEADER_REQUIRED"
            )
        header = header_from_pb(first.header).validated(max_bytes=self._max)
        meter = ContentMeter(max_bytes=self._max, declared_size=header.declared_size)
        async with Spool(self._spool_dir) as spool:
            async for request in requests:
                part = request.WhichOneof("part")
                if part == "header":
                    raise InvalidArgumentError(
                        "an upload carries exactly one header", reason="HEADER_REPEATED"
                    )
                if part == "chunk":
                    await spool.write(meter, request.chunk)
            sha256, size = meter.finish()
            obj, created, upload = await service.store_object(
                transactions=ArchiveTransaction.factory(self._uow_factory, actor=caller.subject),
                store=self._store,
                content=Content(sha256=sha256, size=size, spool=await spool.seal()),
                content_type=header.content_type,
                uploaded_by=caller.subject,
                now=datetime.now(UTC),
            )
        return pb.PutObjectResponse(object=object_to_pb(obj), created=created, upload_id=upload.id)

    async def ReleaseUpload(
        self, request: pb.ReleaseUploadRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReleaseUploadResponse:
        # Whether the bytes went is not told: callers have no use for it, and it would say
        # whether somebody else holds the same file.
        caller = current_caller()
        await service.release_upload(
            transactions=ArchiveTransaction.factory(self._uow_factory, actor=caller.subject),
            store=self._store,
            upload_id=request.upload_id,
            released_by=caller.subject,
        )
        return pb.ReleaseUploadResponse()

    async def GetObject(
        self, request: pb.GetObjectRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GetObjectResponse]:
        caller = current_caller()
        # Reading by hash is for services that checked the record first (the gateway asks
        # documents): knowing a SHA-256 must not be enough to read a secret file.
        caller.require_service()
        obj, chunks = await service.open_object(
            transactions=ArchiveTransaction.factory(self._uow_factory, actor=caller.subject),
            store=self._store,
            sha256=request.sha256,
        )
        yield pb.GetObjectResponse(info=object_to_pb(obj))
        async for chunk in chunks:
            yield pb.GetObjectResponse(chunk=chunk)

    async def StatObject(
        self, request: pb.StatObjectRequest, context: grpc.aio.ServicerContext
    ) -> pb.StatObjectResponse:
        caller = current_caller()
        caller.require_service()
        obj = await service.stat_object(
            transactions=ArchiveTransaction.factory(self._uow_factory, actor=caller.subject),
            sha256=request.sha256,
        )
        return pb.StatObjectResponse(object=object_to_pb(obj))
