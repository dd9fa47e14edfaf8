"""Consumer of `vanban.workflow.incoming.assigned`: who may read an assigned incoming document.

A specialist sees an incoming document once it is assigned to their unit (ADR 0009 section 4):
the lead, coordinating and informed units join the document's `reach`, and the lead unit becomes
its `unit_code` (the unit filter of lists and search). Entries are only added: a later assignment
widens who reads, it never takes the document away from a unit that had it.

A document the agency archive keeps is read-only, its reach and lead unit too (the register
book prints the unit): an assignment of it changes nothing and is logged. Who needs it from
then on reads it through the archive (or as one of the roles that read every document).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy import select, text

from vanban.contracts.workflow.v1 import events_pb2 as wfevents
from vanban.documents.adapters.db.archive import archive_of
from vanban.documents.adapters.db.tables import documents
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import DOCUMENTS_REACH, DOCUMENTS_REACH_FORWARDED
from vanban.platform.events.nats import subject

logger = logging.getLogger(__name__)

DURABLE = DOCUMENTS_REACH.name
SUBJECT = subject(DOCUMENTS_REACH.source, "incoming", "assigned")
ACTOR = "service:documents"


# The union of the reach and what is granted, in a stable order: what it had, then what is new.
_WIDEN = text(
    "UPDATE documents SET reach = reach || ARRAY("
    "SELECT g.entry FROM unnest(CAST(:granted AS varchar(100)[])) WITH ORDINALITY "
    "AS g(entry, n) WHERE g.entry <> ALL(reach) ORDER BY g.n), "
    "unit_code = COALESCE(:lead, unit_code), updated_at = :now, row_version = row_version + 1 "
    "WHERE id = :id RETURNING reach, unit_code"
)


def reach_of_assignment(assignment: wfevents.IncomingDocumentAssigned) -> list[str]:
    """The `reach` entries an assignment grants: "unit:<code>" of each unit it names, and
    "person:<id>" of each person."""
    a = assignment.assignment
    units = [a.lead_unit, *a.coordinating_units, *a.informed_units]
    people = [a.lead_person, *a.coordinating_people, *a.informed_people]
    return [f"unit:{code}" for code in dict.fromkeys(u for u in units if u)] + [
        f"person:{p}" for p in dict.fromkeys(p for p in people if p)
    ]


async def _widen(
    uow: UnitOfWork,
    *,
    document_id: str,
    granted: list[str],
    lead: str | None,
    context: EventContext,
    because: dict[str, str],
) -> None:
    d = documents.c
    before = (
        await uow.session.execute(
            select(d.reach, d.unit_code)
            .where(d.id == document_id, d.direction == "incoming")
            .with_for_update()
        )
    ).first()
    if before is None:
        # Workflow assigns only documents it read from here; an unknown id is not ours to fix.
        logger.warning(
            "an assignment names no incoming document of the registry",
            extra={"document_id": document_id, "event_id": context.event_id},
        )
        return
    archive = await archive_of(uow.session, document_id)
    if archive is not None:
        logger.warning(
            "an assignment names a document the archive keeps: its reach stays as it is",
            extra={
                "document_id": document_id,
                "dossier_id": archive.dossier_id,
                "reason": "DOCUMENT_ARCHIVED",
                "event_id": context.event_id,
            },
        )
        return
    after = (
        await uow.session.execute(
            _WIDEN,
            {"id": document_id, "granted": granted, "lead": lead, "now": datetime.now(UTC)},
        )
    ).one()
    uow.audit(
        actor=ACTOR,
        action="incoming.reach",
        resource=f"incoming-documents/{document_id}",
        before={"reach": list(before.reach), "unit": before.unit_code},
        after={"reach": list(after.reach), "unit": after.unit_code, **because},
    )


async def handle_assigned(
    uow: UnitOfWork, event: wfevents.IncomingDocumentAssigned, context: EventContext
) -> None:
    assignment = event.assignment
    await _widen(
        uow,
        document_id=assignment.document_id,
        granted=reach_of_assignment(event),
        lead=assignment.lead_unit or None,
        context=context,
        because={"assignment": assignment.id},
    )


async def handle_forwarded(
    uow: UnitOfWork, event: wfevents.TaskForwarded, context: EventContext
) -> None:
    """A task forwarded down the units: the unit or person it reaches reads the document too
    (a unit below the lead unit is not in its reach otherwise)."""
    granted = [
        f"unit:{t.holder_unit}" if t.holder_unit else f"person:{t.holder_person}"
        for t in event.tasks
        if t.holder_unit or t.holder_person
    ]
    await _widen(
        uow,
        document_id=event.parent.document_id,
        granted=list(dict.fromkeys(granted)),
        lead=None,
        context=context,
        because={"forwarded_from": event.parent.id},
    )


def reach_consumer(
    *, js: JetStreamContext, uow_factory: UnitOfWorkFactory, max_deliver: int
) -> EventConsumer[wfevents.IncomingDocumentAssigned]:
    return EventConsumer(
        js=js,
        source_service=DOCUMENTS_REACH.source,
        durable=DURABLE,
        subject=SUBJECT,
        message_type=wfevents.IncomingDocumentAssigned,
        handler=handle_assigned,
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )


def forwarded_consumer(
    *, js: JetStreamContext, uow_factory: UnitOfWorkFactory, max_deliver: int
) -> EventConsumer[wfevents.TaskForwarded]:
    return EventConsumer(
        js=js,
        source_service=DOCUMENTS_REACH_FORWARDED.source,
        durable=DOCUMENTS_REACH_FORWARDED.name,
        subject=subject(DOCUMENTS_REACH_FORWARDED.source, "task", "forwarded"),
        message_type=wfevents.TaskForwarded,
        handler=handle_forwarded,
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
