"""The services exchange calls: documents (the outgoing document to send, the incoming document
a package becomes), archive (every byte), signing (XMLDSig with the agency's organisation key),
directory (the agency's own name and address for the packages' From).

Registration is made for the clerk who asked (their token, the call being served); everything
else is exchange's own work, done as the service."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc

from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.directory.v1.directory_pb2_grpc import DirectoryServiceStub
from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.contracts.signing.v1 import signing_pb2
from vanban.contracts.signing.v1.signing_pb2_grpc import SigningServiceStub
from vanban.platform.archive import ArchiveFiles
from vanban.platform.caller import CALLER_METADATA_KEY
from vanban.platform.grpc.status import passed_on

if TYPE_CHECKING:
    from vanban.contracts.directory.v1.directory_pb2_grpc import DirectoryServiceAsyncStub
    from vanban.contracts.documents.v1.documents_pb2_grpc import (
        DocumentRegistryServiceAsyncStub,
    )
    from vanban.contracts.signing.v1.signing_pb2_grpc import SigningServiceAsyncStub


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
        # Packages and the files they carry are read and stored as exchange itself.
        self.archive = ArchiveFiles(
            lambda: self._channel("archive"), service_token=service_token, timeout=timeout
        )

    # The stubs are made at first use: the channels exist once the host has started.
    @functools.cached_property
    def _documents(self) -> DocumentRegistryServiceAsyncStub:
        return DocumentRegistryServiceStub(self._channel("documents"))

    @functools.cached_property
    def _signing(self) -> SigningServiceAsyncStub:
        return SigningServiceStub(self._channel("signing"))

    @functools.cached_property
    def _directory(self) -> DirectoryServiceAsyncStub:
        return DirectoryServiceStub(self._channel("directory"))

    def _as_service(self) -> tuple[tuple[str, str], ...]:
        return ((CALLER_METADATA_KEY, self._token()),)

    async def outgoing(self, document_id: str) -> documents_pb2.OutgoingDocument:
        try:
            answer = await self._documents.GetOutgoingDocument(
                documents_pb2.GetOutgoingDocumentRequest(id=document_id),
                metadata=self._as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.document

    async def may_open_outgoing(self, document_id: str) -> documents_pb2.OutgoingDocument:
        """The outgoing document as the caller of the call being served may see it (documents
        decides; NOT_FOUND or PERMISSION_DENIED are passed on)."""
        try:
            answer = await self._documents.GetOutgoingDocument(
                documents_pb2.GetOutgoingDocumentRequest(id=document_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.document

    async def may_open_incoming(self, document_id: str) -> documents_pb2.IncomingDocument:
        """The incoming document as the caller of the call being served may see it."""
        try:
            answer = await self._documents.GetIncomingDocument(
                documents_pb2.GetIncomingDocumentRequest(id=document_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.document

    async def register_incoming(
        self, request: documents_pb2.RegisterIncomingDocumentRequest
    ) -> documents_pb2.IncomingDocument:
        """Registers for the clerk of the call being served (their roles and clearance)."""
        try:
            answer = await self._documents.RegisterIncomingDocument(
                request, timeout=self._timeout * 3
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.document

    async def withdraw_incoming(self, document_id: str, *, reason: str, agreed_by: str) -> None:
        """Documents marks the incoming document recalled by its sender (as exchange)."""
        try:
            await self._documents.WithdrawIncomingDocument(
                documents_pb2.WithdrawIncomingDocumentRequest(
                    id=document_id, reason=reason, agreed_by=agreed_by
                ),
                metadata=self._as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None

    async def agency(self) -> directory_pb2.Agency:
        try:
            answer = await self._directory.GetAgency(
                directory_pb2.GetAgencyRequest(),
                metadata=self._as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.agency

    async def sign_xml(self, xml: bytes) -> tuple[bytes, signing_pb2.Certificate]:
        try:
            answer = await self._signing.SignXml(
                signing_pb2.SignXmlRequest(xml=xml),
                metadata=self._as_service(),
                timeout=self._timeout * 3,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.signed_xml, answer.certificate

    async def verify_xml(self, xml: bytes) -> signing_pb2.VerifyXmlResponse:
        """The signer and the signed content; the signing service's refusal (INVALID_SIGNATURE,
        UNTRUSTED_CERTIFICATE, XML_*) is passed on as a DomainError with its reason."""
        try:
            answer: signing_pb2.VerifyXmlResponse = await self._signing.VerifyXml(
                signing_pb2.VerifyXmlRequest(xml=xml),
                metadata=self._as_service(),
                timeout=self._timeout * 3,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer
