"""Inbound (ADR 0012 §6): an arrival taken once, verified before it is read, kept with its status
01, or refused and kept with 02; statuses that come back about the packages sent."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.exchange.v1 import events_pb2 as events
from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.contracts.signing.v1 import signing_pb2
from vanban.exchange.adapters.db.tables import inbox, packages, transmissions
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

logger = logging.getLogger(__name__)


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
        except Refused as refused:
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
        if verified.signer.organization_identifier != sender:
            raise Refused(
                "SENDER_MISMATCH",
                f"the package says it is from {sender} but is signed by {verified.signer.subject}",
            )
        if isinstance(message, edxml.DocumentPackage) and self.options.agency_code not in {
            organ.organ_id for organ in message.to
        }:
            raise Refused(
                "NOT_ADDRESSED_HERE", f"the package is not addressed to {self.options.agency_code}"
            )
        return message, verified.signer

    async def _record_refused(self, data: bytes, *, message_id: str, refused: Refused) -> None:
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
                answering(claimed),
                StatusCode.REJECTED,
                f"{refused.reason}: {refused}"[:500],
                staff="",
            )
        now = utc_now()
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
                answering(package),
                StatusCode.REJECTED,
                "Văn bản đã được tiếp nhận trước đó (trùng DocumentId); không tiếp nhận lần hai",
                staff="",
            )
        else:
            reply = await self._signed_status(
                answering(package), StatusCode.ARRIVED, DESCRIPTIONS[StatusCode.ARRIVED], staff=""
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
        fields = fields_of(message) if message else {}
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
        }
        await uow.session.execute(sa.insert(inbox).values(**values))
        return item_to_pb(values)

    async def _record_status(
        self, data: bytes, message: edxml.StatusMessage, *, message_id: str
    ) -> None:
        stored = await self._store(data, content_type="application/xml", file_name="status.edxml")
        sender = message.from_.organ_id
        now = utc_now()
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
            await insert_status(
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
