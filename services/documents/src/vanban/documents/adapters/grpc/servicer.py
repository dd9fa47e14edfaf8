from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import grpc

from vanban.contracts.documents.v1 import documents_pb2 as pb
from vanban.contracts.documents.v1 import documents_pb2_grpc
from vanban.documents.adapters.grpc.convert import draft_from_request, incoming_to_pb
from vanban.documents.adapters.transaction import DocumentsTransaction
from vanban.documents.domain import service
from vanban.platform.caller import current_caller
from vanban.platform.clearance import Clearance
from vanban.platform.db import UnitOfWork


class DocumentRegistryServicer(documents_pb2_grpc.DocumentRegistryServiceServicer):
    def __init__(self, *, uow_factory: Callable[[], UnitOfWork], timezone: ZoneInfo) -> None:
        self._uow_factory = uow_factory
        self._tz = timezone

    async def RegisterIncomingDocument(
        self, request: pb.RegisterIncomingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterIncomingDocumentResponse:
        caller = current_caller()
        caller.require_role(*service.REGISTER_ROLES)
        draft = draft_from_request(request)
        async with self._uow_factory() as uow:
            document = await service.register_incoming(
                tx=DocumentsTransaction(uow, caller=caller),
                draft=draft,
                registered_by=caller.subject,
                now=datetime.now(self._tz),
                clearance=Clearance.TOP_SECRET if caller.is_service else caller.clearance,
            )
        return pb.RegisterIncomingDocumentResponse(document=incoming_to_pb(document))

    async def GetIncomingDocument(
        self, request: pb.GetIncomingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetIncomingDocumentResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            document = await service.get_incoming(
                tx=DocumentsTransaction(uow, caller=caller),
                document_id=request.id,
                reader=service.Reader(
                    roles=caller.roles, clearance=caller.clearance, is_service=caller.is_service
                ),
            )
        return pb.GetIncomingDocumentResponse(document=incoming_to_pb(document))
