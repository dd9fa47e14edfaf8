"""The services the records call: documents (the documents a dossier holds, and marking them
read-only at a handover) and directory (the agency's name for the records' PDFs).

A document is looked up for the person of the call being served (their token passes on), so a
dossier only ever holds what its keeper may open; marking is the archive's own work."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import grpc

from vanban.archive.domain.records import DocumentKind, DossierDocument, DossierFile
from vanban.archive.domain.records_ports import FoundDocument
from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.directory.v1.directory_pb2_grpc import DirectoryServiceStub
from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.platform.caller import CALLER_METADATA_KEY
from vanban.platform.clearance import Clearance
from vanban.platform.grpc.status import passed_on

if TYPE_CHECKING:
    from vanban.contracts.directory.v1.directory_pb2_grpc import DirectoryServiceAsyncStub
    from vanban.contracts.documents.v1.documents_pb2_grpc import (
        DocumentRegistryServiceAsyncStub,
    )

_SECRECY = {
    documents_pb2.SECRECY_UNSPECIFIED: Clearance.NONE,
    documents_pb2.SECRECY_NONE: Clearance.NONE,
    documents_pb2.SECRECY_CONFIDENTIAL: Clearance.CONFIDENTIAL,
    documents_pb2.SECRECY_SECRET: Clearance.SECRET,
    documents_pb2.SECRECY_TOP_SECRET: Clearance.TOP_SECRET,
}
_STATUS = {
    documents_pb2.DOCUMENT_STATUS_REGISTERED: "registered",
    documents_pb2.DOCUMENT_STATUS_DRAFT: "draft",
    documents_pb2.DOCUMENT_STATUS_ISSUED: "issued",
    documents_pb2.DOCUMENT_STATUS_CANCELLED: "cancelled",
    documents_pb2.DOCUMENT_STATUS_RECALLED: "recalled",
}


class GrpcPeers:
    def __init__(
        self,
        *,
        channel: Callable[[str], Any],
        service_token: Callable[[], str],
        timeout: float = 10.0,
    ) -> None:
        self._channel = channel
        self._token = service_token
        self._timeout = timeout

    # The stubs are made at first use: the channels exist once the host has started.
    @functools.cached_property
    def _documents(self) -> DocumentRegistryServiceAsyncStub:
        return DocumentRegistryServiceStub(self._channel("documents"))

    @functools.cached_property
    def _directory(self) -> DirectoryServiceAsyncStub:
        return DirectoryServiceStub(self._channel("directory"))

    def _as_service(self) -> tuple[tuple[str, str], ...]:
        return ((CALLER_METADATA_KEY, self._token()),)

    async def find(
        self, document_id: str, *, kind: DocumentKind | None, added_by: str, now: datetime
    ) -> FoundDocument:
        kinds = (kind,) if kind else (DocumentKind.INCOMING, DocumentKind.OUTGOING)
        for candidate in kinds:
            try:
                if candidate is DocumentKind.INCOMING:
                    incoming = await self._documents.GetIncomingDocument(
                        documents_pb2.GetIncomingDocumentRequest(id=document_id),
                        timeout=self._timeout,
                    )
                    return _incoming(incoming.document, added_by=added_by, now=now)
                outgoing = await self._documents.GetOutgoingDocument(
                    documents_pb2.GetOutgoingDocumentRequest(id=document_id),
                    timeout=self._timeout,
                )
                return _outgoing(outgoing.document, added_by=added_by, now=now)
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND and candidate is not kinds[-1]:
                    continue
                raise passed_on(exc) from None
        raise AssertionError("unreachable: the last kind answers or raises")

    async def mark_archived(
        self,
        documents: Sequence[tuple[DocumentKind, str]],
        *,
        dossier_id: str,
        disposition_id: str = "",
    ) -> int:
        try:
            answer = await self._documents.MarkArchived(
                documents_pb2.MarkArchivedRequest(
                    documents=[
                        documents_pb2.ArchivedDocument(kind=kind.value, id=document_id)
                        for kind, document_id in documents
                    ],
                    dossier_id=dossier_id,
                    disposition_id=disposition_id,
                ),
                metadata=self._as_service(),
                timeout=self._timeout * 3,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.marked

    async def person_ids(self, usernames: Collection[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for username in sorted(usernames):
            try:
                answer = await self._directory.FindPerson(
                    directory_pb2.FindPersonRequest(username=username),
                    metadata=self._as_service(),
                    timeout=self._timeout,
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    continue
                raise passed_on(exc) from None
            found[username] = answer.person.id
        return found

    async def unit_codes(self) -> set[str]:
        try:
            answer = await self._directory.ListUnits(
                directory_pb2.ListUnitsRequest(),
                metadata=self._as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return {unit.code for unit in answer.units}

    async def person_name(self, person_id: str) -> str:
        """The person's full name for a record's signature block; the id itself when the
        directory does not know it (a record is still made)."""
        try:
            answer = await self._directory.GetPerson(
                directory_pb2.GetPersonRequest(id=person_id),
                metadata=self._as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return person_id
            raise passed_on(exc) from None
        return answer.person.full_name or person_id

    async def agency_name(self) -> str:
        try:
            answer = await self._directory.GetAgency(
                directory_pb2.GetAgencyRequest(),
                metadata=self._as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.agency.name


def _files(*refs: documents_pb2.FileRef) -> tuple[DossierFile, ...]:
    return tuple(
        DossierFile(
            sha256=ref.sha256, size=ref.size, content_type=ref.content_type, file_name=ref.file_name
        )
        for ref in refs
        if ref.sha256
    )


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _incoming(
    document: documents_pb2.IncomingDocument, *, added_by: str, now: datetime
) -> FoundDocument:
    return FoundDocument(
        document=DossierDocument(
            kind=DocumentKind.INCOMING,
            document_id=document.id,
            identifier=document.identifier,
            code_number=document.code_number,
            code_notation=document.code_notation,
            issued_date=_day(document.issued_date),
            issuer_name=document.issuer_name,
            document_type=document.document_type,
            subject=document.subject,
            page_amount=document.page_amount,
            secrecy=_SECRECY.get(document.secrecy, Clearance.TOP_SECRET),
            files=_files(document.file, *document.attachments),
            added_by=added_by,
            added_at=now,
        ),
        status=_STATUS.get(document.status, "unknown"),
        destroyed=document.archive.HasField("destroyed_at"),
    )


def _outgoing(
    document: documents_pb2.OutgoingDocument, *, added_by: str, now: datetime
) -> FoundDocument:
    # What was issued and sent: the signed file when there is one.
    main = document.signed_file if document.HasField("signed_file") else document.file
    return FoundDocument(
        document=DossierDocument(
            kind=DocumentKind.OUTGOING,
            document_id=document.id,
            identifier=document.identifier,
            code_number=document.code_number,
            code_notation=document.code_notation,
            issued_date=_day(document.issued_date),
            issuer_name="",
            document_type=document.document_type,
            subject=document.subject,
            page_amount=0,
            secrecy=_SECRECY.get(document.secrecy, Clearance.TOP_SECRET),
            files=_files(main, *document.attachments),
            added_by=added_by,
            added_at=now,
        ),
        status=_STATUS.get(document.status, "unknown"),
        destroyed=document.archive.HasField("destroyed_at"),
    )
