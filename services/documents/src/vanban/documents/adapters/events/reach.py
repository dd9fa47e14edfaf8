"""Consumer of `vanban.workflow.incoming.assigned`: who may read an assigned incoming document.

A specialist sees an incoming document once it is assigned to their unit (ADR 0009 section 4):
the lead, coordinating and informed units join the document's `reach`, and the lead unit becomes
its `unit_code` (the unit filter of lists and search). Entries are only added: a later assignment
widens who reads, it never takes the document away from a unit that had it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy import select, text

from vanban.contracts.workflow.v1 import events_pb2 as wfevents
from vanban.documents.adapters.db.tables import documents
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import DOCUMENTS_REACH
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
    """The `reach` entries an assignment grants: "unit:<code>" of each unit it names."""
    a = assignment.assignment
    units = [a.lead_unit, *a.coordinating_units, *a.informed_units]
    return [f"unit:{code}" for code in dict.fromkeys(u for u in units if u)]


async def handle_assigned(
    uow: UnitOfWork, event: wfevents.IncomingDocumentAssigned, context: EventContext
) -> None:
    assignment = event.assignment
    granted = reach_of_assignment(event)
    d = documents.c
    before = (
        await uow.session.execute(
            select(d.reach, d.unit_code)
            .where(d.id == assignment.document_id, d.direction == "incoming")
            .with_for_update()
        )
    ).first()
    if before is None:
        # Workflow assigns only documents it read from here; an unknown id is not ours to fix.
        logger.warning(
            "an assignment names no incoming document of the registry",
            extra={"document_id": assignment.document_id, "event_id": context.event_id},
        )
        return
    after = (
        await uow.session.execute(
            _WIDEN,
            {
                "id": assignment.document_id,
                "granted": granted,
                "lead": assignment.lead_unit or None,
                "now": datetime.now(UTC),
            },
        )
    ).one()
    uow.audit(
        actor=ACTOR,
        action="incoming.reach",
        resource=f"incoming-documents/{assignment.document_id}",
        before={"reach": list(before.reach), "unit": before.unit_code},
        after={"reach": list(after.reach), "unit": after.unit_code, "assignment": assignment.id},
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
