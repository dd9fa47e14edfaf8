"""Registers (sổ đăng ký), the document types, and register books over gRPC: a mixin of
`DocumentRegistryServicer`."""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO
from zoneinfo import ZoneInfo

import grpc

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.documents.adapters.book import book_writer
from vanban.documents.adapters.db.books import SqlBookRepository
from vanban.documents.adapters.grpc.convert import DIRECTION_TO_PB
from vanban.documents.adapters.peers import GrpcDirectory
from vanban.documents.domain.numbering import Register
from vanban.documents.domain.register_book import (
    BookFormat,
    BookHeading,
    BookPeriod,
    BookReader,
    file_name,
    may_see_register,
    parse_period,
    readable_register,
    require_book_role,
)
from vanban.platform.caller import Caller, current_caller
from vanban.platform.convert import SECRECY_TO_PB
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import DomainError, ErrorCode, invalid_fields

logger = logging.getLogger(__name__)

# Each streamed message carries at most this much of the file.
CHUNK_BYTES = 64 * 1024
# A book smaller than this is kept in memory while it is written; a larger one in a temporary
# file, so a year's book costs disk, not the service's memory.
SPOOL_BYTES = 8 * 1024 * 1024

# Register books rendered at once by one replica: each holds a database connection and a cursor
# for the whole render (tens of seconds and tens of MB for a year's book).
BOOKS_IN_PARALLEL = 2

_REGISTER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_FORMATS = {
    pb.RenderRegisterBookRequest.FORMAT_PDF: BookFormat.PDF,
    pb.RenderRegisterBookRequest.FORMAT_XLSX: BookFormat.XLSX,
}


def register_to_pb(register: Register) -> pb.NumberingRegister:
    return pb.NumberingRegister(
        id=register.id,
        name=register.name,
        direction=DIRECTION_TO_PB[register.kind.value],
        secrecy_levels=[SECRECY_TO_PB[level] for level in sorted(register.secrecy_levels)],
        document_types=sorted(register.document_types),
    )


class BooksBusyError(DomainError):
    code = ErrorCode.RESOURCE_EXHAUSTED
    reason = "BOOKS_BUSY"


def _reader(caller: Caller) -> BookReader:
    return BookReader(roles=caller.roles, clearance=caller.clearance, is_service=caller.is_service)


class RegistersMixin:
    _uow_factory: Callable[[], UnitOfWork]
    _tz: ZoneInfo
    _directory: GrpcDirectory
    # Free slots for register books (BOOKS_IN_PARALLEL): a request finding none is refused at
    # once rather than queued, since each waiting one would be a stream held open at the gateway.
    _book_slots: asyncio.Semaphore

    async def _agency_name(self, caller: Caller) -> str:
        """The agency's name for the title page, from the directory; the book does without it
        (the agency code stands in) rather than fail over a heading."""
        try:
            return (await self._directory.issuer(drafting_unit="")).name or caller.agency_code
        # The directory unavailable or refusing, or none configured (documents run alone).
        except (DomainError, grpc.aio.AioRpcError, ValueError) as exc:
            logger.warning(
                "no agency name for the register book's title page",
                extra={"error": type(exc).__name__},
            )
            return caller.agency_code

    async def ListRegisters(
        self, request: pb.ListRegistersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRegistersResponse:
        """Every signed-in person sees the registers, except those numbering a secrecy level
        above their clearance (docs/security/permissions.md)."""
        caller = current_caller()
        async with self._uow_factory() as uow:
            registers = await SqlBookRepository(uow.session, tz=self._tz).registers()
        return pb.ListRegistersResponse(
            registers=[
                register_to_pb(register)
                for register in registers
                if may_see_register(register, caller.clearance, is_service=caller.is_service)
            ]
        )

    async def ListDocumentTypes(
        self, request: pb.ListDocumentTypesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDocumentTypesResponse:
        current_caller()  # signed in: the guard has verified the token
        async with self._uow_factory() as uow:
            types = await SqlBookRepository(uow.session, tz=self._tz).document_types()
        return pb.ListDocumentTypesResponse(
            document_types=[
                pb.DocumentType(name=t.name, abbreviation=t.abbreviation or "") for t in types
            ]
        )

    async def RenderRegisterBook(
        self, request: pb.RenderRegisterBookRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.RenderRegisterBookResponse]:
        """Every check runs, and the whole file is written, before the first message: a
        refusal or a failure is a status, never a cut-off file."""
        caller = current_caller()
        reader = _reader(caller)
        require_book_role(reader)
        period = parse_period(request.from_date, request.to_date)
        fmt = _FORMATS.get(request.format)
        if fmt is None:
            raise invalid_fields({"format": "must be pdf or xlsx"}, reason="INVALID_BOOK_REQUEST")
        if self._book_slots.locked():
            raise BooksBusyError(
                "as many register books as this service renders at once are being made; "
                "try again in a minute"
            )
        async with self._book_slots:
            async for message in self._render_book(request, reader, caller, fmt, period):
                yield message

    async def _render_book(
        self,
        request: pb.RenderRegisterBookRequest,
        reader: BookReader,
        caller: Caller,
        fmt: BookFormat,
        period: BookPeriod,
    ) -> AsyncIterator[pb.RenderRegisterBookResponse]:
        start, until = period.bounds(self._tz)
        # Asked before the database connection is taken: the directory may take seconds.
        agency_name = await self._agency_name(caller)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
            async with self._uow_factory() as uow:
                books = SqlBookRepository(uow.session, tz=self._tz)
                # An id no register can have (registers.id is VARCHAR(32)) is not looked up.
                found = (
                    await books.register(request.register_id)
                    if _REGISTER_ID.fullmatch(request.register_id)
                    else None
                )
                register = readable_register(found, reader, register_id=request.register_id)
                heading = BookHeading(
                    agency_name=agency_name,
                    register_name=register.name,
                    kind=register.kind,
                    period=period,
                )
                writer = await asyncio.to_thread(book_writer, fmt, _binary(out), heading)
                async for batch in books.book_rows(register, start=start, until=until):
                    # Rendering is CPU work: off the event loop, so other calls go on.
                    await asyncio.to_thread(writer.add, batch)
            await asyncio.to_thread(writer.close)
            out.seek(0)
            yield pb.RenderRegisterBookResponse(
                content_type=fmt.content_type, file_name=file_name(register.id, period, fmt)
            )
            while chunk := out.read(CHUNK_BYTES):
                yield pb.RenderRegisterBookResponse(chunk=chunk)


def _binary(out: tempfile.SpooledTemporaryFile[bytes]) -> BinaryIO:
    # A SpooledTemporaryFile is a binary file in all but its declared type.
    return out  # type: ignore[return-value]
