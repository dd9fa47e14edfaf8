"""The files of a document request (its main PDF and attachments): checked all together before
any is stored, stored in the archive, and given back at once when documents definitely refuses
the request."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import grpc
from fastapi.responses import StreamingResponse
from starlette.datastructures import FormData, UploadFile

from vanban.contracts.archive.v1 import archive_pb2
from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.adapters.grpc.upstreams import ArchiveStub
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.deps import Upstream
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.upload import archive_chunks, check_pdf, file_name_of
from vanban.gateway.domain.ports import CallerCredentials
from vanban.platform.errors import PermissionDeniedError

logger = logging.getLogger(__name__)

# Attachments (phụ lục, tài liệu kèm theo) of one document: a limit, not a wish. Together with
# the main file they fit in the route's body limit.
ATTACHMENTS_MAX = 20

# Answers after which documents certainly recorded nothing. After any other (a timeout, the
# service unavailable, an internal error) the request may have committed and its claim be on
# the way: the files are then left to the archive's sweeper, never released.
DEFINITE_REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
    }
)


def require_clearance(principal: Principal, secrecy: str, *, doing: str) -> None:
    """Documents refuses a document above the caller's clearance; refused here too, before any
    file is stored (the same rule: `Caller.cleared_for`). `doing`: "registering", "drafting"."""
    if not principal.caller.cleared_for(secrecy):
        raise PermissionDeniedError(
            f"{doing} a document above your clearance is not allowed",
            reason="CLEARANCE_TOO_LOW",
            metadata={"secrecy": secrecy, "clearance": principal.caller.clearance},
        )


def missing(part: str) -> HttpProblem:
    return HttpProblem(422, "VALIDATION_FAILED", f"{part}: Field required", field=part)


@dataclass
class StoredFiles:
    main: docs.FileRef
    attachments: list[docs.FileRef] = field(default_factory=list)
    upload_ids: list[str] = field(default_factory=list)


def uploads(form: FormData, *, attachments: bool) -> tuple[UploadFile, list[UploadFile]]:
    """The `file` part and, where the route takes them, the `attachments` parts."""
    main = form.get("file")
    if not isinstance(main, UploadFile):
        raise missing("file")
    extra = form.getlist("attachments") if attachments else []
    if len(extra) > ATTACHMENTS_MAX:
        raise HttpProblem(
            422,
            "VALIDATION_FAILED",
            f"attachments: at most {ATTACHMENTS_MAX} files",
            field="attachments",
        )
    files = []
    for i, part in enumerate(extra):
        if not isinstance(part, UploadFile):
            raise HttpProblem(
                422,
                "VALIDATION_FAILED",
                f"attachments[{i}]: must be a file",
                field=f"attachments[{i}]",
            )
        files.append(part)
    return main, files


async def check_all(
    main: UploadFile, attachments: Sequence[UploadFile], *, max_bytes: int
) -> list[int]:
    """Every file is a PDF within the limit, checked before the first byte is stored; the sizes
    in order (main first)."""
    sizes = [await check_pdf(main, max_bytes=max_bytes, field="file")]
    for i, part in enumerate(attachments):
        sizes.append(await check_pdf(part, max_bytes=max_bytes, field=f"attachments[{i}]"))
    if sum(sizes) > max_bytes:
        raise HttpProblem(
            413,
            "FILE_TOO_LARGE",
            f"the files together are larger than the limit of {max_bytes // (1024 * 1024)} MB",
            field="attachments",
        )
    return sizes


async def store_all(
    archive: Upstream[ArchiveStub],
    principal: Principal,
    main: UploadFile,
    attachments: Sequence[UploadFile],
    sizes: Sequence[int],
) -> StoredFiles:
    """Stores the checked files; if one fails, those stored before are given back."""
    refs: list[docs.FileRef] = []
    upload_ids: list[str] = []
    try:
        for upload, size in zip((main, *attachments), sizes, strict=True):
            stored = await archive.stub.PutObject(
                archive_chunks(upload, size=size),
                metadata=principal.metadata,
                timeout=archive.timeout,
            )
            upload_ids.append(stored.upload_id)
            refs.append(
                docs.FileRef(
                    sha256=stored.object.sha256,
                    size=stored.object.size,
                    content_type=stored.object.content_type,
                    # The same name the archive was given (`file_name_of`); the bytes count.
                    file_name=file_name_of(upload),
                )
            )
    except BaseException:
        await release(archive, upload_ids, principal)
        raise
    return StoredFiles(main=refs[0], attachments=refs[1:], upload_ids=upload_ids)


async def release(
    archive: Upstream[ArchiveStub], upload_ids: Sequence[str], principal: Principal
) -> None:
    """Gives stored files back to the archive at once: nothing will refer to them. A failure
    here must not hide the refusal the caller is owed; the sweeper collects the files later."""
    for upload_id in upload_ids:
        try:
            await archive.stub.ReleaseUpload(
                archive_pb2.ReleaseUploadRequest(upload_id=upload_id),
                metadata=principal.metadata,
                timeout=archive.timeout,
            )
        except grpc.aio.AioRpcError as exc:
            logger.warning(
                "could not release a refused request's file; the sweeper will collect it",
                extra={"grpc_code": exc.code().name},
            )


def definitely_refused(exc: grpc.aio.AioRpcError) -> bool:
    return exc.code() in DEFINITE_REFUSALS


async def stream_file(
    archive: Upstream[ArchiveStub],
    gateway: CallerCredentials,
    *,
    sha256: str,
    file_name: str,
    download_seconds: float,
) -> StreamingResponse:
    """The exact bytes stored under `sha256`, checked against it by the archive, fetched as the
    gateway once documents agreed the caller may open the document."""
    stream = archive.stub.GetObject(
        archive_pb2.GetObjectRequest(sha256=sha256), metadata=gateway, timeout=download_seconds
    )
    return await relay_download(
        stream,
        missing=HttpProblem(502, "ARCHIVE_PROTOCOL", "the archive answered without object info"),
        describe=lambda info: (info.content_type or "application/pdf", file_name),
    )


async def relay_download(
    stream: Any, *, missing: HttpProblem, describe: Callable[[Any], tuple[str, str]]
) -> StreamingResponse:
    """An upstream server stream whose first message is the file's `info` (size, sha256), then
    its chunks, relayed as a download; `describe` names the media type and file name from the
    info. A refusal before the first message comes out as problem+json; no info is `missing`."""
    try:
        first = await stream.read()  # the info message (or EOF); errors surface as problem+json
    except BaseException:
        stream.cancel()
        raise
    if first is grpc.aio.EOF or not first.HasField("info"):
        stream.cancel()
        raise missing

    async def body() -> AsyncIterator[bytes]:
        try:
            async for part in stream:
                yield part.chunk
        finally:
            # The client went away or the upstream failed: stop the upstream stream as well.
            stream.cancel()

    media_type, file_name = describe(first.info)
    return download(
        body(),
        size=first.info.size,
        sha256=first.info.sha256,
        media_type=media_type,
        file_name=file_name,
    )


def download(
    body: AsyncIterator[bytes], *, size: int, sha256: str, media_type: str, file_name: str
) -> StreamingResponse:
    """Bytes streamed from a service that announced their size and SHA-256 (hex) before the
    first chunk: their length, their digest (RFC 9530 `Repr-Digest`) and the name to save them
    under."""
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={
            "Content-Length": str(size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file_name, safe='')}",
            "Repr-Digest": f"sha-256=:{digest}:",
        },
    )


# The download responses of a document's file route.
FILE_DOWNLOAD_ANSWERS = (
    "ARCHIVE_PROTOCOL",
    "FIXITY_MISMATCH",
    "OBJECT_MISSING",
    "OBJECT_DESTROYED",
    "OBJECT_STORE_UNAVAILABLE",
)
