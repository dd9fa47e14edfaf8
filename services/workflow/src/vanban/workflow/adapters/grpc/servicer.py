from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import grpc

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.contracts.workflow.v1 import workflow_pb2_grpc
from vanban.platform.caller import current_caller
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import NotFoundError
from vanban.workflow.adapters.grpc.convert import assignment_to_pb, draft_from_request
from vanban.workflow.adapters.peers import GrpcPeers
from vanban.workflow.adapters.transaction import WorkflowTransaction
from vanban.workflow.domain import service


class WorkflowServicer(workflow_pb2_grpc.WorkflowServiceServicer):
    def __init__(
        self, *, uow_factory: Callable[[], UnitOfWork], peers: GrpcPeers, timezone: ZoneInfo
    ) -> None:
        self._uow_factory = uow_factory
        self._peers = peers
        self._tz = timezone

    async def AssignIncomingDocument(
        self, request: pb.AssignIncomingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.AssignIncomingDocumentResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            assignment = await service.assign_incoming(
                tx=WorkflowTransaction(uow, actor=caller.subject),
                peers=self._peers,
                actor=caller,
                draft=draft_from_request(request),
                now=datetime.now(self._tz),
            )
        return pb.AssignIncomingDocumentResponse(assignment=assignment_to_pb(assignment))

    async def GetAssignment(
        self, request: pb.GetAssignmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssignmentResponse:
        caller = current_caller()
        async with self._uow_factory() as uow:
            assignment = await service.current_assignment(
                tx=WorkflowTransaction(uow, actor=caller.subject), document_id=request.document_id
            )
        # Only those who may open the document see how it was assigned.
        if not caller.is_service and not await self._peers.caller_can_read(request.document_id):
            raise NotFoundError("the document has no assignment", reason="ASSIGNMENT_NOT_FOUND")
        return pb.GetAssignmentResponse(assignment=assignment_to_pb(assignment))
