"""Uploads: a hard cap on request bodies, the PDF check, and streaming into the archive."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vanban.contracts.archive.v1 import archive_pb2
from vanban.gateway.domain import api_keys
from vanban.gateway.oidc import unverified_issuer
from vanban.gateway.problems import HttpProblem
from vanban.platform.errors import UnauthenticatedError
from vanban.platform.problem import PROBLEM_CONTENT_TYPE, Problem

CHUNK_BYTES = 256 * 1024
# Routes that take files: callers must show a valid token before their body is read.
UPLOAD_PATHS = frozenset({"/v1/incoming-documents"})
# Room for the metadata part and multipart framing on top of the file itself.
MULTIPART_OVERHEAD = 1024 * 1024


class BodyTooLargeError(HTTPException):
    """Raised from inside body parsing; an HTTPException so FastAPI lets it through as is."""

    def __init__(self, limit: int) -> None:
        limit_mb = (limit - MULTIPART_OVERHEAD) / (1024 * 1024)
        super().__init__(413, f"the request is larger than the limit of {limit_mb:g} MB")


class BodyLimitMiddleware:
    """Refuses anonymous uploads and bodies over the limit before they are spooled to disk,
    whether or not the client announced a Content-Length."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self._app = app
        self._max = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        if scope["method"] == "POST" and scope["path"] in UPLOAD_PATHS:
            # Refuse anonymous uploads before their bodies are spooled to disk.
            refusal = _unauthenticated(
                scope, headers.get(b"authorization", b""), headers.get(b"x-api-key", b"")
            )
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max:
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self._max:
                    raise BodyTooLargeError(self._max)
            return message

        try:
            await self._app(scope, limited_receive, send)
        except BodyTooLargeError:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit_mb = (self._max - MULTIPART_OVERHEAD) / (1024 * 1024)
        problem = Problem(
            status=413,
            code="FILE_TOO_LARGE",
            detail=f"the request is larger than the limit of {limit_mb:g} MB",
            instance=scope.get("path", ""),
        )
        response = JSONResponse(problem.body(), status_code=413, media_type=PROBLEM_CONTENT_TYPE)
        await response(scope, receive, send)


def _unauthenticated(scope: Scope, authorization: bytes, api_key: bytes) -> JSONResponse | None:
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or api_key.decode("latin-1").strip()
    try:
        if not token:
            raise UnauthenticatedError(
                "sign in first: send Authorization: Bearer <token>", reason="TOKEN_MISSING"
            )
        oidc = getattr(scope["app"].state, "oidc", None)
        if api_keys.looks_like_api_key(token):
            api_keys.parse(token)  # checked against the database once the route runs
        elif oidc is not None and unverified_issuer(token) == oidc.issuer:
            pass  # checked against the provider's keys once the route runs
        else:
            scope["app"].state.access_tokens.verify(token)
    except UnauthenticatedError as exc:
        problem = Problem(status=401, code=exc.reason, detail=exc.message, instance=scope["path"])
        return JSONResponse(
            problem.body(),
            status_code=401,
            media_type=PROBLEM_CONTENT_TYPE,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None


async def check_pdf(upload: UploadFile, *, max_bytes: int) -> int:
    """Checks size and the PDF signature without reading the whole file into memory."""
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    if size == 0:
        raise HttpProblem(400, "FILE_EMPTY", "the file is empty", field="file")
    if size > max_bytes:
        raise HttpProblem(
            413,
            "FILE_TOO_LARGE",
            f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB",
            field="file",
        )
    head = upload.file.read(1024)
    upload.file.seek(max(0, size - 2048))
    tail = upload.file.read()
    upload.file.seek(0)
    if b"%PDF-" not in head or b"%%EOF" not in tail:
        raise HttpProblem(415, "NOT_A_PDF", "the file is not a PDF document", field="file")
    return size


async def archive_chunks(
    upload: UploadFile, *, size: int
) -> AsyncIterator[archive_pb2.PutObjectRequest]:
    yield archive_pb2.PutObjectRequest(
        header=archive_pb2.ObjectHeader(
            content_type="application/pdf", file_name=upload.filename or "", declared_size=size
        )
    )
    while chunk := await upload.read(CHUNK_BYTES):
        yield archive_pb2.PutObjectRequest(chunk=chunk)
