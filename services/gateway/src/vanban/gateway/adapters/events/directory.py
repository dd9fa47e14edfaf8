"""Consumer of `vanban.directory.person.upserted`: a person's sessions end when the directory
raises their session version (password set or changed, deactivation, roles, units, clearance,
e-mail, external subject)."""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext

from vanban.contracts.directory.v1 import events_pb2
from vanban.gateway.adapters.db.revocations import SqlRevocationLog
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import GATEWAY_PERSON_SESSIONS
from vanban.platform.events.nats import subject

DURABLE = GATEWAY_PERSON_SESSIONS.name
SUBJECT = subject(GATEWAY_PERSON_SESSIONS.source, "person", "upserted")


async def end_stale_sessions(
    uow: UnitOfWork, event: events_pb2.PersonUpserted, context: EventContext
) -> None:
    person = event.person
    # Version 1 is a person's first: no token of theirs can be older.
    if not person.id or person.session_version <= 1:
        return
    ended = await SqlRevocationLog(uow.session).end_sessions_below(
        person.id, person.session_version, at=datetime.now(UTC)
    )
    if ended:
        uow.audit(
            actor="service:gateway",
            action="session.ended_by_directory",
            resource=f"people/{person.id}",
            after={"session_version": person.session_version, "active": person.active},
        )


def person_sessions_consumer(
    *, js: JetStreamContext, uow_factory: UnitOfWorkFactory, max_deliver: int
) -> EventConsumer[events_pb2.PersonUpserted]:
    return EventConsumer(
        js=js,
        source_service=GATEWAY_PERSON_SESSIONS.source,
        durable=DURABLE,
        subject=SUBJECT,
        message_type=events_pb2.PersonUpserted,
        handler=end_stale_sessions,
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
