from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

import grpc

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.contracts.workflow.v1 import workflow_pb2_grpc
from vanban.platform.caller import current_caller
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import NotFoundError, invalid_fields
from vanban.platform.paging import bad_token, decode_token, encode_token, page_size
from vanban.workflow.adapters.db.stats import SqlStats
from vanban.workflow.adapters.grpc.convert import (
    STATE_FROM_PB,
    approval_action_to_pb,
    approval_to_pb,
    assignment_to_pb,
    calendar_day_to_pb,
    calendar_days_from_pb,
    counts_to_pb,
    dossier_to_pb,
    draft_from_request,
    forward_from_request,
    task_to_pb,
)
from vanban.workflow.adapters.peers import CallerItemAccess, GrpcPeers
from vanban.workflow.adapters.transaction import WorkflowTransaction
from vanban.workflow.domain import (
    approving,
    calendar_service,
    dossiers,
    handling,
    service,
    stats,
)
from vanban.workflow.domain.approvals import Decision
from vanban.workflow.domain.calendar import DEFAULT_WORKING_DAYS, Priority


def _time_position(token: str, key: str) -> tuple[datetime, str] | None:
    """The (instant, id) keyset position a time-ordered list's page token holds under `key`;
    None without a token."""
    if not token:
        return None
    position = decode_token(token)
    try:
        after = (datetime.fromisoformat(position[key]), str(uuid.UUID(position["i"])))
    except (KeyError, ValueError):
        raise bad_token() from None
    if after[0].tzinfo is None or not 2000 <= after[0].year <= 2200:
        raise bad_token()  # PostgreSQL cannot compare far years: a forged token
    return after


