"""Inbound (ADR 0012 §6): an arrival taken once, verified before it is read, kept with its status
01, or refused and kept with 02; statuses that come back about the packages sent."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from opentelemetry import trace
from sqlalchemy.exc import IntegrityError

from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.exchange.v1 import events_pb2 as events
from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.contracts.signing.v1 import signing_pb2
from vanban.exchange.adapters import trace_context
from vanban.exchange.adapters.db.tables import inbox, packages, statuses, transmissions
from vanban.exchange.adapters.transport import Arrival, TransportError
from vanban.exchange.core import (
    PACKAGE_RECEIVED,
    SERVICE_ACTOR,
    STATUS_RECEIVED,
    Core,
    Refused,
    answering,
    file_json,
    insert_status,
    pause,
    utc_now,
)
from vanban.exchange.domain import edxml
from vanban.exchange.domain.edxml import BusinessDocType, StatusCode
from vanban.exchange.domain.model import DESCRIPTIONS, InboxState
from vanban.exchange.inbox import fields_of, item_to_pb
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import (
    DomainError,
    ErrorCode,
)
from vanban.platform.stored_files import DEFAULT_CONTENT_TYPE, FILE_NAME_MAX, is_media_type

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("vanban.exchange")


# Deliveries of one arrival before it is given up and recorded as refused.
MAX_DELIVERIES = 10
# Answers (02) to packages refused before their signature held, per sender they name, a day.
CLAIM_ANSWERS_PER_DAY = 20


def _storable(attachment: edxml.Attachment) -> dict[str, str]:
    """The attachment's description as the archive takes it: a sender's loose content type
    becomes application/octet-stream and a long name is cut, rather than the package refused."""
    content_type = attachment.content_type.strip()
    return {
        "content_type": content_type if is_media_type(content_type) else DEFAULT_CONTENT_TYPE,
        "file_name": attachment.name[:FILE_NAME_MAX],
    }


@dataclass(frozen=True, slots=True)
class _About:
    id: str
    outgoing_document_id: str | None


class Inbound(Core):
    async def receive_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                arrivals = await self.transport.fetch(batch=self.options.receive_batch, wait=1.0)
            except TransportError as exc:
                logger.warning("the axis cannot be read now", extra={"reason": exc.reason})
                await pause(stop, 2.0)
                continue
            for arrival in arrivals:
                await self._take(arrival)

    async def _take(self, arrival: Arrival) -> None:
        """Takes one arrival in a span under the sender's (its `traceparent`, when well formed
        and sampled), although the sender is another agency: one document is one trace across
        agencies, so that its receiving here (verification, the archive, the status 01 back) is
        found from the sender's trace by its id. The sender decides nothing else by it: its
        context is ids only, taken only well formed (`trace_context.accepted`), never with
        baggage; one it did not sample is a link from a trace of our own, so that a sender can
        at most make us sample, never stop us; a made-up trace id only groups our spans under
        it in our own tracing."""
        parent, links = trace_context.from_sender(arrival.trace_context)
        with tracer.start_as_current_span(
            "exchange.receive",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "nats",
                "messaging.message.id": arrival.message_id,
                "messaging.message.delivery_count": arrival.delivery_count,
            },
        ) as span:
            try:
                await self.receive(arrival.data, message_id=arrival.message_id)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
                if arrival.delivery_count >= MAX_DELIVERIES:
                    await self._give_up(arrival, exc)
                    return
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

    async def _give_up(self, arrival: Arrival, exc: Exception) -> None:
        """An arrival that failed every time it came is recorded as refused (by its digest)
        and settled, so that one package cannot occupy the inbox for ever."""
        logger.error(
            "an arrival failed every delivery and is refused",
            extra={"message_id": arrival.message_id, "error": repr(exc)},
        )
        refused = Refused("UNPROCESSABLE", f"not taken after {arrival.delivery_count} deliveries")
        try:
            await self._record_refused(
                arrival.data, message_id=arrival.message_id, refused=refused, answer=False
            )
        except IntegrityError:
            pass  # recorded meanwhile
        except Exception:
            logger.exception("a refused arrival could not be recorded; it comes again")
            await self._settle_arrival(arrival.nak(delay=60.0))
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
        """Takes one arrival: recorded once (by its message id), verified before it is read.
        A concurrent replica's record of the same arrival fails this one's insert: it comes
        again and is then known."""
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
        except Refused as refused:
            await self._record_refused(data, message_id=message_id, refused=refused)
            return
        if isinstance(message, edxml.StatusMessage):
            await self._record_status(data, message, message_id=message_id)
        else:
            await self._record_document(data, message, signer, message_id=message_id)

    async def _verified(
        self, data: bytes
    ) -> tuple[edxml.DocumentPackage | edxml.StatusMessage, signing_pb2.CertificateInfo]:
        limit = self.limits.max_package_bytes
        if len(data) > limit:
            raise Refused(
                "PACKAGE_TOO_LARGE",
                f"the package has {len(data)} bytes, more than the {limit} accepted",
            )
        try:
            verified = await self.peers.verify_xml(data)
        except DomainError as exc:
            if exc.code in (ErrorCode.FAILED_PRECONDITION, ErrorCode.INVALID_ARGUMENT):
                raise Refused(exc.reason or "INVALID_SIGNATURE", str(exc)) from None
            raise
        try:
            message = edxml.parse(verified.signed_xml, limits=self.limits)
        except edxml.EdxmlError as exc:
            raise Refused(exc.reason, str(exc)) from None
        sender = message.from_.organ_id
        signer = verified.signer
        # The signer is the sender; and a CA that names an agency (a development agency CA)
        # vouches for that agency alone, not for another agency's code.
        if signer.organization_identifier != sender or (
            signer.issuer_organization_identifier not in ("", sender)
        ):
            raise Refused(
                "SENDER_MISMATCH",
                f"the package says it is from {sender} but is signed by {signer.subject}, "
                f"issued by {signer.issuer}",
            )
        if isinstance(message, edxml.DocumentPackage) and self.options.agency_code not in {
            organ.organ_id for organ in message.to
        }:
            raise Refused(
                "NOT_ADDRESSED_HERE",
                f"the package is not addressed to {self.options.agency_code}",
                package=message,
            )
        return message, verified.signer

    async def _record_refused(
        self, data: bytes, *, message_id: str, refused: Refused, answer: bool = True
    ) -> None:
        """Recorded by its digest and size, never kept in the archive (another agency cannot
        fill it), and answered with 02 and the reason (QCVN 102): to the sender its signature
        proved (`Refused.package`), or to the sender an unverified package names (`_claimed`).
        Not `answer`: recorded only (an arrival given up on, whatever failed)."""
        package = refused.package
        reason = f"{refused.reason}: {refused}"[:500]
        answered = None
        if answer:
            answered = package if package is not None else await self._claimed(data)
        reply = None
        if answered is not None:
            reply = await self._signed_status(
                answering(answered), StatusCode.REJECTED, reason, staff=""
            )
        digest = documents_pb2.FileRef(
            sha256=hashlib.sha256(data).hexdigest(), size=len(data), content_type="application/xml"
        )
        now = utc_now()
        async with self._uow() as uow:
            package_id = str(uuid.uuid4())
            await self._record_package(
                uow,
                package_id=package_id,
                direction="received",
                kind="document" if package is not None else "unknown",
                stored=digest,
                kept=False,
                document_id=package.document_id if package is not None else "",
                counterpart=package.from_.organ_id if package is not None else "",
                actor=SERVICE_ACTOR,
                summary=f"refused: {refused.reason}",
                at=now,
                message_id=message_id,
            )
            item = await self._insert_inbox(
                uow,
                package_id=package_id,
                state=InboxState.REFUSED,
                message=package,
                reason=reason,
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

    async def _claimed(self, data: bytes) -> edxml.DocumentPackage | None:
        """The sender and DocumentId an unverified package claims, to tell that sender it was
        refused, as the standard asks; nothing else is taken from it. The claim is answered only
        the first time and never about a DocumentId already taken from that sender, so that
        nobody can have 02 sent on another agency's behalf about a document it did send, or
        have a sender flooded with answers."""
        try:
            claimed = edxml.parse(data, limits=self.limits)
        except edxml.EdxmlError:
            return None
        if not isinstance(claimed, edxml.DocumentPackage):
            return None
        sender, document_id = claimed.from_.organ_id, claimed.document_id
        own = self.options.agency_code
        if sender == own or own not in {organ.organ_id for organ in claimed.to}:
            return None
        async with self._uow() as uow:
            # At most CLAIM_ANSWERS_PER_DAY answers to unverified claims per named sender: new
            # DocumentIds are cheap to make up.
            lately = await uow.session.scalar(
                sa.select(sa.func.count())
                .select_from(statuses)
                .join(packages, packages.c.id == statuses.c.about_package_id)
                .where(
                    statuses.c.direction == "sent",
                    statuses.c.counterpart == sender,
                    statuses.c.recorded_at > utc_now() - timedelta(days=1),
                    packages.c.kept.is_(False),
                )
            )
            if (lately or 0) >= CLAIM_ANSWERS_PER_DAY:
                return None
            taken = await uow.session.scalar(
                sa.select(inbox.c.id).where(
                    inbox.c.sender_id == sender,
                    inbox.c.document_id == document_id,
                    inbox.c.state != InboxState.REFUSED.value,
                )
            )
            answered = await uow.session.scalar(
                sa.select(packages.c.id).where(
                    packages.c.direction == "sent",
                    packages.c.kind == "status",
                    packages.c.counterpart == sender,
                    packages.c.document_id == document_id,
                )
            )
        return claimed if taken is None and answered is None else None

    async def _record_document(
        self,
        data: bytes,
        package: edxml.DocumentPackage,
        signer: signing_pb2.CertificateInfo,
        *,
        message_id: str,
    ) -> None:
        stored_files = [
            await self._store(attachment.data, **_storable(attachment))
            for attachment in package.attachments
        ]
        stored = await self._store(data, content_type="application/xml", file_name="received.edxml")
        duplicate_of, replayed = await self._earlier(package, stored.sha256)
        reply = None
        if duplicate_of is None:
            reply = await self._signed_status(
                answering(package), StatusCode.ARRIVED, DESCRIPTIONS[StatusCode.ARRIVED], staff=""
            )
        elif not replayed:
            # The sender sent the same document again as another package: told so. The same
            # signed bytes again are a replay (by anyone on the axis), answered to nobody.
            reply = await self._signed_status(
                answering(package),
                StatusCode.REJECTED,
                "Văn bản đã được tiếp nhận trước đó (trùng DocumentId); không tiếp nhận lần hai",
                staff="",
            )
        now = utc_now()
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

    async def _earlier(
        self, package: edxml.DocumentPackage, sha256: str
    ) -> tuple[str | None, bool]:
        """The inbox item this package repeats, if any, and whether it is the very same signed
        bytes (a replay): the same bytes received before in any state, or a new document whose
        DocumentId from this sender is already received or registered."""
        async with self._uow() as uow:
            replay = await uow.session.scalar(
                sa.select(inbox.c.id)
                .join(packages, packages.c.id == inbox.c.package_id)
                .where(packages.c.direction == "received", packages.c.sha256 == sha256)
                .limit(1)
            )
            if replay is not None:
                return replay, True
            if package.business.doc_type != BusinessDocType.NEW:
                return None, False
            live = await uow.session.scalar(
                sa.select(inbox.c.id).where(
                    inbox.c.sender_id == package.from_.organ_id,
                    inbox.c.document_id == package.document_id,
                    inbox.c.state.in_((InboxState.RECEIVED.value, InboxState.REGISTERED.value)),
                    inbox.c.business_doc_type == BusinessDocType.NEW,
                )
            )
        return live, False

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
        fields = fields_of(message) if message else {}
        received_in = trace_context.current()
        values = {
            "id": item_id,
            "package_id": package_id,
            "state": state.value,
            "sender_id": message.from_.organ_id[:13] if message else "",
            "sender_name": (message.from_.organ_name if message else "")[:200],
            "document_id": (message.document_id if message else "")[:100],
            "business_doc_type": int(message.business.doc_type) if message else 0,
            "fields": fields,
            "file": file_json(files[0]) if files else None,
            "attachments": [file_json(f) for f in files[1:]],
            "signer_certificate": signer.subject[:1000] if signer else "",
            "signer_certificate_sha256": signer.sha256 if signer else "",
            "reason": reason,
            "duplicate_of": duplicate_of,
            "received_at": at,
            "trace_parent": received_in.traceparent if received_in else None,
        }
        await uow.session.execute(sa.insert(inbox).values(**values))
        return item_to_pb(values)

    async def _sent_package_answered(self, uow: UnitOfWork, message: edxml.StatusMessage) -> Any:
        """The package we sent that a recipient's status is about (its latest of the
        DocumentId to that recipient), with its outgoing document."""
        return (
            await uow.session.execute(
                sa.select(packages.c.id, packages.c.outgoing_document_id)
                .join(transmissions, transmissions.c.package_id == packages.c.id)
                .where(
                    packages.c.direction == "sent",
                    packages.c.kind == "document",
                    packages.c.document_id == message.response_for.document_id,
                    transmissions.c.recipient == message.from_.organ_id,
                )
                .order_by(packages.c.created_at.desc())
                .limit(1)
            )
        ).first()

    async def _recall_asked(
        self, uow: UnitOfWork, message: edxml.StatusMessage, *, at: datetime
    ) -> Any:
        """The received package a sender's recall (13) is about, marked as asked (once, until
        it is answered); None when nothing of that sender and DocumentId was received."""
        item = (
            await uow.session.execute(
                sa.select(inbox.c.id, inbox.c.package_id.label("package_id"))
                .where(
                    inbox.c.sender_id == message.from_.organ_id,
                    inbox.c.document_id == message.response_for.document_id,
                    inbox.c.state.in_((InboxState.RECEIVED.value, InboxState.REGISTERED.value)),
                    inbox.c.business_doc_type == BusinessDocType.NEW,
                )
                .order_by(inbox.c.received_at.desc())
                .limit(1)
            )
        ).first()
        if item is None:
            return None
        await uow.session.execute(
            sa.update(inbox)
            .where(inbox.c.id == item.id, inbox.c.recall_answer.is_(None))
            .values(recall_reason=message.description[:2000], recall_requested_at=at)
        )
        return _About(id=item.package_id, outgoing_document_id=None)

    async def _record_status(
        self, data: bytes, message: edxml.StatusMessage, *, message_id: str
    ) -> None:
        stored = await self._store(data, content_type="application/xml", file_name="status.edxml")
        sender = message.from_.organ_id
        now = utc_now()
        async with self._uow() as uow:
            if message.status_code == StatusCode.TAKE_BACK_REQUESTED:
                # The sender of a package we received asks to take it back.
                about = await self._recall_asked(uow, message, at=now)
            else:
                about = await self._sent_package_answered(uow, message)
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
            await insert_status(
                uow,
                message,
                package_id=package_id,
                direction="received",
                about_package_id=about.id if about else None,
                counterpart=sender,
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
