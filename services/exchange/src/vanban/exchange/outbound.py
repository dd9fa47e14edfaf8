"""Outbound (ADR 0012 §5): an issued document's package, made once, and its transmissions, retried
until the axis acknowledges each."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from opentelemetry import trace

from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.exchange.v1 import events_pb2 as events
from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.contracts.signing.v1 import signing_pb2
from vanban.exchange.adapters import trace_context
from vanban.exchange.adapters.db.tables import packages, statuses, transmissions
from vanban.exchange.adapters.transport import SendReceipt, TransportError
from vanban.exchange.core import (
    ISSUE_ROLES,
    PACKAGE_SENT,
    PRIORITY_TO_EDXML,
    SERVICE_ACTOR,
    Core,
    checked_reason,
    utc_now,
)
from vanban.exchange.domain import edxml
from vanban.exchange.domain.edxml import BusinessDocType, StatusCode
from vanban.exchange.domain.model import TransportState
from vanban.platform.caller import Caller
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import (
    DomainError,
    FailedPreconditionError,
)

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("vanban.exchange")


# How long a pass holds the transmissions it took before another may take them again.
LEASE = timedelta(seconds=120)


class Outbound(Core):
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
        now = utc_now()
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
        # The files travel in base64 (4 bytes for 3): each is read within what is left.
        room = budget * 3 // 4
        files: list[edxml.Attachment] = []
        for ref in (signed_file, *document.attachments):
            data = await self._read(ref.sha256, max_bytes=room)
            room -= len(data)
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
                priority=PRIORITY_TO_EDXML.get(document.priority, 0),
                promulgation_amount=document.issued_amount,
                page_amount=0,
            ),
            response_for=(),
            steering_type=0,
            trace_headers=(edxml.TraceHeader(organ_id=own.organ_id, timestamp=utc_now()),),
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

    async def recall(
        self, caller: Caller, outgoing_document_id: str, *, reason: str
    ) -> pb.ListDeliveriesResponse:
        """The clerk asks every recipient of the document's package to take it back (thu hồi):
        a status 13 with the reason to each; their answers (15, 16) come back as statuses."""
        caller.require_role(*ISSUE_ROLES)
        reason = checked_reason(reason, field="reason", code="INVALID_RECALL")
        document = await self.peers.may_open_outgoing(outgoing_document_id)
        async with self._uow() as uow:
            rows = (
                await uow.session.execute(
                    sa.select(
                        packages.c.id,
                        packages.c.document_id,
                        transmissions.c.id.label("transmission_id"),
                        transmissions.c.recipient,
                        transmissions.c.state,
                    )
                    .join(transmissions, transmissions.c.package_id == packages.c.id)
                    .where(
                        packages.c.outgoing_document_id == document.id,
                        packages.c.direction == "sent",
                        packages.c.kind == "document",
                        packages.c.business_doc_type == BusinessDocType.NEW,
                    )
                )
            ).all()
            if not rows:
                raise FailedPreconditionError(
                    "the document was not sent over the axis: there is nothing to take back",
                    reason="NOT_SENT",
                )
            # What has not reached a recipient yet is not sent at all.
            await uow.session.execute(
                sa.update(transmissions)
                .where(
                    transmissions.c.id.in_([r.transmission_id for r in rows]),
                    transmissions.c.state == TransportState.PENDING.value,
                )
                .values(state=TransportState.FAILED.value, last_error="RECALLED: taken back")
            )
            asked = set(
                (
                    await uow.session.execute(
                        sa.select(statuses.c.counterpart).where(
                            statuses.c.about_package_id.in_({r.id for r in rows}),
                            statuses.c.direction == "sent",
                            statuses.c.code == StatusCode.TAKE_BACK_REQUESTED.value,
                        )
                    )
                ).scalars()
            )
            await uow.commit()
        # Each recipient that holds it is asked once (asking again asks no one twice).
        rows = [
            r
            for r in rows
            if r.state == TransportState.ACKNOWLEDGED.value and r.recipient not in asked
        ]
        if not rows:
            return await self.deliveries(caller, outgoing_document_id)
        own = await self._own_organ()
        issued = date.fromisoformat(document.issued_date) if document.issued_date else None
        about = edxml.ResponseFor(
            organ_id=own.organ_id,
            code=f"{document.code_number}/{document.code_notation}",
            promulgation_date=issued,
            document_id=rows[0].document_id or document.identifier,
        )
        # One signed status per recipient: each is its own message on the axis.
        replies = [
            (
                row,
                await self._signed_status(
                    about, StatusCode.TAKE_BACK_REQUESTED, reason, staff=caller.subject
                ),
            )
            for row in rows
        ]
        now = utc_now()
        async with self._uow() as uow:
            for row, reply in replies:
                await self._queue_status(
                    uow, reply, about_package_id=row.id, at=now, to=row.recipient
                )
            uow.audit(
                actor=caller.subject,
                action="exchange.recall.ask",
                resource=f"outgoing-documents/{document.id}",
                after={"reason": reason, "recipients": [row.recipient for row in rows]},
            )
            await uow.commit()
        self._wake.set()
        return await self.deliveries(caller, outgoing_document_id)

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
                transport_state=TRANSPORT_TO_PB[row.state],
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
        """One pass: the due transmissions are leased (moved past the lease, so that no other
        replica takes them meanwhile) in a short transaction, handed to the transport with no
        transaction open, and settled in another; returns how many were tried. A pass cut off
        between the two leaves its transmissions to be sent again once the lease ends, with
        the same message ids: the axis drops the repeats."""
        now = utc_now()
        async with self._uow() as uow:
            due = (
                sa.select(transmissions.c.id)
                .where(
                    transmissions.c.state == TransportState.PENDING.value,
                    transmissions.c.next_attempt_at <= now,
                )
                .order_by(transmissions.c.next_attempt_at)
                .limit(self.options.send_batch)
                .with_for_update(skip_locked=True)
            )
            leased = (
                (
                    await uow.session.execute(
                        sa.update(transmissions)
                        .where(transmissions.c.id.in_(due.scalar_subquery()))
                        .values(next_attempt_at=now + LEASE)
                        .returning(transmissions.c.id)
                    )
                )
                .scalars()
                .all()
            )
            if not leased:
                return 0
            rows = (
                await uow.session.execute(
                    sa.select(
                        transmissions,
                        packages.c.sha256,
                        packages.c.kind,
                        packages.c.outgoing_document_id,
                    )
                    .join(packages, packages.c.id == transmissions.c.package_id)
                    .where(transmissions.c.id.in_(leased))
                )
            ).all()
            await uow.commit()
        # Each package of the batch is read once, however many recipients it has.
        payloads = {sha256: await self._payload(sha256) for sha256 in {r.sha256 for r in rows}}
        outcomes = await asyncio.gather(
            *(self._transmit(row, payloads[row.sha256]) for row in rows)
        )
        settled = utc_now()
        async with self._uow() as uow:
            for row, outcome in zip(rows, outcomes, strict=True):
                await self._settle(uow, row, outcome, settled)
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
        """One attempt, in a span under the context the transmission was made in (every retry
        too, so that each attempt is in the document's trace), whose own context the transport
        carries to the recipient."""
        made_in = trace_context.accepted(row.trace_parent, row.trace_state)
        with tracer.start_as_current_span(
            "exchange.transmit",
            context=trace_context.as_parent(made_in),
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.message.id": row.message_id,
                "vanban.exchange.recipient": row.recipient,
                "vanban.exchange.package_id": row.package_id,
                "vanban.exchange.attempt": row.attempts + 1,
            },
        ) as span:
            if isinstance(payload, TransportError):
                outcome: SendReceipt | TransportError = payload
            else:
                try:
                    outcome = await self.transport.send(
                        row.recipient,
                        payload,
                        message_id=row.message_id,
                        trace=trace_context.current(),
                    )
                except TransportError as exc:
                    outcome = exc
            if isinstance(outcome, TransportError):
                span.set_attribute("error.type", outcome.reason)
                span.set_status(trace.Status(trace.StatusCode.ERROR, outcome.reason))
            else:
                span.set_attribute("vanban.exchange.reference", outcome.reference)
            return outcome

    async def _settle(
        self, uow: UnitOfWork, row: Any, outcome: SendReceipt | TransportError, now: datetime
    ) -> None:
        """Records the attempt, if this pass still holds the transmission: a pass that outlived
        its lease (a slow archive) finds another pass has taken it again (and the axis dropped
        the repeat), and leaves it to that one, so that it is counted, and announced, once."""
        attempts = row.attempts + 1
        ours = sa.and_(
            transmissions.c.id == row.id,
            transmissions.c.state == TransportState.PENDING.value,
            transmissions.c.next_attempt_at == row.next_attempt_at,
        )
        if isinstance(outcome, TransportError):
            give_up = now - row.created_at > self.options.give_up_after
            delay = min(self.options.retry_max_delay, 2.0 ** min(attempts - 1, 20))
            await uow.session.execute(
                sa.update(transmissions)
                .where(ours)
                .values(
                    attempts=attempts,
                    last_error=f"{outcome.reason}: {outcome}"[:500],
                    state=(TransportState.FAILED if give_up else TransportState.PENDING).value,
                    next_attempt_at=now + timedelta(seconds=delay * random.uniform(0.8, 1.2)),
                )
            )
            return
        settled = await uow.session.execute(
            sa.update(transmissions)
            .where(ours)
            .values(
                attempts=attempts,
                state=TransportState.ACKNOWLEDGED.value,
                reference=outcome.reference[:200],
                acknowledged_at=now,
                last_error=None,
            )
            .returning(transmissions.c.id)
        )
        if settled.first() is None:
            logger.info(
                "a transmission was settled by another pass after this one's lease ran out",
                extra={"transmission_id": row.id},
            )
            return
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


TRANSPORT_TO_PB = {
    TransportState.PENDING.value: pb.TRANSPORT_STATE_PENDING,
    TransportState.ACKNOWLEDGED.value: pb.TRANSPORT_STATE_ACKNOWLEDGED,
    TransportState.FAILED.value: pb.TRANSPORT_STATE_FAILED,
}