class WorkflowServicer(workflow_pb2_grpc.WorkflowServiceServicer):
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        peers: GrpcPeers,
        timezone: ZoneInfo,
        default_days: Mapping[Priority, int] = DEFAULT_WORKING_DAYS,
    ) -> None:
        self._uow_factory = uow_factory
        self._peers = peers
        self._tz = timezone
        self._default_days = default_days

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
                default_days=self._default_days,
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

    def _tx(self, uow: UnitOfWork) -> WorkflowTransaction:
        return WorkflowTransaction(uow, actor=current_caller().subject)

    async def GetTask(
        self, request: pb.GetTaskRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTaskResponse:
        async with self._uow_factory() as uow:
            view = await handling.read_task(
                tx=self._tx(uow), peers=self._peers, actor=current_caller(), task_id=request.id
            )
        return pb.GetTaskResponse(
            task=task_to_pb(view.task),
            assignment=assignment_to_pb(view.assignment),
            tree=[task_to_pb(t) for t in view.tree],
        )

    async def ForwardTask(
        self, request: pb.ForwardTaskRequest, context: grpc.aio.ServicerContext
    ) -> pb.ForwardTaskResponse:
        forward = forward_from_request(request)
        now = datetime.now(self._tz)
        async with self._uow_factory() as uow:
            created = await handling.forward_task(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                task_id=request.id,
                request=forward,
                on_behalf_of=request.on_behalf_of,
                now=now,
                today=now.date(),
            )
        return pb.ForwardTaskResponse(created=[task_to_pb(t) for t in created])

    async def ReportTaskProgress(
        self, request: pb.ReportTaskProgressRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportTaskProgressResponse:
        async with self._uow_factory() as uow:
            task = await handling.progress_task(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                task_id=request.id,
                note=request.note,
                on_behalf_of=request.on_behalf_of,
                now=datetime.now(self._tz),
            )
        return pb.ReportTaskProgressResponse(task=task_to_pb(task))

    async def CompleteTask(
        self, request: pb.CompleteTaskRequest, context: grpc.aio.ServicerContext
    ) -> pb.CompleteTaskResponse:
        reply = request.reply_document_id.strip() or None
        if reply is not None:
            try:
                reply = str(uuid.UUID(reply))
            except ValueError:
                raise invalid_fields(
                    {"reply_document_id": "must be a document id"}, reason="INVALID_COMPLETION"
                ) from None
            # The reply is an outgoing document (a draft or issued) the handler may open.
            if await self._peers.outgoing(reply) is None:
                raise invalid_fields(
                    {"reply_document_id": "no outgoing document you may open has this id"},
                    reason="INVALID_COMPLETION",
                )
        async with self._uow_factory() as uow:
            task = await handling.complete_task(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                task_id=request.id,
                result=request.result,
                reply_document_id=reply,
                on_behalf_of=request.on_behalf_of,
                now=datetime.now(self._tz),
            )
        return pb.CompleteTaskResponse(task=task_to_pb(task))

    async def ReturnTask(
        self, request: pb.ReturnTaskRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReturnTaskResponse:
        async with self._uow_factory() as uow:
            task = await handling.return_task(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                task_id=request.id,
                reason=request.reason,
                on_behalf_of=request.on_behalf_of,
                now=datetime.now(self._tz),
            )
        return pb.ReturnTaskResponse(task=task_to_pb(task))

    async def RecallTask(
        self, request: pb.RecallTaskRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecallTaskResponse:
        async with self._uow_factory() as uow:
            recalled = await handling.recall_task(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                task_id=request.id,
                on_behalf_of=request.on_behalf_of,
                now=datetime.now(self._tz),
            )
        return pb.RecallTaskResponse(recalled=[task_to_pb(t) for t in recalled])

    async def ListTasks(
        self, request: pb.ListTasksRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTasksResponse:
        size = page_size(
            request.page_size, default=handling.PAGE_DEFAULT, maximum=handling.PAGE_MAX
        )
        states = tuple(STATE_FROM_PB[s] for s in request.states if s in STATE_FROM_PB)
        if len(states) != len(request.states):
            raise invalid_fields({"states": "unknown task state"}, reason="INVALID_FILTER")
        after = _time_position(request.page_token, "c")
        async with self._uow_factory() as uow:
            page = await handling.my_tasks(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                states=states,
                size=size,
                after=after,
            )
        token = ""
        if page.next_after is not None:
            token = encode_token({"c": page.next_after[0].isoformat(), "i": page.next_after[1]})
        return pb.ListTasksResponse(
            tasks=[task_to_pb(t) for t in page.tasks], next_page_token=token
        )

    async def GetCalendar(
        self, request: pb.GetCalendarRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCalendarResponse:
        async with self._uow_factory() as uow:
            days = await calendar_service.year_of(tx=self._tx(uow), year=request.year)
        return pb.GetCalendarResponse(
            year=request.year, days=[calendar_day_to_pb(d) for d in days], entered=bool(days)
        )

    async def SetCalendar(
        self, request: pb.SetCalendarRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetCalendarResponse:
        days = calendar_days_from_pb(request.days)
        async with self._uow_factory() as uow:
            clean = await calendar_service.set_year(
                tx=self._tx(uow),
                actor=current_caller(),
                year=request.year,
                days=days,
                now=datetime.now(self._tz),
            )
        return pb.SetCalendarResponse(
            year=request.year, days=[calendar_day_to_pb(d) for d in clean]
        )

    async def SubmitOutgoingDocument(
        self, request: pb.SubmitOutgoingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitOutgoingDocumentResponse:
        async with self._uow_factory() as uow:
            approval = await approving.submit(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                document_id=request.document_id,
                signer=request.signer_id,
                comment=request.comment,
                now=datetime.now(self._tz),
            )
        return pb.SubmitOutgoingDocumentResponse(approval=approval_to_pb(approval))

    async def _decide(
        self, request: pb.ApproveStepRequest | pb.ReturnStepRequest, decision: Decision
    ) -> pb.Approval:
        async with self._uow_factory() as uow:
            approval = await approving.decide(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                approval_id=request.approval_id,
                decision=decision,
                comment=request.comment,
                on_behalf_of=request.on_behalf_of,
                now=datetime.now(self._tz),
                expected_version=request.expected_version,
            )
        return approval_to_pb(approval)

    async def ApproveStep(
        self, request: pb.ApproveStepRequest, context: grpc.aio.ServicerContext
    ) -> pb.ApproveStepResponse:
        return pb.ApproveStepResponse(approval=await self._decide(request, Decision.APPROVED))

    async def ReturnStep(
        self, request: pb.ReturnStepRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReturnStepResponse:
        return pb.ReturnStepResponse(approval=await self._decide(request, Decision.RETURNED))

    async def SignOutgoingDocument(
        self, request: pb.SignOutgoingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.SignOutgoingDocumentResponse:
        async with self._uow_factory() as uow:
            approval = await approving.sign_document(
                tx=self._tx(uow),
                peers=self._peers,
                actor=current_caller(),
                document_id=request.document_id,
                comment=request.comment,
                on_behalf_of=request.on_behalf_of,
                now=datetime.now(self._tz),
                expected_version=request.expected_version,
                dry_run=request.validate_only,
            )
        return pb.SignOutgoingDocumentResponse(approval=approval_to_pb(approval))

    async def GetApproval(
        self, request: pb.GetApprovalRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetApprovalResponse:
        async with self._uow_factory() as uow:
            found = await approving.view(
                tx=self._tx(uow),
                peers=self._peers,
                approval_id=request.id,
                document_id=request.document_id,
            )
        return pb.GetApprovalResponse(
            approval=approval_to_pb(found.approval),
            history=[approval_action_to_pb(a) for a in found.history],
        )

    async def ListMyApprovals(
        self, request: pb.ListMyApprovalsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMyApprovalsResponse:
        size = page_size(
            request.page_size, default=handling.PAGE_DEFAULT, maximum=approving.PAGE_MAX
        )
        after = _time_position(request.page_token, "u")
        caller = current_caller()
        _ = caller.person_id  # a person's inbox: a service identity has none
        async with self._uow_factory() as uow:
            found = await approving.waiting_for_me(
                tx=self._tx(uow), peers=self._peers, actor=caller, after=after, size=size + 1
            )
        token = ""
        if len(found) > size:
            found = found[:size]
            token = encode_token({"u": found[-1].updated_at.isoformat(), "i": found[-1].id})
        return pb.ListMyApprovalsResponse(
            approvals=[approval_to_pb(a) for a in found], next_page_token=token
        )

    async def CheckIssuable(
        self, request: pb.CheckIssuableRequest, context: grpc.aio.ServicerContext
    ) -> pb.CheckIssuableResponse:
        async with self._uow_factory() as uow:
            await approving.check_issuable(
                tx=self._tx(uow),
                actor=current_caller(),
                document_id=request.document_id,
                version=request.version,
                now=datetime.now(self._tz),
            )
        return pb.CheckIssuableResponse()

    async def ListApprovalChains(
        self, request: pb.ListApprovalChainsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListApprovalChainsResponse:
        async with self._uow_factory() as uow:
            chains = await approving.list_chains(tx=self._tx(uow))
        return pb.ListApprovalChainsResponse(
            chains=[
                pb.ApprovalChain(document_type=t, steps=[s.value for s in steps])
                for t, steps in sorted(chains.items())
            ]
        )

    async def SetApprovalChain(
        self, request: pb.SetApprovalChainRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetApprovalChainResponse:
        async with self._uow_factory() as uow:
            chain = await approving.set_chain(
                tx=self._tx(uow),
                actor=current_caller(),
                document_type=request.chain.document_type,
                steps=list(request.chain.steps),
            )
        return pb.SetApprovalChainResponse(
            chain=pb.ApprovalChain(
                document_type=request.chain.document_type.strip(), steps=[s.value for s in chain]
            )
        )

    async def GetStats(
        self, request: pb.GetStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetStatsResponse:
        caller = current_caller()
        org = await self._peers.organisation()
        async with self._uow_factory() as uow:
            found = await stats.statistics(
                repository=SqlStats(uow.session),
                actor=caller,
                org=org,
                first=getattr(request, "from"),
                last=request.to,
                unit=request.unit,
                person=request.person_id,
                now=datetime.now(self._tz),
                tz_name=self._tz.key,
            )
        answer = pb.GetStatsResponse(
            to=found.period.last.isoformat(),
            today=found.today.isoformat(),
            units=[
                pb.UnitCounts(unit=u, counts=counts_to_pb(c))
                for u, c in sorted(found.units.items())
            ],
            people=[
                pb.PersonCounts(person_id=p, counts=counts_to_pb(c))
                for p, c in sorted(found.people.items())
            ],
        )
        setattr(answer, "from", found.period.first.isoformat())
        if found.agency is not None:
            answer.agency.CopyFrom(counts_to_pb(found.agency))
        return answer

    async def ListOverdueTasks(
        self, request: pb.ListOverdueTasksRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOverdueTasksResponse:
        size = page_size(
            request.page_size, default=handling.PAGE_DEFAULT, maximum=handling.PAGE_MAX
        )
        after = None
        if request.page_token:
            position = decode_token(request.page_token)
            try:
                after = (date.fromisoformat(position["d"]), str(uuid.UUID(position["i"])))
            except (KeyError, ValueError, TypeError):
                raise bad_token() from None
        caller = current_caller()
        org = await self._peers.organisation()
        async with self._uow_factory() as uow:
            found = await stats.overdue_tasks(
                repository=SqlStats(uow.session),
                actor=caller,
                org=org,
                unit=request.unit,
                person=request.person_id,
                after=after,
                size=size + 1,
                now=datetime.now(self._tz),
            )
        token = ""
        if len(found) > size:
            found = found[:size]
            last = found[-1]
            assert last.deadline is not None
            token = encode_token({"d": last.deadline.isoformat(), "i": last.id})
        return pb.ListOverdueTasksResponse(
            tasks=[task_to_pb(t) for t in found], next_page_token=token
        )

    async def OpenWorkDossier(
        self, request: pb.OpenWorkDossierRequest, context: grpc.aio.ServicerContext
    ) -> pb.OpenWorkDossierResponse:
        actor = current_caller()
        _ = actor.person_id  # a person's dossier: a service identity has none
        async with self._uow_factory() as uow:
            dossier = await dossiers.open_dossier(
                tx=self._tx(uow),
                actor=actor,
                title=request.title,
                description=request.description,
                now=datetime.now(self._tz),
            )
        return pb.OpenWorkDossierResponse(dossier=dossier_to_pb(dossier))

    async def GetWorkDossier(
        self, request: pb.GetWorkDossierRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetWorkDossierResponse:
        async with self._uow_factory() as uow:
            dossier = await dossiers.read_dossier(
                tx=self._tx(uow), actor=current_caller(), dossier_id=request.id
            )
        return pb.GetWorkDossierResponse(dossier=dossier_to_pb(dossier))

    async def ListWorkDossiers(
        self, request: pb.ListWorkDossiersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWorkDossiersResponse:
        size = page_size(
            request.page_size, default=handling.PAGE_DEFAULT, maximum=handling.PAGE_MAX
        )
        after = _time_position(request.page_token, "c")
        async with self._uow_factory() as uow:
            found = list(
                await dossiers.my_dossiers(
                    tx=self._tx(uow), actor=current_caller(), after=after, size=size + 1
                )
            )
        token = ""
        if len(found) > size:
            found = found[:size]
            token = encode_token({"c": found[-1].created_at.isoformat(), "i": found[-1].id})
        return pb.ListWorkDossiersResponse(
            dossiers=[dossier_to_pb(d) for d in found], next_page_token=token
        )

    async def AddWorkDossierItem(
        self, request: pb.AddWorkDossierItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddWorkDossierItemResponse:
        actor = current_caller()
        async with self._uow_factory() as uow:
            tx = self._tx(uow)
            dossier = await dossiers.add_item(
                tx=tx,
                access=CallerItemAccess(self._peers, tx, actor),
                actor=actor,
                dossier_id=request.dossier_id,
                kind=request.kind,
                ref_id=request.ref_id,
                note=request.note,
                now=datetime.now(self._tz),
            )
        return pb.AddWorkDossierItemResponse(dossier=dossier_to_pb(dossier))

    async def RemoveWorkDossierItem(
        self, request: pb.RemoveWorkDossierItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.RemoveWorkDossierItemResponse:
        async with self._uow_factory() as uow:
            await dossiers.remove_item(
                tx=self._tx(uow),
                actor=current_caller(),
                dossier_id=request.dossier_id,
                kind=request.kind,
                ref_id=request.ref_id,
            )
        return pb.RemoveWorkDossierItemResponse()

    async def CloseWorkDossier(
        self, request: pb.CloseWorkDossierRequest, context: grpc.aio.ServicerContext
    ) -> pb.CloseWorkDossierResponse:
        async with self._uow_factory() as uow:
            dossier = await dossiers.close_dossier(
                tx=self._tx(uow),
                actor=current_caller(),
                dossier_id=request.id,
                now=datetime.now(self._tz),
            )
        return pb.CloseWorkDossierResponse(dossier=dossier_to_pb(dossier))
