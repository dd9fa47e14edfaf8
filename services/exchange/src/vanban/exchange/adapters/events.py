"""The events exchange acts on (ADR 0012): `vanban.signing.document.signed` (an outgoing
document's package leaves once the agency signature is on it) and the workflow's task events
(the sender of an incoming document hears 04, 05, 06)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nats.js import JetStreamContext

from vanban.contracts.signing.v1 import events_pb2 as signing_events
from vanban.contracts.signing.v1 import signing_pb2
from vanban.contracts.workflow.v1 import events_pb2 as workflow_events
from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.exchange.domain.edxml import StatusCode
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import (
    EXCHANGE_DOCUMENT_SIGNED,
    EXCHANGE_TASK_ASSIGNED,
    EXCHANGE_TASK_COMPLETED,
    EXCHANGE_TASK_FORWARDED,
    Durable,
)
from vanban.platform.events.nats import subject

SUBJECT = subject(EXCHANGE_DOCUMENT_SIGNED.source, "document", "signed")


def signed_consumer(
    *,
    js: JetStreamContext,
    uow_factory: UnitOfWorkFactory,
    max_deliver: int,
    send: Callable[[UnitOfWork, signing_pb2.Signature], Awaitable[None]],
) -> EventConsumer[signing_events.DocumentSigned]:
    async def handle(
        uow: UnitOfWork, event: signing_events.DocumentSigned, context: EventContext
    ) -> None:
        await send(uow, event.signature)

    return EventConsumer(
        js=js,
        source_service=EXCHANGE_DOCUMENT_SIGNED.source,
        durable=EXCHANGE_DOCUMENT_SIGNED.name,
        subject=SUBJECT,
        message_type=signing_events.DocumentSigned,
        handler=handle,
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )


Report = Callable[[UnitOfWork, str, StatusCode], Awaitable[None]]


@dataclass(frozen=True)
class ProgressSource:
    """A workflow event that moves an incoming document's handling on, and the status its
    sender hears of it (None: not this task)."""

    durable: Durable
    verb: str
    message_type: type[Any]
    status: Callable[[Any], tuple[str, StatusCode] | None]


def _assigned(event: workflow_events.TaskAssigned) -> tuple[str, StatusCode]:
    return event.assignment.document_id, StatusCode.ASSIGNED


def _forwarded(event: workflow_events.TaskForwarded) -> tuple[str, StatusCode]:
    return event.parent.document_id, StatusCode.IN_PROGRESS


def _completed(event: workflow_events.TaskCompleted) -> tuple[str, StatusCode] | None:
    task = event.task
    if task.role == workflow_pb2.TASK_ROLE_LEAD and not task.parent_id:
        return task.document_id, StatusCode.COMPLETED
    return None


# 04 when the document is assigned, 05 when its lead task is forwarded (handling is under way),
# 06 when the lead task is completed.
PROGRESS_SOURCES = (
    ProgressSource(EXCHANGE_TASK_ASSIGNED, "assigned", workflow_events.TaskAssigned, _assigned),
    ProgressSource(EXCHANGE_TASK_FORWARDED, "forwarded", workflow_events.TaskForwarded, _forwarded),
    ProgressSource(EXCHANGE_TASK_COMPLETED, "completed", workflow_events.TaskCompleted, _completed),
)


def progress_consumer(
    js: JetStreamContext,
    *,
    source: ProgressSource,
    uow_factory: UnitOfWorkFactory,
    max_deliver: int,
    report: Report,
) -> EventConsumer[Any]:
    async def handle(uow: UnitOfWork, event: Any, context: EventContext) -> None:
        found = source.status(event)
        if found is not None:
            await report(uow, *found)

    return EventConsumer(
        js=js,
        source_service=source.durable.source,
        durable=source.durable.name,
        subject=subject(source.durable.source, "task", source.verb),
        message_type=source.message_type,
        handler=handle,
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
