"""The services signing calls: documents (the document and the record of its signatures),
workflow (may the caller sign now), directory (names, signature and seal images), archive (the
bytes). Calls made for a person carry their token (the other service decides what they may
see); reading and storing bytes is done as the signing service itself."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.directory.v1.directory_pb2_grpc import DirectoryServiceStub
from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.documents.v1.documents_pb2_grpc import DocumentRegistryServiceStub
from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.contracts.workflow.v1.workflow_pb2_grpc import WorkflowServiceStub
from vanban.platform.archive import ArchiveFiles
from vanban.platform.caller import CALLER_METADATA_KEY
from vanban.platform.grpc.status import passed_on

if TYPE_CHECKING:
    from vanban.contracts.directory.v1.directory_pb2_grpc import DirectoryServiceAsyncStub
    from vanban.contracts.documents.v1.documents_pb2_grpc import (
        DocumentRegistryServiceAsyncStub,
    )
    from vanban.contracts.workflow.v1.workflow_pb2_grpc import WorkflowServiceAsyncStub


@dataclass(frozen=True, slots=True)
class PersonFacts:
    id: str
    full_name: str
    position_title: str
    signature_image: str


@dataclass(frozen=True, slots=True)
class AgencyFacts:
    code: str
    name: str
    seal_image: str


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
        # Bytes are read and stored as signing itself.
        self.archive = ArchiveFiles(
            lambda: self._aio("archive"), service_token=service_token, timeout=timeout
        )

    def _aio(self, peer: str) -> grpc.aio.Channel:
        channel: grpc.aio.Channel = self._channel(peer)
        return channel

    # The stubs are made at first use: the channels exist once the host has started.
    @functools.cached_property
    def _documents(self) -> DocumentRegistryServiceAsyncStub:
        return DocumentRegistryServiceStub(self._aio("documents"))

    @functools.cached_property
    def _workflow(self) -> WorkflowServiceAsyncStub:
        return WorkflowServiceStub(self._aio("workflow"))

    @functools.cached_property
    def _directory(self) -> DirectoryServiceAsyncStub:
        return DirectoryServiceStub(self._aio("directory"))

    def as_service(self) -> tuple[tuple[str, str], ...]:
        return ((CALLER_METADATA_KEY, self._token()),)

    async def outgoing(
        self, document_id: str, *, as_service: bool = False
    ) -> documents_pb2.OutgoingDocument:
        """The document as the caller may see it (or as signing, for work of its own)."""
        try:
            answer = await self._documents.GetOutgoingDocument(
                documents_pb2.GetOutgoingDocumentRequest(id=document_id),
                metadata=self.as_service() if as_service else None,
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.document

    async def sign_step(
        self,
        *,
        document_id: str,
        comment: str,
        on_behalf_of: str,
        expected_version: int,
        validate_only: bool,
    ) -> workflow_pb2.Approval:
        """The workflow's decision on the caller's signature (all its checks); recorded unless
        `validate_only`."""
        try:
            answer = await self._workflow.SignOutgoingDocument(
                workflow_pb2.SignOutgoingDocumentRequest(
                    document_id=document_id,
                    comment=comment,
                    on_behalf_of=on_behalf_of,
                    expected_version=expected_version,
                    validate_only=validate_only,
                ),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        return answer.approval

    async def person(self, person_id: str) -> PersonFacts:
        try:
            answer = await self._directory.GetPerson(
                directory_pb2.GetPersonRequest(id=person_id),
                metadata=self.as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        p = answer.person
        return PersonFacts(
            id=p.id,
            full_name=p.full_name,
            position_title=p.position_title,
            signature_image=p.signature_image.sha256,
        )

    async def agency(self) -> AgencyFacts:
        try:
            answer = await self._directory.GetAgency(
                directory_pb2.GetAgencyRequest(),
                metadata=self.as_service(),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
        a = answer.agency
        return AgencyFacts(code=a.code, name=a.name, seal_image=a.seal_image.sha256)

    async def record(self, request: documents_pb2.RecordOutgoingSignatureRequest) -> None:
        """Records a signature with documents, as signing (documents' RecordOutgoingSignature)."""
        try:
            await self._documents.RecordOutgoingSignature(
                request, metadata=self.as_service(), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise passed_on(exc) from None
