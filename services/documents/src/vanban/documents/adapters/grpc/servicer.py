from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import grpc
from sqlalchemy.exc import IntegrityError

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1 import documents_pb2_grpc
from vanban.documents.adapters.db import requests
from vanban.documents.adapters.db.text_jobs import latest_digitization
from vanban.documents.adapters.grpc.convert import (
    archived_refs,
    draft_from_request,
    file_from_pb,
    incoming_to_pb,
    outgoing_draft_from_request,
    outgoing_to_pb,
    signature_from_pb,
)
from vanban.documents.adapters.grpc.registers import BOOKS_IN_PARALLEL, RegistersMixin
from vanban.documents.adapters.grpc.search import SearchMixin
from vanban.documents.adapters.peers import GrpcDirectory
from vanban.documents.adapters.transaction import DocumentsTransaction
from vanban.documents.domain import archiving, service
from vanban.documents.domain.model import IncomingDocument
from vanban.documents.domain.ports import ApprovalGate
from vanban.platform.caller import Caller, current_caller
from vanban.platform.clearance import Clearance
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import PermissionDeniedError, invalid_fields

REQUEST_ID = re.compile(r"[0-9A-Za-z:._-]{1,64}")


def check_request_id(request_id: str) -> str:
    """What is wrong with a registration's request id, or "" (the contract's rule)."""
    if REQUEST_ID.fullmatch(request_id) is None:
        return "at most 64 letters, digits and :._-"
    return ""


def reader_of(caller: Caller) -> service.Reader:
    return service.Reader(
        roles=caller.roles,
        clearance=caller.clearance,
        is_service=caller.is_service,
        person_id="" if caller.is_service else caller.subject,
        units=caller.units,
    )


Document = TypeVar("Document", pb.IncomingDocument, pb.OutgoingDocument)


def queued(message: Document) -> Document:
    """A document just registered, drafted or revised: its file's text job waits in the queue
    (queued in the same transaction)."""
    message.digitization.state = pb.Digitization.STATE_QUEUED
    return message


def with_digitization(message: Document, digitization: pb.Digitization | None) -> Document:
    if digitization is not None:
        message.digitization.CopyFrom(digitization)
    return message


def _expected_version(value: int) -> int | None:
    if value < 0:
        raise invalid_fields({"expected_version": "must be a version number from 1"})
    return value or None


