"""The exchange's use cases (ADR 0012): an issued document leaves once per recipient, a package
arrives once, and both sides keep the signed bytes of everything that passed.

Outbound: when the agency signature is on an outgoing document with recipients outside the
agency, one edXML package is built, signed with the organisation key and kept; a transmission
per recipient is then retried until the axis acknowledges it. Inbound: an arrival is verified
(signature, certificate, sender) before it is read, kept, and answered with status 01; the clerk
registers it (03) or rejects it (02). Remote calls (signing, archive) are made before the
transaction that records their outcome, so no transaction waits on another service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.exchange.v1 import events_pb2 as events
from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.contracts.signing.v1 import signing_pb2
from vanban.exchange.adapters.db import evidence
from vanban.exchange.adapters.db.tables import inbox, packages, statuses, transmissions
from vanban.exchange.adapters.peers import GrpcPeers
from vanban.exchange.adapters.transport import Arrival, SendReceipt, Transport, TransportError
from vanban.exchange.domain import edxml
from vanban.exchange.domain.edxml import BusinessDocType, StatusCode
from vanban.exchange.domain.model import DESCRIPTIONS, InboxState, TransportState
from vanban.platform.cache import TtlCache
from vanban.platform.caller import Caller
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.errors import (
    DomainError,
    ErrorCode,
    FailedPreconditionError,
    NotFoundError,
    PermissionDeniedError,
    invalid_fields,
)
from vanban.platform.events.nats import subject

logger = logging.getLogger(__name__)

SERVICE_ACTOR = "service:exchange"
# Who works the exchange inbox: the văn thư receives documents (Decree 30, art. 20).
INBOX_ROLES = ("clerk",)
# Who may read the signed bytes of any package: the inbox's clerks and the agency's leaders.
PACKAGE_READER_ROLES = ("clerk", "agency_leader", "deputy_agency_leader", "archivist")
PAGE_MAX = 100

PACKAGE_RECEIVED = subject("exchange", "package", "received")
PACKAGE_SENT = subject("exchange", "package", "sent")
STATUS_RECEIVED = subject("exchange", "status", "received")
EVIDENCE_RECORDED = subject("exchange", "evidence", "recorded")

_PRIORITY_TO_EDXML = {
    documents_pb2.PRIORITY_NORMAL: 0,
    documents_pb2.PRIORITY_URGENT: 1,
    documents_pb2.PRIORITY_VERY_URGENT: 2,
    documents_pb2.PRIORITY_FLASH: 3,
}
_PRIORITY_FROM_EDXML = {value: key for key, value in _PRIORITY_TO_EDXML.items()}


@dataclass(frozen=True, slots=True)
class Options:
    agency_code: str
    max_package_bytes: int
    receive_batch: int = 16
    send_batch: int = 32
    retry_max_delay: float = 300.0
    give_up_after: timedelta = timedelta(hours=72)


class _Refused(Exception):
    """Why an arrival is not taken, said to its sender with status 02."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _now() -> datetime:
    return datetime.now(UTC)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Waits `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _file_ref(value: dict[str, Any] | None) -> documents_pb2.FileRef:
    if not value:
        return documents_pb2.FileRef()
    return documents_pb2.FileRef(**value)


def _file_json(ref: documents_pb2.FileRef) -> dict[str, Any]:
    return {
        "sha256": ref.sha256,
        "size": ref.size,
        "content_type": ref.content_type,
        "file_name": ref.file_name,
    }


class ExchangeService:
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

    # -- who we are ------------------------------------------------------------------------

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

    async def _read(self, sha256: str) -> bytes:
        return await self.peers.archive.read(
            sha256, max_bytes=self.limits.max_package_bytes, too_large="PACKAGE_TOO_LARGE"
        )

    # -- outbound --------------------------------------------------------------------------

    async def send_signed(self, uow: UnitOfWork, signature: signing_pb2.Signature) -> None:
        """The agency signature is on an outgoing document: its package leaves for every
        recipient outside the agency (once: a repeated event finds the package made)."""
        if signature.kind != signing_pb2.SIGNATURE_KIND_AGENCY:
            return
        document = await self.peers.outgoing(signature.document_id)
        recipients = [
            r for r in document.recipients if r.organ_id and r.organ_id != self.options.agency_code
        ]
        if not recipients or document.status != documents_pb2.DOCUMENT_STATUS_ISSUED:
            return
        if document.secrecy not in (documents_pb2.SECRECY_UNSPECIFIED, documents_pb2.SECRECY_NONE):
            # Secret documents never travel over the axis (Decree 30, art. 18 and the law on
            # state secrets): they go on paper.
            logger.warning(
                "a secret document is not sent over the axis",
                extra={"document_id": document.id},
            )
            return
        existing = await uow.session.scalar(
            sa.select(packages.c.id).where(
                packages.c.outgoing_document_id == document.id,
                packages.c.direction == "sent",
                packages.c.kind == "document",
                packages.c.business_doc_type == BusinessDocType.NEW,
            )
        )
        if existing is not None:
            return
        signed_file = signature.file
        xml = await self._document_package(document, signed_file, recipients)
        signed_xml, _certificate = await self.peers.sign_xml(xml)
        stored = await self._store(
            signed_xml, content_type="application/xml", file_name=f"{document.id}.edxml"
        )
        now = _now()
        package_id = str(uuid.uuid4())
        await self._record_package(
            uow,
            package_id=package_id,
            direction="sent",
            kind="document",
            stored=stored,
            document_id=document.identifier,
            counterpart="",
            outgoing_document_id=document.id,
            business_doc_type=BusinessDocType.NEW,
            actor=signature.signed_by or SERVICE_ACTOR,
            summary=f"{document.code_number}/{document.code_notation} to "
            + ", ".join(r.organ_id for r in recipients),
            at=now,
        )
        for recipient in recipients:
            await self._add_transmission(
                uow, package_id, recipient.organ_id, recipient.organ_name, now
            )
        self._packages.put(stored.sha256, signed_xml)
        self._wake.set()

    async def _document_package(
        self,
        document: documents_pb2.OutgoingDocument,
        signed_file: documents_pb2.FileRef,
        recipients: Sequence[documents_pb2.Recipient],
    ) -> bytes:
        budget = self.limits.max_package_bytes
        files: list[edxml.Attachment] = []
        for ref in (signed_file, *document.attachments):
            data = await self._read(ref.sha256)
            files.append(
                edxml.Attachment(
                    content_id=str(uuid.uuid4()),
                    name=ref.file_name or f"{ref.sha256[:16]}.pdf",
                    content_type=ref.content_type or "application/pdf",
                    description="",
                    data=data,
                )
            )
        own = await self._own_organ()
        issued = datetime.strptime(document.issued_date, "%Y-%m-%d").date()
        package = edxml.DocumentPackage(
            from_=own,
            to=tuple(
                edxml.Organ(organ_id=r.organ_id, organ_name=r.organ_name or r.organ_id)
                for r in recipients
            ),
            document_id=document.identifier,
            code=edxml.Code(code_number=document.code_number, code_notation=document.code_notation),
            promulgation_place=own.organ_add or "",
            promulgation_date=issued,
            document_type=edxml.DocumentType(
                type=1, type_detail=0, type_name=document.document_type
            ),
            subject=document.subject,
            content="",
            signer_info=edxml.SignerInfo(
                competence=documents_pb2.SignerCompetence.Name(document.signer.competence)
                if document.signer.competence
                else "",
                position=document.signer.position,
                full_name=document.signer.full_name,
            ),
            due_date=None,
            to_places=tuple(r.organ_name or r.organ_id for r in recipients),
            other_info=edxml.OtherInfo(
                priority=_PRIORITY_TO_EDXML.get(document.priority, 0),
                promulgation_amount=document.issued_amount,
                page_amount=0,
            ),
            response_for=(),
            steering_type=0,
            trace_headers=(edxml.TraceHeader(organ_id=own.organ_id, timestamp=_now()),),
            business=edxml.Business(doc_type=BusinessDocType.NEW),
            attachments=tuple(files),
        )
        data = edxml.build_package(package)
        if len(data) > budget:
            raise FailedPreconditionError(
                f"the package would have {len(data)} bytes, more than the {budget} the axis "
                "carries",
                reason="PACKAGE_TOO_LARGE",
            )
        return data

    async def _add_transmission(
        self, uow: UnitOfWork, package_id: str, recipient: str, name: str, now: datetime
    ) -> None:
        await uow.session.execute(
            sa.insert(transmissions).values(
                id=str(uuid.uuid4()),
                package_id=package_id,
                recipient=recipient,
                recipient_name=(name or "")[:200],
                # The same on every attempt: the axis drops a repeat it still remembers.
                message_id=f"{package_id}.{recipient}",
                state=TransportState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
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
    ) -> None:
        """The package row and its evidence entry (with the event that keeps its bytes)."""
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
                xml=stored,
                files=list(files),
                agency_code=self.options.agency_code,
                occurred_at=to_timestamp(at),
            ),
        )

    # -- delivery --------------------------------------------------------------------------

    async def deliver_loop(self, stop: asyncio.Event) -> None:
        """Sends what is due until `stop`; woken at once when a package is made."""
        while not stop.is_set():
            try:
                sent = await self.deliver_due()
            except Exception:
                logger.exception("a delivery pass failed; it is tried again")
                sent = 0
            if sent:
                continue
            self._wake.clear()
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait(
                    {waiter, stopper}, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                waiter.cancel()
                stopper.cancel()

    async def deliver_due(self) -> int:
        """One pass: the due transmissions, locked so that no other replica sends them at the
        same time, each handed to the transport; returns how many were tried."""
        async with self._uow() as uow:
            now = _now()
            rows = (
                await uow.session.execute(
                    sa.select(
                        transmissions,
                        packages.c.sha256,
                        packages.c.kind,
                        packages.c.outgoing_document_id,
                    )
                    .join(packages, packages.c.id == transmissions.c.package_id)
                    .where(
                        transmissions.c.state == TransportState.PENDING.value,
                        transmissions.c.next_attempt_at <= now,
                    )
                    .order_by(transmissions.c.next_attempt_at)
                    .limit(self.options.send_batch)
                    .with_for_update(of=transmissions, skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Each package of the batch is read once, however many recipients it has.
            payloads = {sha256: await self._payload(sha256) for sha256 in {r.sha256 for r in rows}}
            outcomes = await asyncio.gather(
                *(self._transmit(row, payloads[row.sha256]) for row in rows)
            )
            for row, outcome in zip(rows, outcomes, strict=True):
                await self._settle(uow, row, outcome, now)
            await uow.commit()
        return len(rows)

    async def _payload(self, sha256: str) -> bytes | TransportError:
        data = self._packages.get(sha256)
        if data is None:
            try:
                data = await self._read(sha256)
            except DomainError as exc:  # the archive could not give the bytes now
                return TransportError(str(exc), reason=exc.reason or "ARCHIVE_UNAVAILABLE")
            self._packages.put(sha256, data)
        return data

    async def _transmit(
        self, row: Any, payload: bytes | TransportError
    ) -> SendReceipt | TransportError:
        if isinstance(payload, TransportError):
            return payload
        try:
            return await self.transport.send(row.recipient, payload, message_id=row.message_id)
        except TransportError as exc:
            return exc

    async def _settle(
        self, uow: UnitOfWork, row: Any, outcome: SendReceipt | TransportError, now: datetime
    ) -> None:
        attempts = row.attempts + 1
        if isinstance(outcome, TransportError):
            give_up = now - row.created_at > self.options.give_up_after
            delay = min(self.options.retry_max_delay, 2.0 ** min(attempts - 1, 20))
            await uow.session.execute(
                sa.update(transmissions)
                .where(transmissions.c.id == row.id)
                .values(
                    attempts=attempts,
                    last_error=f"{outcome.reason}: {outcome}"[:500],
                    state=(TransportState.FAILED if give_up else TransportState.PENDING).value,
                    next_attempt_at=now + timedelta(seconds=delay * random.uniform(0.8, 1.2)),
                )
            )
            return
        await uow.session.execute(
            sa.update(transmissions)
            .where(transmissions.c.id == row.id)
            .values(
                attempts=attempts,
                state=TransportState.ACKNOWLEDGED.value,
                reference=outcome.reference[:200],
                acknowledged_at=now,
                last_error=None,
            )
        )
        if row.kind == "document":
            uow.record_event(
                PACKAGE_SENT,
                events.PackageSent(
                    outgoing_document_id=row.outgoing_document_id or "",
                    package_id=row.package_id,
                    recipient=pb.Organ(organ_id=row.recipient, organ_name=row.recipient_name),
                    transport_reference=outcome.reference,
                    agency_code=self.options.agency_code,
                    occurred_at=to_timestamp(now),
                ),
            )

    # -- inbound ---------------------------------------------------------------------------

    async def receive_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                arrivals = await self.transport.fetch(batch=self.options.receive_batch, wait=1.0)
            except TransportError as exc:
                logger.warning("the axis cannot be read now", extra={"reason": exc.reason})
                await _pause(stop, 2.0)
                continue
            for arrival in arrivals:
                await self._take(arrival)

    async def _take(self, arrival: Arrival) -> None:
        try:
            await self.receive(arrival.data, message_id=arrival.message_id)
        except Exception as exc:
            # A peer (signing, archive, the database) failed: the arrival comes again later.
            logger.warning(
                "an arrival could not be taken now",
                extra={"message_id": arrival.message_id, "error": repr(exc)},
            )
            await self._settle_arrival(
                arrival.nak(delay=min(60.0, 2.0 ** min(arrival.delivery_count, 6)))
            )
            return
        await self._settle_arrival(arrival.ack())

    async def _settle_arrival(self, settling: Awaitable[None]) -> None:
        """An ack or nak the axis did not confirm: the arrival comes again after the ack wait,
        and is recognised by its message id."""
        try:
            await settling
        except TransportError as exc:
            logger.warning("an arrival could not be settled", extra={"reason": exc.reason})

    async def receive(self, data: bytes, *, message_id: str) -> None:
        """Takes one arrival: recorded once (by its message id), verified before it is read."""
        async with self._uow() as uow:
            known = await uow.session.scalar(
                sa.select(packages.c.id).where(
                    packages.c.direction == "received", packages.c.message_id == message_id
                )
            )
        if known is not None:
            return
        try:
            message, signer = await self._verified(data)
        except _Refused as refused:
            await self._record_refused(data, message_id=message_id, refused=refused)
            return
        try:
            if isinstance(message, edxml.StatusMessage):
                await self._record_status(data, message, message_id=message_id)
            else:
                await self._record_document(data, message, signer, message_id=message_id)
        except IntegrityError:
            # Another replica recorded the same message (or package) meanwhile.
            logger.info("an arrival was recorded concurrently", extra={"message_id": message_id})

    async def _verified(
        self, data: bytes
    ) -> tuple[edxml.DocumentPackage | edxml.StatusMessage, signing_pb2.CertificateInfo]:
        limit = self.limits.max_package_bytes
        if len(data) > limit:
            raise _Refused(
                "PACKAGE_TOO_LARGE",
                f"the package has {len(data)} bytes, more than the {limit} accepted",
            )
        try:
            verified = await self.peers.verify_xml(data)
        except DomainError as exc:
            if exc.code in (ErrorCode.FAILED_PRECONDITION, ErrorCode.INVALID_ARGUMENT):
                raise _Refused(exc.reason or "INVALID_SIGNATURE", str(exc)) from None
            raise
        try:
            message = edxml.parse(verified.signed_xml, limits=self.limits)
        except edxml.EdxmlError as exc:
            raise _Refused(exc.reason, str(exc)) from None
        sender = message.from_.organ_id
        if verified.signer.organization_identifier != sender:
            raise _Refused(
                "SENDER_MISMATCH",
                f"the package says it is from {sender} but is signed by {verified.signer.subject}",
            )
        if isinstance(message, edxml.DocumentPackage) and self.options.agency_code not in {
            organ.organ_id for organ in message.to
        }:
            raise _Refused(
                "NOT_ADDRESSED_HERE", f"the package is not addressed to {self.options.agency_code}"
            )
        return message, verified.signer

    async def _record_refused(self, data: bytes, *, message_id: str, refused: _Refused) -> None:
        """Kept as it came (when not too large), with status 02 to the sender it names, when
        it names one: a refusal is evidence too."""
        claimed = self._unverified(data)
        stored = (
            await self._store(data, content_type="application/xml", file_name="refused.edxml")
            if len(data) <= self.limits.max_package_bytes
            else documents_pb2.FileRef(sha256="", size=len(data), content_type="application/xml")
        )
        sender = claimed.from_.organ_id if claimed else ""
        document_id = claimed.document_id if isinstance(claimed, edxml.DocumentPackage) else ""
        reply = None
        if isinstance(claimed, edxml.DocumentPackage) and sender:
            reply = await self._signed_status(
                _answering(claimed),
                StatusCode.REJECTED,
                f"{refused.reason}: {refused}"[:500],
                staff="",
            )
        now = _now()
        async with self._uow() as uow:
            package_id = str(uuid.uuid4())
            await self._record_package(
                uow,
                package_id=package_id,
                direction="received",
                kind="document" if isinstance(claimed, edxml.DocumentPackage) else "unknown",
                stored=stored,
                document_id=document_id,
                counterpart=sender,
                actor=SERVICE_ACTOR,
                summary=f"refused: {refused.reason}",
                at=now,
                message_id=message_id,
            )
            item = await self._insert_inbox(
                uow,
                package_id=package_id,
                state=InboxState.REFUSED,
                message=claimed if isinstance(claimed, edxml.DocumentPackage) else None,
                reason=f"{refused.reason}: {refused}"[:500],
                at=now,
            )
            if reply is not None:
                await self._queue_status(uow, reply, about_package_id=package_id, at=now)
            uow.record_event(
                PACKAGE_RECEIVED,
                events.PackageReceived(
                    item=item, agency_code=self.options.agency_code, occurred_at=to_timestamp(now)
                ),
            )
            await uow.commit()
        self._wake.set()

    def _unverified(self, data: bytes) -> edxml.DocumentPackage | edxml.StatusMessage | None:
        """What a refused package claims, to answer its sender; never trusted for anything
        else."""
        try:
            return edxml.parse(data, limits=self.limits)
        except edxml.EdxmlError:
            return None

    async def _record_document(
        self,
        data: bytes,
        package: edxml.DocumentPackage,
        signer: signing_pb2.CertificateInfo,
        *,
        message_id: str,
    ) -> None:
        stored_files = [
            await self._store(
                attachment.data, content_type=attachment.content_type, file_name=attachment.name
            )
            for attachment in package.attachments
        ]
        stored = await self._store(data, content_type="application/xml", file_name="received.edxml")
        async with self._uow() as uow:
            duplicate_of = None
            if int(package.business.doc_type) == BusinessDocType.NEW:
                duplicate_of = await uow.session.scalar(
                    sa.select(inbox.c.id).where(
                        inbox.c.sender_id == package.from_.organ_id,
                        inbox.c.document_id == package.document_id,
                        inbox.c.state.in_((InboxState.RECEIVED.value, InboxState.REGISTERED.value)),
                        inbox.c.business_doc_type == BusinessDocType.NEW,
                    )
                )
        if duplicate_of is not None:
            reply = await self._signed_status(
                _answering(package),
                StatusCode.REJECTED,
                "Văn bản đã được tiếp nhận trước đó (trùng DocumentId); không tiếp nhận lần hai",
                staff="",
            )
        else:
            reply = await self._signed_status(
                _answering(package), StatusCode.ARRIVED, DESCRIPTIONS[StatusCode.ARRIVED], staff=""
            )
        now = _now()
        async with self._uow() as uow:
            package_id = str(uuid.uuid4())
            await self._record_package(
                uow,
                package_id=package_id,
                direction="received",
                kind="document",
                stored=stored,
                document_id=package.document_id,
                counterpart=package.from_.organ_id,
                actor=SERVICE_ACTOR,
                summary=f"{package.code.code_number}/{package.code.code_notation}: "
                f"{package.subject}",
                at=now,
                message_id=message_id,
                business_doc_type=int(package.business.doc_type),
                files=stored_files,
            )
            item = await self._insert_inbox(
                uow,
                package_id=package_id,
                state=InboxState.DUPLICATE if duplicate_of else InboxState.RECEIVED,
                message=package,
                files=stored_files,
                signer=signer,
                duplicate_of=duplicate_of,
                reason="DocumentId already received" if duplicate_of else None,
                at=now,
            )
            await self._queue_status(uow, reply, about_package_id=package_id, at=now)
            uow.record_event(
                PACKAGE_RECEIVED,
                events.PackageReceived(
                    item=item, agency_code=self.options.agency_code, occurred_at=to_timestamp(now)
                ),
            )
            await uow.commit()
        self._wake.set()

    async def _insert_inbox(
        self,
        uow: UnitOfWork,
        *,
        package_id: str,
        state: InboxState,
        message: edxml.DocumentPackage | None,
        at: datetime,
        files: Sequence[documents_pb2.FileRef] = (),
        signer: signing_pb2.CertificateInfo | None = None,
        duplicate_of: str | None = None,
        reason: str | None = None,
    ) -> pb.InboxItem:
        item_id = str(uuid.uuid4())
        fields = _fields_of(message) if message else {}
        values = {
            "id": item_id,
            "package_id": package_id,
            "state": state.value,
            "sender_id": message.from_.organ_id[:13] if message else "",
            "sender_name": (message.from_.organ_name if message else "")[:200],
            "document_id": (message.document_id if message else "")[:100],
            "business_doc_type": int(message.business.doc_type) if message else 0,
            "fields": fields,
            "file": _file_json(files[0]) if files else None,
            "attachments": [_file_json(f) for f in files[1:]],
            "signer_certificate": signer.subject[:1000] if signer else "",
            "signer_certificate_sha256": signer.sha256 if signer else "",
            "reason": reason,
            "duplicate_of": duplicate_of,
            "received_at": at,
        }
        await uow.session.execute(sa.insert(inbox).values(**values))
        return _item_to_pb(values)

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
            timestamp=_now(),
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
    ) -> None:
        message, signed, stored = reply
        recipient = message.response_for.organ_id
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
        await _insert_status(
            uow,
            message,
            package_id=package_id,
            direction="sent",
            about_package_id=about_package_id,
            at=at,
        )
        await self._add_transmission(uow, package_id, recipient, "", at)
        self._packages.put(stored.sha256, signed)

    async def _record_status(
        self, data: bytes, message: edxml.StatusMessage, *, message_id: str
    ) -> None:
        stored = await self._store(data, content_type="application/xml", file_name="status.edxml")
        sender = message.from_.organ_id
        now = _now()
        async with self._uow() as uow:
            about = (
                await uow.session.execute(
                    sa.select(packages.c.id, packages.c.outgoing_document_id)
                    .join(transmissions, transmissions.c.package_id == packages.c.id)
                    .where(
                        packages.c.direction == "sent",
                        packages.c.kind == "document",
                        packages.c.document_id == message.response_for.document_id,
                        transmissions.c.recipient == sender,
                    )
                    .order_by(packages.c.created_at.desc())
                    .limit(1)
                )
            ).first()
            package_id = str(uuid.uuid4())
            await self._record_package(
                uow,
                package_id=package_id,
                direction="received",
                kind="status",
                stored=stored,
                document_id=message.response_for.document_id,
                counterpart=sender,
                actor=SERVICE_ACTOR,
                summary=f"status {message.status_code} from {sender}",
                at=now,
                message_id=message_id,
            )
            await _insert_status(
                uow,
                message,
                package_id=package_id,
                direction="received",
                about_package_id=about.id if about else None,
                at=now,
            )
            uow.record_event(
                STATUS_RECEIVED,
                events.StatusReceived(
                    outgoing_document_id=(about.outgoing_document_id or "") if about else "",
                    package_id=about.id if about else "",
                    recipient=pb.Organ(organ_id=sender, organ_name=message.from_.organ_name),
                    status=pb.BusinessStatus(
                        code=message.status_code,
                        description=message.description,
                        at=to_timestamp(message.timestamp),
                        message_id=package_id,
                        recorded_at=to_timestamp(now),
                        staff=message.staff_info.staff,
                    ),
                    agency_code=self.options.agency_code,
                    occurred_at=to_timestamp(now),
                ),
            )
            await uow.commit()

    # -- the clerk's inbox -----------------------------------------------------------------

    async def list_inbox(
        self,
        caller: Caller,
        *,
        state: str | None,
        page_size: int,
        after: tuple[datetime, str] | None,
    ) -> tuple[list[pb.InboxItem], tuple[datetime, str] | None]:
        caller.require_role(*INBOX_ROLES)
        size = max(1, min(page_size or 50, PAGE_MAX))
        query = sa.select(inbox).order_by(inbox.c.received_at.desc(), inbox.c.id.desc())
        if state:
            query = query.where(inbox.c.state == state)
        if after is not None:
            query = query.where(sa.tuple_(inbox.c.received_at, inbox.c.id) < after)
        async with self._uow() as uow:
            rows = (await uow.session.execute(query.limit(size + 1))).mappings().all()
        items = [_item_to_pb(dict(row)) for row in rows[:size]]
        more = rows[size] if len(rows) > size else None
        last = rows[size - 1] if more is not None else None
        return items, ((last["received_at"], last["id"]) if last is not None else None)

    async def get_item(self, caller: Caller, item_id: str) -> pb.InboxItem:
        caller.require_role(*INBOX_ROLES)
        async with self._uow() as uow:
            row = await self._item_row(uow, item_id)
        return _item_to_pb(dict(row))

    async def _item_row(self, uow: UnitOfWork, item_id: str, *, lock: bool = False) -> Any:
        query = sa.select(inbox).where(inbox.c.id == item_id)
        if lock:
            query = query.with_for_update()
        try:
            uuid.UUID(item_id)
        except ValueError:
            row = None
        else:
            row = (await uow.session.execute(query)).mappings().first()
        if row is None:
            raise NotFoundError("no such inbox item", reason="INBOX_ITEM_NOT_FOUND")
        return row

    async def register(
        self, caller: Caller, item_id: str, *, document_type: str, secrecy: int
    ) -> tuple[pb.InboxItem, documents_pb2.IncomingDocument]:
        """Registers the package as an incoming document (for the clerk, with their rights);
        then 03 goes back. Asked again, it answers the same document."""
        caller.require_role(*INBOX_ROLES)
        async with self._uow() as uow:
            row = dict(await self._item_row(uow, item_id))
        if row["state"] not in (InboxState.RECEIVED.value, InboxState.REGISTERED.value):
            raise FailedPreconditionError(
                f"the package is {row['state']}; only a received one is registered",
                reason="INBOX_ITEM_NOT_RECEIVED",
                metadata={"state": row["state"]},
            )
        fields = row["fields"]
        request = documents_pb2.RegisterIncomingDocumentRequest(
            issuer_code=row["sender_id"],
            issuer_name=row["sender_name"],
            code_number=fields.get("code_number", ""),
            code_notation=fields.get("code_notation", ""),
            issued_date=fields.get("issued_date", ""),
            document_type=document_type.strip() or fields.get("document_type", ""),
            subject=fields.get("subject", ""),
            priority=fields.get("priority", documents_pb2.PRIORITY_NORMAL),
            secrecy=cast(documents_pb2.Secrecy.ValueType, secrecy or documents_pb2.SECRECY_NONE),
            file=_file_ref(row["file"]),
            received_via=documents_pb2.RECEIVED_VIA_ELECTRONIC,
            identifier=row["document_id"],
            signer=documents_pb2.Signer(
                position=fields.get("signer_position", ""),
                full_name=fields.get("signer_name", ""),
            ),
            attachments=[_file_ref(a) for a in row["attachments"]],
            page_amount=fields.get("page_amount", 0),
            due_date=fields.get("due_date", ""),
            # One package, one incoming document, however often this is asked.
            request_id=f"exchange:{item_id}",
        )
        document = await self.peers.register_incoming(request)
        if row["state"] == InboxState.REGISTERED.value:
            return _item_to_pb(row), document
        reply = await self._signed_status(
            _answering_item(row),
            StatusCode.ACCEPTED,
            f"{DESCRIPTIONS[StatusCode.ACCEPTED]}: số đến {document.arrival_number}",
            staff=caller.subject,
        )
        now = _now()
        async with self._uow() as uow:
            changed = await uow.session.execute(
                sa.update(inbox)
                .where(inbox.c.id == item_id, inbox.c.state == InboxState.RECEIVED.value)
                .values(
                    state=InboxState.REGISTERED.value,
                    incoming_document_id=document.id,
                    handled_by=caller.subject,
                    handled_at=now,
                )
                .returning(*inbox.c)
            )
            updated = changed.mappings().first()
            if updated is None:  # registered meanwhile by another clerk: same document
                row = dict(await self._item_row(uow, item_id))
                return _item_to_pb(row), document
            await self._queue_status(uow, reply, about_package_id=row["package_id"], at=now)
            uow.audit(
                actor=caller.subject,
                action="exchange.inbox.register",
                resource=f"exchange/inbox/{item_id}",
                after={"incoming_document_id": document.id},
            )
            await uow.commit()
        self._wake.set()
        return _item_to_pb(dict(updated)), document

    async def reject(self, caller: Caller, item_id: str, *, reason: str) -> pb.InboxItem:
        caller.require_role(*INBOX_ROLES)
        reason = reason.strip()
        if not reason or len(reason) > 500 or not reason.isprintable():
            raise invalid_fields(
                {"reason": "1 to 500 printable characters"}, reason="INVALID_REJECTION"
            )
        async with self._uow() as uow:
            row = dict(await self._item_row(uow, item_id))
        if row["state"] != InboxState.RECEIVED.value:
            raise FailedPreconditionError(
                f"the package is {row['state']}; only a received one is rejected",
                reason="INBOX_ITEM_NOT_RECEIVED",
                metadata={"state": row["state"]},
            )
        reply = await self._signed_status(
            _answering_item(row), StatusCode.REJECTED, reason, staff=caller.subject
        )
        now = _now()
        async with self._uow() as uow:
            changed = await uow.session.execute(
                sa.update(inbox)
                .where(inbox.c.id == item_id, inbox.c.state == InboxState.RECEIVED.value)
                .values(
                    state=InboxState.REJECTED.value,
                    reason=reason,
                    handled_by=caller.subject,
                    handled_at=now,
                )
                .returning(*inbox.c)
            )
            updated = changed.mappings().first()
            if updated is None:
                raise FailedPreconditionError(
                    "the package was handled meanwhile", reason="INBOX_ITEM_NOT_RECEIVED"
                )
            await self._queue_status(uow, reply, about_package_id=row["package_id"], at=now)
            uow.audit(
                actor=caller.subject,
                action="exchange.inbox.reject",
                resource=f"exchange/inbox/{item_id}",
                after={"reason": reason},
            )
            await uow.commit()
        self._wake.set()
        return _item_to_pb(dict(updated))

    # -- what the sender sees --------------------------------------------------------------

    async def deliveries(
        self, caller: Caller, outgoing_document_id: str
    ) -> pb.ListDeliveriesResponse:
        """Per recipient: transport state and business statuses, for whoever may open the
        document (documents decides)."""
        document = await self.peers.may_open_outgoing(outgoing_document_id)
        async with self._uow() as uow:
            rows = (
                await uow.session.execute(
                    sa.select(transmissions, packages.c.created_at.label("package_created_at"))
                    .join(packages, packages.c.id == transmissions.c.package_id)
                    .where(
                        packages.c.outgoing_document_id == document.id,
                        packages.c.direction == "sent",
                        packages.c.kind == "document",
                    )
                    .order_by(packages.c.created_at, transmissions.c.recipient)
                )
            ).all()
            received = (
                await uow.session.execute(
                    sa.select(statuses)
                    .where(
                        statuses.c.direction == "received",
                        statuses.c.about_package_id.in_({row.package_id for row in rows}),
                    )
                    .order_by(statuses.c.status_at, statuses.c.recorded_at)
                )
            ).all()
        by_recipient: dict[tuple[str, str], list[pb.BusinessStatus]] = {}
        for status in received:
            by_recipient.setdefault((status.about_package_id, status.counterpart), []).append(
                pb.BusinessStatus(
                    code=status.code,
                    description=status.description,
                    at=to_timestamp(status.status_at),
                    message_id=status.package_id,
                    recorded_at=to_timestamp(status.recorded_at),
                    staff=status.staff,
                )
            )
        deliveries = [
            pb.Delivery(
                recipient=pb.Organ(organ_id=row.recipient, organ_name=row.recipient_name),
                transport_state=_TRANSPORT_TO_PB[row.state],
                attempts=row.attempts,
                last_error=row.last_error or "",
                acknowledged_at=to_timestamp(row.acknowledged_at) if row.acknowledged_at else None,
                transport_reference=row.reference or "",
                statuses=by_recipient.get((row.package_id, row.recipient), []),
                package_id=row.package_id,
            )
            for row in rows
        ]
        note = ""
        if not deliveries:
            external = [r for r in document.recipients if r.organ_id != self.options.agency_code]
            if not external:
                note = "no recipient outside the agency"
            elif document.status != documents_pb2.DOCUMENT_STATUS_ISSUED:
                note = "sent once issued and signed by the agency"
            elif document.secrecy not in (
                documents_pb2.SECRECY_UNSPECIFIED,
                documents_pb2.SECRECY_NONE,
            ):
                note = "secret documents are not sent over the axis"
            else:
                note = "waiting for the agency signature"
        return pb.ListDeliveriesResponse(deliveries=deliveries, note=note)

    async def package_xml(self, caller: Caller, package_id: str) -> tuple[pb.PackageXmlInfo, bytes]:
        if not caller.is_service and not caller.roles.intersection(PACKAGE_READER_ROLES):
            raise PermissionDeniedError(
                "reading exchanged packages needs one of the roles: "
                + ", ".join(PACKAGE_READER_ROLES),
                reason="ROLE_REQUIRED",
            )
        try:
            uuid.UUID(package_id)
        except ValueError:
            raise NotFoundError("no such package", reason="PACKAGE_NOT_FOUND") from None
        async with self._uow() as uow:
            row = (
                await uow.session.execute(sa.select(packages).where(packages.c.id == package_id))
            ).first()
        if row is None or not row.sha256:
            raise NotFoundError("no such package", reason="PACKAGE_NOT_FOUND")
        data = await self._read(row.sha256)
        return (
            pb.PackageXmlInfo(
                size=len(data), sha256=row.sha256, kind=row.kind, direction=row.direction
            ),
            data,
        )


_TRANSPORT_TO_PB = {
    TransportState.PENDING.value: pb.TRANSPORT_STATE_PENDING,
    TransportState.ACKNOWLEDGED.value: pb.TRANSPORT_STATE_ACKNOWLEDGED,
    TransportState.FAILED.value: pb.TRANSPORT_STATE_FAILED,
}
_INBOX_TO_PB = {
    InboxState.RECEIVED.value: pb.INBOX_STATE_RECEIVED,
    InboxState.REGISTERED.value: pb.INBOX_STATE_REGISTERED,
    InboxState.REJECTED.value: pb.INBOX_STATE_REJECTED,
    InboxState.REFUSED.value: pb.INBOX_STATE_REFUSED,
    InboxState.DUPLICATE.value: pb.INBOX_STATE_DUPLICATE,
}
INBOX_FROM_PB = {value: key for key, value in _INBOX_TO_PB.items()}


def _answering(package: edxml.DocumentPackage) -> edxml.ResponseFor:
    """What a status message about `package` names it by."""
    return edxml.ResponseFor(
        organ_id=package.from_.organ_id,
        code=f"{package.code.code_number}/{package.code.code_notation}",
        promulgation_date=package.promulgation_date,
        document_id=package.document_id,
    )


def _answering_item(row: dict[str, Any]) -> edxml.ResponseFor:
    """The same, from what the inbox kept of the package when it arrived."""
    fields = row["fields"]
    issued = fields.get("issued_date")
    return edxml.ResponseFor(
        organ_id=row["sender_id"],
        code=f"{fields.get('code_number', '')}/{fields.get('code_notation', '')}",
        promulgation_date=date.fromisoformat(issued) if issued else None,
        document_id=row["document_id"],
    )


async def _insert_status(
    uow: UnitOfWork,
    message: edxml.StatusMessage,
    *,
    package_id: str,
    direction: str,
    about_package_id: str | None,
    at: datetime,
) -> None:
    """A business status sent or received; the other agency is the one the message is from
    (received) or answers (sent)."""
    received = direction == "received"
    await uow.session.execute(
        sa.insert(statuses).values(
            id=str(uuid.uuid4()),
            package_id=package_id,
            direction=direction,
            about_package_id=about_package_id,
            counterpart=message.from_.organ_id if received else message.response_for.organ_id,
            code=message.status_code,
            raw_code=message.raw_status_code or message.status_code,
            description=message.description[:2000],
            staff=message.staff_info.staff[:200],
            status_at=message.timestamp,
            recorded_at=at,
        )
    )


def _fields_of(package: edxml.DocumentPackage) -> dict[str, Any]:
    """What the inbox shows and registration needs, as JSON."""
    return {
        "code_number": package.code.code_number,
        "code_notation": package.code.code_notation,
        "issued_date": package.promulgation_date.isoformat() if package.promulgation_date else "",
        "document_type": package.document_type.type_name,
        "subject": package.subject,
        "priority": _PRIORITY_FROM_EDXML.get(
            package.other_info.priority if package.other_info else 0, documents_pb2.PRIORITY_NORMAL
        ),
        "signer_position": package.signer_info.position if package.signer_info else "",
        "signer_name": package.signer_info.full_name if package.signer_info else "",
        "due_date": package.due_date.isoformat() if package.due_date else "",
        "page_amount": package.other_info.page_amount if package.other_info else 0,
    }


def _item_to_pb(row: dict[str, Any]) -> pb.InboxItem:
    fields = row.get("fields") or {}
    return pb.InboxItem(
        id=row["id"],
        state=_INBOX_TO_PB[row["state"]],
        received_at=to_timestamp(row["received_at"]),
        sender=pb.Organ(organ_id=row["sender_id"], organ_name=row["sender_name"]),
        document_id=row["document_id"],
        code_number=fields.get("code_number", ""),
        code_notation=fields.get("code_notation", ""),
        issued_date=fields.get("issued_date", ""),
        document_type=fields.get("document_type", ""),
        subject=fields.get("subject", ""),
        priority=fields.get("priority", 0),
        signer=documents_pb2.Signer(
            position=fields.get("signer_position", ""), full_name=fields.get("signer_name", "")
        ),
        business_doc_type=row["business_doc_type"],
        file=_file_ref(row.get("file")),
        attachments=[_file_ref(a) for a in row.get("attachments") or []],
        signer_certificate=row.get("signer_certificate") or "",
        signer_certificate_sha256=row.get("signer_certificate_sha256") or "",
        incoming_document_id=row.get("incoming_document_id") or "",
        reason=row.get("reason") or "",
        duplicate_of=row.get("duplicate_of") or "",
        package_id=row["package_id"],
        handled_by=row.get("handled_by") or "",
        handled_at=to_timestamp(row["handled_at"]) if row.get("handled_at") else None,
        due_date=fields.get("due_date", ""),
        page_amount=fields.get("page_amount", 0),
    )
