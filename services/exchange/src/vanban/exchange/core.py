"""What the exchange's use cases share (ADR 0012): the peers and the transport, the agency's own
facts, the archive, and the records every package and status leaves (package row, evidence
entry, transmission, status)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.exchange.v1 import events_pb2 as events
from vanban.exchange.adapters import trace_context
from vanban.exchange.adapters.db import evidence
from vanban.exchange.adapters.db.tables import packages, statuses, transmissions
from vanban.exchange.adapters.peers import GrpcPeers
from vanban.exchange.adapters.transport import Transport
from vanban.exchange.domain import edxml
from vanban.exchange.domain.edxml import StatusCode
from vanban.exchange.domain.model import TransportState
from vanban.platform.cache import TtlCache
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.errors import invalid_fields
from vanban.platform.events.nats import subject

logger = logging.getLogger(__name__)

SERVICE_ACTOR = "service:exchange"
# Who works the exchange inbox: the văn thư receives documents (Decree 30, art. 20).
INBOX_ROLES = ("clerk",)
# Who asks the recipients to take a document back: the văn thư who issued it.
ISSUE_ROLES = ("clerk",)
# Who may read the signed bytes of any package: the inbox's clerks and the agency's leaders.
PACKAGE_READER_ROLES = ("clerk", "agency_leader", "deputy_agency_leader", "archivist")
PAGE_MAX = 100

PACKAGE_RECEIVED = subject("exchange", "package", "received")
PACKAGE_SENT = subject("exchange", "package", "sent")
STATUS_RECEIVED = subject("exchange", "status", "received")
EVIDENCE_RECORDED = subject("exchange", "evidence", "recorded")

PRIORITY_TO_EDXML = {
    documents_pb2.PRIORITY_NORMAL: 0,
    documents_pb2.PRIORITY_URGENT: 1,
    documents_pb2.PRIORITY_VERY_URGENT: 2,
    documents_pb2.PRIORITY_FLASH: 3,
}
PRIORITY_FROM_EDXML = {value: key for key, value in PRIORITY_TO_EDXML.items()}


@dataclass(frozen=True, slots=True)
class Options:
    agency_code: str
    max_package_bytes: int
    receive_batch: int = 16
    send_batch: int = 32
    retry_max_delay: float = 300.0
    give_up_after: timedelta = timedelta(hours=72)


class Refused(Exception):
    """Why an arrival is not taken. `package` is set when the refusal came after the package's
    signature held and its signer was its sender: only then is 02 sent back (an unverified
    package names a sender it cannot prove, and nobody is answered on its word)."""

    def __init__(
        self, reason: str, message: str, *, package: edxml.DocumentPackage | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.package = package


def checked_reason(reason: str, *, field: str, code: str, required: bool = True) -> str:
    """A reason told to another agency: trimmed, at most 500 printable characters."""
    clean = reason.strip()
    if (required and not clean) or len(clean) > 500 or not clean.isprintable():
        raise invalid_fields({field: "1 to 500 printable characters"}, reason=code)
    return clean


def utc_now() -> datetime:
    return datetime.now(UTC)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Waits `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def file_ref(value: dict[str, Any] | None) -> documents_pb2.FileRef:
    if not value:
        return documents_pb2.FileRef()
    return documents_pb2.FileRef(**value)


def file_json(ref: documents_pb2.FileRef) -> dict[str, Any]:
    return {
        "sha256": ref.sha256,
        "size": ref.size,
        "content_type": ref.content_type,
        "file_name": ref.file_name,
    }


class Core:
    def __init__(
        self,
        *,
        peers: GrpcPeers,
        transport: Transport,
        uow_factory: UnitOfWorkFactory,
        options: Options,
        limits: edxml.Limits | None = None,
    ) -> None:
        self.peers = peers
        self.transport = transport
        self._uow = uow_factory
        self.options = options
        self.limits = limits or edxml.Limits(max_package_bytes=options.max_package_bytes)
        self._wake = asyncio.Event()
        # The packages being sent, by SHA-256: one document to 700 agencies is read from the
        # archive once (at most 8 packages of 7 MiB kept).
        self._packages: TtlCache[str, bytes] = TtlCache(maxsize=8, ttl=600)
        # The agency's own name and address, for the packages' From.
        self._agency: TtlCache[str, directory_pb2.Agency] = TtlCache(maxsize=1, ttl=60)

    # -- who we are, and the bytes -------------------------------------------------------

    async def _own_organ(self) -> edxml.Organ:
        agency = self._agency.get(self.options.agency_code)
        if agency is None:
            agency = await self.peers.agency()
            self._agency.put(self.options.agency_code, agency)
        return edxml.Organ(
            organ_id=self.options.agency_code,
            organ_name=agency.name or self.options.agency_code,
            organ_add=agency.address,
            email=agency.email,
            telephone=agency.phone,
            website=agency.website,
        )

    async def _store(
        self, data: bytes, *, content_type: str, file_name: str
    ) -> documents_pb2.FileRef:
        """Kept in the archive; the evidence entry recorded with it claims the bytes."""
        stored, _upload = await self.peers.archive.store(
            data, content_type=content_type, file_name=file_name
        )
        return stored

    async def _read(self, sha256: str, *, max_bytes: int | None = None) -> bytes:
        """Bytes kept in the archive: a package (at most a package's size) or a file of one."""
        limit = self.limits.max_package_bytes if max_bytes is None else max_bytes
        return await self.peers.archive.read(sha256, max_bytes=limit, too_large="PACKAGE_TOO_LARGE")

    async def _add_transmission(
        self, uow: UnitOfWork, package_id: str, recipient: str, name: str, now: datetime
    ) -> None:
        """A package to send to `recipient`, with the trace context of the work that made it
        (every attempt is a span under it, however late it is sent)."""
        made_in = trace_context.current()
        await uow.session.execute(
            sa.insert(transmissions).values(
                id=str(uuid.uuid4()),
                package_id=package_id,
                recipient=recipient,
                recipient_name=(name or "")[:200],
                # The same on every attempt, so the axis drops a repeat it still remembers;
                # random, so that no other agency (a co-recipient sees the package's id) can
                # take it first and have the real package dropped as a repeat.
                message_id=str(uuid.uuid4()),
                state=TransportState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                trace_parent=made_in.traceparent if made_in else None,
                trace_state=made_in.tracestate if made_in else None,
            )
        )

    async def _record_package(
        self,
        uow: UnitOfWork,
        *,
        package_id: str,
        direction: str,
        kind: str,
        stored: documents_pb2.FileRef,
        document_id: str,
        counterpart: str,
        actor: str,
        summary: str,
        at: datetime,
        outgoing_document_id: str | None = None,
        business_doc_type: int | None = None,
        message_id: str | None = None,
        files: Sequence[documents_pb2.FileRef] = (),
        kept: bool = True,
    ) -> None:
        """The package row and its evidence entry, with the event that has the archive keep
        its bytes (`kept`: they were stored; else `stored` is their digest and size only)."""
        entry, digest = await evidence.append(
            uow.session,
            at=at,
            actor=actor,
            direction=direction,
            kind=kind,
            counterpart=counterpart,
            package_id=package_id,
            sha256=stored.sha256,
            summary=summary,
        )
        await uow.session.execute(
            sa.insert(packages).values(
                id=package_id,
                direction=direction,
                kind=kind,
                message_id=message_id,
                sha256=stored.sha256,
                size=stored.size,
                kept=kept,
                document_id=document_id[:100] or None,
                counterpart=counterpart or None,
                outgoing_document_id=outgoing_document_id,
                business_doc_type=business_doc_type,
                evidence_sequence=entry.sequence,
                created_at=at,
            )
        )
        uow.record_event(
            EVIDENCE_RECORDED,
            events.EvidenceRecorded(
                sequence=entry.sequence,
                entry_hash=digest,
                xml=stored if kept else None,
                files=list(files),
                agency_code=self.options.agency_code,
                occurred_at=to_timestamp(at),
            ),
        )

    # -- statuses --------------------------------------------------------------------------

    async def _signed_status(
        self,
        about: edxml.ResponseFor,
        code: StatusCode,
        description: str,
        *,
        staff: str,
    ) -> tuple[edxml.StatusMessage, bytes, documents_pb2.FileRef]:
        """A status message about a received package, signed and kept in the archive."""
        message = edxml.StatusMessage(
            from_=await self._own_organ(),
            response_for=about,
            staff_info=edxml.StaffInfo(staff=staff),
            status_code=code.value,
            description=description,
            timestamp=utc_now(),
        )
        signed, _certificate = await self.peers.sign_xml(edxml.build_status(message))
        stored = await self._store(
            signed, content_type="application/xml", file_name=f"status-{code.value}.edxml"
        )
        return message, signed, stored

    async def _queue_status(
        self,
        uow: UnitOfWork,
        reply: tuple[edxml.StatusMessage, bytes, documents_pb2.FileRef],
        *,
        about_package_id: str,
        at: datetime,
        to: str | None = None,
    ) -> None:
        """Records a signed status and queues it for `to`: by default the agency whose package
        it answers (a recall request, 13, goes from the sender to each recipient instead)."""
        message, signed, stored = reply
        recipient = to or message.response_for.organ_id
        package_id = str(uuid.uuid4())
        await self._record_package(
            uow,
            package_id=package_id,
            direction="sent",
            kind="status",
            stored=stored,
            document_id=message.response_for.document_id,
            counterpart=recipient,
            actor=SERVICE_ACTOR,
            summary=f"status {message.status_code}: {message.description}",
            at=at,
        )
        await insert_status(
            uow,
            message,
            package_id=package_id,
            direction="sent",
            about_package_id=about_package_id,
            counterpart=recipient,
            at=at,
        )
        await self._add_transmission(uow, package_id, recipient, "", at)
        self._packages.put(stored.sha256, signed)


def answering(package: edxml.DocumentPackage) -> edxml.ResponseFor:
    """What a status message about `package` names it by."""
    return edxml.ResponseFor(
        organ_id=package.from_.organ_id,
        code=f"{package.code.code_number}/{package.code.code_notation}",
        promulgation_date=package.promulgation_date,
        document_id=package.document_id,
    )


async def insert_status(
    uow: UnitOfWork,
    message: edxml.StatusMessage,
    *,
    package_id: str,
    direction: str,
    about_package_id: str | None,
    counterpart: str,
    at: datetime,
) -> None:
    """A business status sent to or received from the agency `counterpart`."""
    await uow.session.execute(
        sa.insert(statuses).values(
            id=str(uuid.uuid4()),
            package_id=package_id,
            direction=direction,
            about_package_id=about_package_id,
            counterpart=counterpart,
            code=message.status_code,
            raw_code=message.raw_status_code or message.status_code,
            description=message.description[:2000],
            staff=message.staff_info.staff[:200],
            status_at=message.timestamp,
            recorded_at=at,
        )
    )
