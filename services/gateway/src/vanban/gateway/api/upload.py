"""Uploads: files read from multipart bodies, the PDF check, and streaming into the archive
(body limits: `admission`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from vanban.contracts.archive.v1 import archive_pb2
from vanban.gateway.api.problems import HttpProblem
from vanban.platform.pdf import UnreadablePdfError, inspect_async

CHUNK_BYTES = 256 * 1024
# Room for the metadata part and multipart framing on top of the file itself.
MULTIPART_OVERHEAD = 1024 * 1024
# The longest file name the archive and the registry keep (in characters).
FILE_NAME_MAX = 255


async def check_pdf(
    upload: UploadFile, *, max_bytes: int, field: str = "file", require_eof: bool = True
) -> int:
    """Checks size, the PDF signature, and that PDFium opens the file (a damaged or
    password-protected PDF is refused here, before a byte is stored), without reading the
    whole file into memory: PDFium reads the spooled file where it lies. Problems name
    `field`. Without `require_eof` the end of the file is not looked at: a PDF whose
    signatures are validated may carry bytes after its last revision, which the report names."""
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    if size == 0:
        raise HttpProblem(400, "FILE_EMPTY", "the file is empty", field=field)
    if size > max_bytes:
        raise HttpProblem(
            413,
            "FILE_TOO_LARGE",
            f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB",
            field=field,
        )
    head = upload.file.read(1024)
    upload.file.seek(max(0, size - 2048))
    tail = upload.file.read()
    upload.file.seek(0)
    if b"%PDF-" not in head or (require_eof and b"%%EOF" not in tail):
        raise HttpProblem(415, "NOT_A_PDF", "the file is not a PDF document", field=field)
    try:
        await inspect_async(upload.file)
    except UnreadablePdfError as exc:
        raise HttpProblem(
            422, "INVALID_PDF", f"the file cannot be opened as a PDF: {exc.reason}", field=field
        ) from None
    finally:
        upload.file.seek(0)
    return size


def file_name_of(upload: UploadFile) -> str:
    """The name as the client sent it, without control characters and cut to the length the
    archive and the registry keep: the bytes count, not the name, so a long or odd name is no
    reason to refuse a document."""
    return re.sub(r"[\x00-\x1f\x7f]", "", upload.filename or "")[:FILE_NAME_MAX]


async def archive_chunks(
    upload: UploadFile, *, size: int
) -> AsyncIterator[archive_pb2.PutObjectRequest]:
    yield archive_pb2.PutObjectRequest(
        header=archive_pb2.ObjectHeader(
            content_type="application/pdf", file_name=file_name_of(upload), declared_size=size
        )
    )
    while chunk := await upload.read(CHUNK_BYTES):
        yield archive_pb2.PutObjectRequest(chunk=chunk)


def file_body(description: str, *, example: str) -> dict[str, Any]:
    """The OpenAPI multipart body of a route that takes one file and reads it itself (see
    `read_file`)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": description,
                            }
                        },
                    },
                    "example": {"file": example},
                }
            },
        }
    }


async def read_file(request: Request, *, max_bytes: int) -> tuple[bytes, UploadFile]:
    """The `file` part of a multipart body, at most `max_bytes` (the body as a whole was held
    to its limit by the admission middleware, after the caller was established)."""
    data, upload, _ = await read_file_and_fields(request, max_bytes=max_bytes, fields=())
    return data, upload


async def read_file_and_fields(
    request: Request, *, max_bytes: int, fields: tuple[str, ...]
) -> tuple[bytes, UploadFile, dict[str, str]]:
    """As `read_file`, with the text fields named in `fields` that were sent (each optional,
    at most once); any other field refuses the body."""
    async with request.form(max_files=1, max_fields=len(fields)) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HttpProblem(
                422,
                "VALIDATION_FAILED",
                "file: a multipart part named file is required",
                field="file",
            )
        unknown = sorted(set(form.keys()) - {"file", *fields})
        if unknown:
            raise HttpProblem(
                422,
                "VALIDATION_FAILED",
                f"{unknown[0]}: not a field of this body",
                field=unknown[0],
            )
        values: dict[str, str] = {}
        for name in fields:
            sent = form.getlist(name)
            if not sent:
                continue
            if len(sent) > 1 or not isinstance(sent[0], str):
                raise HttpProblem(
                    422, "VALIDATION_FAILED", f"{name}: one text field at most", field=name
                )
            values[name] = sent[0]
        data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise HttpProblem(
            413,
            "FILE_TOO_LARGE",
            f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MiB",
            field="file",
        )
    return data, upload, values
