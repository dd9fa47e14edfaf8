"""Registers (sổ đăng ký), document types and register books. Handlers only translate: the
documents service decides who may see which register and print which book."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.registers import document_type_out, register_out
from vanban.gateway.api.deps import Documents, Settings, allowed
from vanban.gateway.api.openapi import PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.registers import DocumentTypeList, RegisterList

router = APIRouter(tags=["registers"])

# Any signed-in person reads the catalogue; API keys need a read scope.
CatalogueReader = Annotated[Principal, allowed("incoming:read")]
# A book lists every document of a register: people only (no API key holds the scope), and
# documents decides which people (docs/security/permissions.md).
BookReader = Annotated[Principal, allowed("registers:book")]

_FORMATS = {
    "pdf": docs.RenderRegisterBookRequest.FORMAT_PDF,
    "xlsx": docs.RenderRegisterBookRequest.FORMAT_XLSX,
}
_DAY = r"^\d{4}-\d{2}-\d{2}$"
_BOOK_TYPES: dict[str, dict[str, object]] = {
    "application/pdf": {},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
}


@router.get(
    "/v1/registers",
    response_model=RegisterList,
    operation_id="listRegisters",
    responses=answers(*SCOPED, *UPSTREAM),
)
async def list_registers(principal: CatalogueReader, documents: Documents) -> RegisterList:
    """The agency's numbering registers (sổ đăng ký), without those above your clearance."""
    answer = await documents.stub.ListRegisters(
        docs.ListRegistersRequest(), metadata=principal.metadata, timeout=documents.timeout
    )
    return RegisterList(items=[register_out(r) for r in answer.registers])


@router.get(
    "/v1/document-types",
    response_model=DocumentTypeList,
    operation_id="listDocumentTypes",
    responses=answers(*SCOPED, *UPSTREAM),
)
async def list_document_types(principal: CatalogueReader, documents: Documents) -> DocumentTypeList:
    """The document types (tên loại văn bản) and their abbreviations (Decree 30/2020)."""
    answer = await documents.stub.ListDocumentTypes(
        docs.ListDocumentTypesRequest(), metadata=principal.metadata, timeout=documents.timeout
    )
    return DocumentTypeList(items=[document_type_out(t) for t in answer.document_types])


@router.get(
    "/v1/registers/{register_id}/book",
    operation_id="getRegisterBook",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The book as PDF or XLSX (Content-Disposition names the file)",
            "content": _BOOK_TYPES,
        },
        **answers(
            *SCOPED,
            *PARAMETERS,
            *UPSTREAM,
            "ROLE_REQUIRED",
            "REGISTER_NOT_FOUND",
            "INVALID_BOOK_REQUEST",
            "BOOKS_BUSY",
        ),
    },
)
async def get_register_book(
    principal: BookReader,
    documents: Documents,
    settings: Settings,
    register_id: Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")],
    from_date: Annotated[
        str, Query(alias="from", pattern=_DAY, description="First day, YYYY-MM-DD (Vietnam)")
    ],
    to_date: Annotated[
        str,
        Query(
            alias="to",
            pattern=_DAY,
            description="Last day, YYYY-MM-DD, included; at most one year after `from`",
        ),
    ],
    book_format: Annotated[
        Literal["pdf", "xlsx"], Query(alias="format", description="pdf (default) or xlsx")
    ] = "pdf",
) -> StreamingResponse:
    """The sổ đăng ký văn bản đến / đi of a period (Decree 30/2020, appendix IV): the documents
    registered or issued in it, by number, with cancelled numbers and their reasons. Each
    documents replica renders a few books at once; beyond that the answer is 429 `BOOKS_BUSY`
    at once (nothing queues): try again in a minute."""
    stream = documents.stub.RenderRegisterBook(
        docs.RenderRegisterBookRequest(
            register_id=register_id,
            from_date=from_date,
            to_date=to_date,
            format=_FORMATS[book_format],
        ),
        metadata=principal.metadata,
        timeout=settings.download_timeout_seconds,
    )
    try:
        # Documents answers every refusal before its first message: a problem+json here.
        first = await stream.read()
    except BaseException:
        stream.cancel()
        raise
    if not isinstance(first, docs.RenderRegisterBookResponse) or not first.content_type:
        stream.cancel()
        raise HttpProblem(502, "UPSTREAM_ERROR", "documents answered without the book's type")

    async def body() -> AsyncIterator[bytes]:
        try:
            if first.chunk:
                yield first.chunk
            async for part in stream:
                yield part.chunk
        finally:
            stream.cancel()

    name = first.file_name or f"so-dang-ky.{book_format}"
    return StreamingResponse(
        body(),
        media_type=first.content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"},
    )
