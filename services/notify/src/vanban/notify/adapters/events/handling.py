"""Consumers of the events of a document's handling (workflow, documents, exchange, archive):
each becomes notices for the people it concerns (`domain.notices`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from nats.js import JetStreamContext

from vanban.contracts.archive.v1 import events_pb2 as archive_events
from vanban.contracts.documents.v1 import documents_pb2 as docpb
from vanban.contracts.documents.v1 import events_pb2 as document_events
from vanban.contracts.exchange.v1 import events_pb2 as exchange_events
from vanban.contracts.exchange.v1 import exchange_pb2
from vanban.contracts.workflow.v1 import events_pb2 as workflow_events
from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.notify.adapters.transaction import ACTOR, NotifyTransaction
from vanban.notify.domain import notices, service
from vanban.notify.domain.model import KnownDocument
from vanban.notify.domain.notices import ApprovalFacts, Plan, TaskFacts
from vanban.notify.domain.ports import People
from vanban.platform.clearance import Secrecy
from vanban.platform.convert import secrecy_from_pb
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events import durables
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import Durable
from vanban.platform.events.nats import subject

_ROLE = {
    workflow_pb2.TASK_ROLE_LEAD: "lead",
    workflow_pb2.TASK_ROLE_COORDINATING: "coordinating",
    workflow_pb2.TASK_ROLE_INFORMED: "informed",
}


def task_facts(task: workflow_pb2.Task) -> TaskFacts:
    return TaskFacts(
        id=task.id,
        document_id=task.document_id,
        role=_ROLE.get(task.role, ""),
        holder_unit=task.holder_unit,
        holder_person=task.holder_person,
        deadline=task.deadline,
        created_by=task.created_by,
        on_behalf_of=task.on_behalf_of,
        reason=task.reason,
    )


def approval_facts(approval: workflow_pb2.Approval) -> ApprovalFacts:
    return ApprovalFacts(
        document_id=approval.document_id,
        step=approval.step,
        waiting_for=approval.waiting_for,
        submitted_by=approval.submitted_by,
    )


# What one event means: the transaction (to read what notify knows of its document) and the
# agency's people in, the notices out.
Planner = Callable[[NotifyTransaction, list[Any], Any], Awaitable[Plan]]


async def _document(tx: NotifyTransaction, document_id: str) -> KnownDocument:
    return await service.known_document(tx, document_id)


async def _given(tx: NotifyTransaction, people: list[Any], event: Any, *, forwarded: bool) -> Plan:
    if not event.tasks:
        return []
    document = await _document(tx, event.tasks[0].document_id)
    return notices.tasks_given(
        people, document, [task_facts(t) for t in event.tasks], forwarded=forwarded
    )


async def _returned(tx: NotifyTransaction, people: list[Any], event: Any) -> Plan:
    task = task_facts(event.task)
    return notices.task_returned(people, await _document(tx, task.document_id), task)


async def _completed(tx: NotifyTransaction, people: list[Any], event: Any) -> Plan:
    task = task_facts(event.task)
    return notices.task_completed(people, await _document(tx, task.document_id), task)


async def _due_soon(tx: NotifyTransaction, people: list[Any], event: Any) -> Plan:
    task = task_facts(event.task)
    return notices.task_due(people, await _document(tx, task.document_id), task, overdue=False)


async def _overdue(tx: NotifyTransaction, people: list[Any], event: Any) -> Plan:
    task = task_facts(event.task)
    document = await _document(tx, task.document_id)
    return notices.task_due(people, document, task, overdue=True, escalate_to=event.escalate_to)


async def _approval_requested(tx: NotifyTransaction, people: list[Any], event: Any) -> Plan:
    approval = approval_facts(event.approval)
    document = await _document(tx, approval.document_id)
    return notices.approval_requested(people, document, approval)


async def _approval_decided(tx: NotifyTransaction, people: list[Any], event: Any) -> Plan:
    approval = approval_facts(event.approval)
    document = await _document(tx, approval.document_id)
    # The next step's turn comes as an approval.requested of its own.
    return notices.approval_decided(
        people,
        document,
        approval,
        decision=event.action.decision,
        actor=event.action.actor,
        comment=event.action.comment,
    )


async def _package_received(tx: NotifyTransaction, people: list[Any], event: Any) -> Plan:
    item = event.item
    if item.state != exchange_pb2.INBOX_STATE_RECEIVED:
        # Refused on arrival, or a duplicate: nothing waits for a clerk.
        return []
    code = "/".join(part for part in (item.code_number, item.code_notation) if part)
    return notices.package_received(
        people, item_id=item.id, sender=item.sender.organ_name, code=code, subject=item.subject
    )


async def _handover_due(tx: NotifyTransaction, people: list[Any], event: Any) -> Plan:
    dossier = event.dossier
    return notices.dossier_handover_due(
        people,
        dossier_id=dossier.id,
        file_code=dossier.file_code,
        title=dossier.title,
        opened_by=dossier.opened_by,
        # Unspecified (an older archive) or unknown: the highest, never a leak.
        secrecy=(
            secrecy_from_pb(event.secrecy) if event.secrecy != docpb.SECRECY_UNSPECIFIED else None
        )
        or Secrecy.TOP_SECRET,
    )


@dataclass(frozen=True)
class Handled:
    durable: Durable
    subject: str
    message_type: type[Message]
    plan: Planner


HANDLED = (
    Handled(
        durables.NOTIFY_TASK_ASSIGNED,
        subject("workflow", "task", "assigned"),
        workflow_events.TaskAssigned,
        functools.partial(_given, forwarded=False),
    ),
    Handled(
        durables.NOTIFY_TASK_FORWARDED,
        subject("workflow", "task", "forwarded"),
        workflow_events.TaskForwarded,
        functools.partial(_given, forwarded=True),
    ),
    Handled(
        durables.NOTIFY_TASK_RETURNED,
        subject("workflow", "task", "returned"),
        workflow_events.TaskReturned,
        _returned,
    ),
    Handled(
        durables.NOTIFY_TASK_COMPLETED,
        subject("workflow", "task", "completed"),
        workflow_events.TaskCompleted,
        _completed,
    ),
    Handled(
        durables.NOTIFY_TASK_DUE_SOON,
        subject("workflow", "task", "due_soon"),
        workflow_events.TaskDue,
        _due_soon,
    ),
    Handled(
        durables.NOTIFY_TASK_OVERDUE,
        subject("workflow", "task", "overdue"),
        workflow_events.TaskDue,
        _overdue,
    ),
    Handled(
        durables.NOTIFY_APPROVAL_REQUESTED,
        subject("workflow", "approval", "requested"),
        workflow_events.ApprovalRequested,
        _approval_requested,
    ),
    Handled(
        durables.NOTIFY_APPROVAL_DECIDED,
        subject("workflow", "approval", "decided"),
        workflow_events.ApprovalDecided,
        _approval_decided,
    ),
    Handled(
        durables.NOTIFY_PACKAGE_RECEIVED,
        subject("exchange", "package", "received"),
        exchange_events.PackageReceived,
        _package_received,
    ),
    Handled(
        durables.NOTIFY_DOSSIER_HANDOVER_DUE,
        subject("archive", "dossier", "handover_due"),
        archive_events.DossierHandoverDue,
        _handover_due,
    ),
)


# Events older than this give no notice: news of last month is no news (and a new consumer,
# which reads its stream from the start, does not replay a month of it as new).
MAX_EVENT_AGE = timedelta(days=2)


def stale(event: Any, now: datetime) -> bool:
    """Whether the event says it happened longer ago than notices are worth."""
    if not event.DESCRIPTOR.fields_by_name.get("occurred_at") or not event.HasField("occurred_at"):
        return False
    return bool(now - event.occurred_at.ToDatetime(tzinfo=UTC) > MAX_EVENT_AGE)


class PlanHandler:
    """Runs one event's rule inside the event's unit of work (the consumer commits it)."""

    def __init__(self, *, people: People, plan: Planner, email: bool = False) -> None:
        self._people = people
        self._plan = plan
        self._email = email

    async def __call__(self, uow: UnitOfWork, event: Any, context: EventContext) -> None:
        if stale(event, datetime.now(UTC)):
            return
        tx = NotifyTransaction(uow, actor=ACTOR)
        # A failure here (the directory away, the document not known yet) propagates: the
        # platform delivers the event again shortly.
        plan = await self._plan(tx, await self._people.everyone(), event)
        if plan:
            await service.record_plan(
                tx=tx,
                plan=plan,
                event_id=context.event_id,
                now=datetime.now(UTC),
                email=self._email,
            )


def outgoing_known(event: document_events.OutgoingDocumentDrafted) -> KnownDocument:
    document = event.document
    code = "/".join(part for part in (document.code_number, document.code_notation) if part)
    return KnownDocument(
        id=document.id,
        direction="outgoing",
        label=f"Văn bản {code}" if code else "Dự thảo",
        subject=document.subject,
        # An unknown level is treated as the highest, so a newer producer never leaks.
        secrecy=secrecy_from_pb(document.secrecy) or Secrecy.TOP_SECRET,
    )


class OutgoingDraftedHandler:
    async def __call__(
        self,
        uow: UnitOfWork,
        event: document_events.OutgoingDocumentDrafted,
        context: EventContext,
    ) -> None:
        await NotifyTransaction(uow, actor=ACTOR).documents.remember(outgoing_known(event))


def _factory(
    durable: Durable,
    subject_: str,
    message_type: type[Message],
    handler: Any,
    *,
    uow_factory: UnitOfWorkFactory,
    max_deliver: int,
) -> Callable[[JetStreamContext], EventConsumer[Any]]:
    def make(js: JetStreamContext) -> EventConsumer[Any]:
        return EventConsumer(
            js=js,
            source_service=durable.source,
            durable=durable.name,
            subject=subject_,
            message_type=message_type,
            handler=handler,
            uow_factory=uow_factory,
            max_deliver=max_deliver,
        )

    return make


def handling_consumers(
    *, uow_factory: UnitOfWorkFactory, people: People, max_deliver: int, email: bool = False
) -> list[Callable[[JetStreamContext], EventConsumer[Any]]]:
    """The consumers of the handling's events, each made once JetStream is connected."""
    made = [
        _factory(
            durables.NOTIFY_OUTGOING_DRAFTED,
            subject("documents", "outgoing", "drafted"),
            document_events.OutgoingDocumentDrafted,
            OutgoingDraftedHandler(),
            uow_factory=uow_factory,
            max_deliver=max_deliver,
        )
    ]
    for handled in HANDLED:
        made.append(
            _factory(
                handled.durable,
                handled.subject,
                handled.message_type,
                PlanHandler(people=people, plan=handled.plan, email=email),
                uow_factory=uow_factory,
                max_deliver=max_deliver,
            )
        )
    return made