class DocumentRegistryServicer(
    RegistersMixin, SearchMixin, documents_pb2_grpc.DocumentRegistryServiceServicer
):
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        timezone: ZoneInfo,
        directory: GrpcDirectory,
        approvals: ApprovalGate,
        books_in_parallel: int = BOOKS_IN_PARALLEL,
    ) -> None:
        self._uow_factory = uow_factory
        self._tz = timezone
        self._directory = directory
        self._approvals = approvals
        self._book_slots = asyncio.Semaphore(books_in_parallel)

    def _tx(self, uow: UnitOfWork, caller: Caller) -> DocumentsTransaction:
        return DocumentsTransaction(uow, caller=caller)

    async def RegisterIncomingDocument(
        self, request: pb.RegisterIncomingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterIncomingDocumentResponse:
        caller = current_caller()
        caller.require_role(*service.REGISTER_ROLES)
        draft = draft_from_request(request)
        request_id = request.request_id
        if request_id:
            invalid = check_request_id(request_id)
            if invalid:
                raise invalid_fields({"request_id": invalid}, reason="INVALID_INCOMING_DOCUMENT")
            known = await self._registered_for(request_id, caller)
            if known is not None:
                return pb.RegisterIncomingDocumentResponse(document=incoming_to_pb(known))
        try:
            async with self._uow_factory() as uow:
                now = datetime.now(self._tz)
                document = await service.register_incoming(
                    tx=self._tx(uow, caller),
                    draft=draft,
                    registered_by=caller.subject,
                    now=now,
                    clearance=Clearance.TOP_SECRET if caller.is_service else caller.clearance,
                    reader=reader_of(caller),
                    request_id=request_id,
                )
        except IntegrityError:
            # The same request id registered concurrently and won: its document is the answer.
            known = await self._registered_for(request_id, caller) if request_id else None
            if known is None:
                raise
            return pb.RegisterIncomingDocumentResponse(document=incoming_to_pb(known))
        return pb.RegisterIncomingDocumentResponse(document=queued(incoming_to_pb(document)))

    async def _registered_for(self, request_id: str, caller: Caller) -> IncomingDocument | None:
        async with self._uow_factory() as uow:
            document_id = await requests.registered_for(uow.session, request_id)
            if document_id is None:
                return None
            return await service.get_incoming(
                tx=self._tx(uow, caller), document_id=document_id, reader=reader_of(caller)
            )

    async def GetIncomingDocument(
        self, request: pb.GetIncomingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetIncomingDocumentResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            document = await service.get_incoming(
                tx=self._tx(uow, caller), document_id=request.id, reader=reader_of(caller)
            )
            digitization = await latest_digitization(uow.session, document_id=document.id)
        return pb.GetIncomingDocumentResponse(
            document=with_digitization(incoming_to_pb(document), digitization)
        )

    async def DraftOutgoingDocument(
        self, request: pb.DraftOutgoingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DraftOutgoingDocumentResponse:
        caller = current_caller()
        caller.require_role(*service.DRAFT_ROLES)
        draft = outgoing_draft_from_request(request)
        async with self._uow_factory() as uow:
            document = await service.draft_outgoing(
                tx=self._tx(uow, caller),
                draft=draft,
                author=caller.subject,
                now=datetime.now(self._tz),
                clearance=Clearance.TOP_SECRET if caller.is_service else caller.clearance,
                drafter_units=None if reader_of(caller).reads_all else caller.units,
                reader=reader_of(caller),
            )
        return pb.DraftOutgoingDocumentResponse(document=queued(outgoing_to_pb(document)))

    async def GetOutgoingDocument(
        self, request: pb.GetOutgoingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetOutgoingDocumentResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            document = await service.get_outgoing(
                tx=self._tx(uow, caller), document_id=request.id, reader=reader_of(caller)
            )
            digitization = await latest_digitization(uow.session, document_id=document.id)
        return pb.GetOutgoingDocumentResponse(
            document=with_digitization(outgoing_to_pb(document), digitization)
        )

    async def AddOutgoingVersion(
        self, request: pb.AddOutgoingVersionRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddOutgoingVersionResponse:
        caller = current_caller()
        if not request.HasField("file"):
            raise invalid_fields({"file": "is required"}, reason="INVALID_OUTGOING_VERSION")
        expected = _expected_version(request.expected_version)
        async with self._uow_factory() as uow:
            document = await service.add_version(
                tx=self._tx(uow, caller),
                document_id=request.id,
                file=file_from_pb(request.file),
                note=request.note,
                expected_version=expected,
                reader=reader_of(caller),
                now=datetime.now(self._tz),
            )
        return pb.AddOutgoingVersionResponse(document=queued(outgoing_to_pb(document)))

    async def IssueOutgoingDocument(
        self, request: pb.IssueOutgoingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.IssueOutgoingDocumentResponse:
        caller = current_caller()
        caller.require_role(*service.ISSUE_ROLES)
        expected = _expected_version(request.expected_version)
        reader = reader_of(caller)
        # Read first (visibility, the drafting unit), then ask the directory outside any lock.
        async with self._uow_factory() as uow:
            draft = await service.get_outgoing(
                tx=self._tx(uow, caller), document_id=request.id, reader=reader
            )
        draft.require_draft()
        issuer = await self._directory.issuer(drafting_unit=draft.drafting_unit)
        async with self._uow_factory() as uow:
            document = await service.issue_outgoing(
                tx=self._tx(uow, caller),
                document_id=request.id,
                expected_version=expected,
                issuer=issuer,
                reader=reader,
                approvals=self._approvals,
                now=datetime.now(self._tz),
            )
        async with self._uow_factory() as uow:
            digitization = await latest_digitization(uow.session, document_id=document.id)
        return pb.IssueOutgoingDocumentResponse(
            document=with_digitization(outgoing_to_pb(document), digitization)
        )

    async def CancelOutgoingDocument(
        self, request: pb.CancelOutgoingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelOutgoingDocumentResponse:
        caller = current_caller()
        caller.require_role(*service.ISSUE_ROLES)
        async with self._uow_factory() as uow:
            document = await service.cancel_outgoing(
                tx=self._tx(uow, caller),
                document_id=request.id,
                reason=request.reason,
                reader=reader_of(caller),
                now=datetime.now(self._tz),
            )
        async with self._uow_factory() as uow:
            digitization = await latest_digitization(uow.session, document_id=document.id)
        return pb.CancelOutgoingDocumentResponse(
            document=with_digitization(outgoing_to_pb(document), digitization)
        )

    async def WithdrawIncomingDocument(
        self, request: pb.WithdrawIncomingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.WithdrawIncomingDocumentResponse:
        caller = current_caller()
        caller.require_service()
        # A recall arrives over the axis, where only the exchange service hears it.
        if caller.subject != service.INCOMING_WITHDRAWER:
            raise PermissionDeniedError(
                "only the exchange service withdraws incoming documents",
                reason="EXCHANGE_SERVICE_ONLY",
            )
        async with self._uow_factory() as uow:
            document = await service.withdraw_incoming(
                tx=self._tx(uow, caller),
                document_id=request.id,
                reason=request.reason,
                agreed_by=request.agreed_by,
            )
        return pb.WithdrawIncomingDocumentResponse(document=incoming_to_pb(document))

    async def RecordOutgoingSignature(
        self, request: pb.RecordOutgoingSignatureRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordOutgoingSignatureResponse:
        caller = current_caller()
        caller.require_service()
        # The signing service made the signature; another service recording one would put a
        # signature on the record that no key made.
        if caller.subject != service.SIGNATURE_RECORDER:
            raise PermissionDeniedError(
                "only the signing service records signatures",
                reason="SIGNING_SERVICE_ONLY",
            )
        if not request.HasField("signature"):
            raise invalid_fields({"signature": "is required"}, reason="INVALID_SIGNATURE")
        signature = signature_from_pb(request.signature)
        async with self._uow_factory() as uow:
            document = await service.record_signature(
                tx=self._tx(uow, caller),
                document_id=request.document_id,
                signature=signature,
                now=datetime.now(self._tz),
            )
        async with self._uow_factory() as uow:
            digitization = await latest_digitization(uow.session, document_id=document.id)
        return pb.RecordOutgoingSignatureResponse(
            document=with_digitization(outgoing_to_pb(document), digitization)
        )

    async def MarkArchived(
        self, request: pb.MarkArchivedRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkArchivedResponse:
        caller = current_caller()
        caller.require_service()
        # The archive keeps the dossiers: another service marking documents would make them
        # read-only, or destroy their records, without any handover or disposition.
        if caller.subject != archiving.ARCHIVE_MARKER:
            raise PermissionDeniedError(
                "only the archive service marks documents archived",
                reason="ARCHIVE_SERVICE_ONLY",
            )
        marks = archiving.checked_marks(
            archived_refs(request),
            dossier_id=request.dossier_id,
            disposition_id=request.disposition_id,
        )
        async with self._uow_factory() as uow:
            marked = await archiving.mark_archived(
                tx=self._tx(uow, caller), marks=marks, now=datetime.now(self._tz)
            )
        return pb.MarkArchivedResponse(marked=marked)
