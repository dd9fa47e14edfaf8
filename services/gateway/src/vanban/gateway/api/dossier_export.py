"""A dossier's export (a BagIt bag, an E-ARK-style SIP, or one PDF) relayed from the archive's
stream as a download.

The archive sends progress while it prepares the export, then a header (type, name, size), then
the bytes. The progress is skipped; a refusal before the header is a problem+json answer like any
other; once the header is here the answer starts, with its Content-Length. A failure after that
can no longer become a problem: the download is cut off (the client sees fewer bytes than
announced), never ended as if it were complete.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import grpc
from fastapi.responses import StreamingResponse

from vanban.contracts.archive.v1 import records_pb2 as pb
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.upload import FILE_NAME_MAX

# What a saved file's name must not carry: control characters and path separators.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")
# The plain-ASCII `filename` keeps letters, digits, dots, dashes and underscores.
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
# An extension longer than this is part of the name, not kept when the name is shortened.
_SUFFIX_MAX = 16


class ExportBrokenError(Exception):
    """The archive's export failed, or sent other than its header announced, after the answer
    began: the connection is cut off."""


def _protocol(detail: str) -> HttpProblem:
    return HttpProblem(502, "ARCHIVE_PROTOCOL", detail)


def attachment(file_name: str, *, fallback: str) -> str:
    """Content-Disposition of a file to save (RFC 6266): `filename*` in UTF-8, and `filename` in
    plain ASCII for clients that read only that one (Vietnamese letters without their marks)."""
    name = _shortened(_UNSAFE.sub("_", file_name).strip(" .")) or fallback
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = _NOT_ASCII_SAFE.sub("_", plain).strip("._") or fallback
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _shortened(name: str) -> str:
    """At most the length a file system keeps, its extension kept."""
    if len(name) <= FILE_NAME_MAX:
        return name
    suffix = PurePosixPath(name).suffix
    suffix = suffix if len(suffix) <= _SUFFIX_MAX else ""
    return name[: FILE_NAME_MAX - len(suffix)] + suffix


async def _header(stream: Any) -> pb.ExportHeader:
    """The export's header: the progress before it is skipped."""
    while True:
        message = await stream.read()
        if message is grpc.aio.EOF:
            raise _protocol("the archive ended the export without its header")
        part = message.WhichOneof("part")
        if part == "header":
            header: pb.ExportHeader = message.header
            if header.size < 0:
                raise _protocol("the archive announced an export of a negative size")
            return header
        if part != "progress":
            raise _protocol("the archive sent the export's bytes before its header")


async def relay_export(stream: Any, *, media_type: str, fallback_name: str) -> StreamingResponse:
    """The `ExportDossier` stream as a download of `media_type`, named as the archive's header
    names it (`fallback_name` when it does not)."""
    try:
        header = await _header(stream)
    except BaseException:
        stream.cancel()
        raise
    size = header.size

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        # The last chunk is held back until the stream ended well: an archive failing after
        # its last byte (a file found damaged at the end) still cuts the download off.
        held = b""
        try:
            async for message in stream:
                part = message.WhichOneof("part")
                if part == "progress":
                    continue
                if part != "chunk":
                    raise ExportBrokenError("the archive sent a second header")
                sent += len(message.chunk)
                if sent > size:
                    raise ExportBrokenError(
                        f"the archive sent more than the {size} bytes announced"
                    )
                if held:
                    yield held
                held = message.chunk
            if sent != size:
                raise ExportBrokenError(f"the archive sent {sent} of the {size} bytes announced")
            if held:
                yield held
        except grpc.aio.AioRpcError as exc:
            raise ExportBrokenError(
                f"the archive's export failed after {sent} of {size} bytes: {exc.code().name}"
            ) from exc
        finally:
            # Done, failed, or the client went away: the archive stops preparing it too.
            stream.cancel()

    return StreamingResponse(
        body(),
        media_type=media_type,
        headers={
            "Content-Length": str(size),
            "Content-Disposition": attachment(header.file_name, fallback=fallback_name),
        },
    )
