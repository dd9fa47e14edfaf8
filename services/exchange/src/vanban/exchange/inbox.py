"""The clerk's inbox (register: 03, reject: 02) and what the sender sees of its deliveries."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from opentelemetry import trace

from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.exchange.adapters import trace_context
from vanban.exchange.adapters.db.tables import inbox, packages, statuses
from vanban.exchange.core import (
    INBOX_ROLES,
    PACKAGE_READER_ROLES,
    PAGE_MAX,
    PRIORITY_FROM_EDXML,
    Core,
    checked_reason,
    file_ref,
    utc_now,
)
from vanban.exchange.domain import edxml
from vanban.exchange.domain.edxml import StatusCode
from vanban.exchange.domain.model import DESCRIPTIONS, InboxState
from vanban.platform.caller import Caller
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import (
    DomainError,
    ErrorCode,
    FailedPreconditionError,
    NotFoundError,
    PermissionDeniedError,
)

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("vanban.exchange")


# The business statuses of handling, in their order.
PROGRESS = {StatusCode.ASSIGNED: 1, StatusCode.IN_PROGRESS: 2, StatusCode.COMPLETED: 3}


class Inbox(Core):
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
        items = [item_to_pb(dict(row)) for row in rows[:size]]
        more = rows[size] if len(rows) > size else None
        last = rows[size - 1] if more is not None else None
        return items, ((last["received_at"], last["id"]) if last is not None else None)

    async def get_item(self, caller: Caller, item_id: str) -> pb.InboxItem:
        caller.require_role(*INBOX_ROLES)
        async with self._uow() as uow:
            row = await self._item_row(uow, item_id)
        return item_to_pb(dict(row))

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
        with _handling("exchange.register", item_id, row):
            return await self._register(
                caller, item_id, row, document_type=document_type, secrecy=secrecy
            )

    async def _register(
        self,
        caller: Caller,
        item_id: str,
        row: dict[str, Any],
        *,
        document_type: str,
        secrecy: int,
    ) -> tuple[pb.InboxItem, documents_pb2.IncomingDocument]:
        if row["state"] not in (InboxState.RECEIVED.value, InboxState.REGISTERED.value):
            raise FailedPreconditionError(
                f"the package is {row['state']}; only a received one is registered",
                reason="INBOX_ITEM_NOT_RECEIVED",
                metadata={"state": row["state"]},
            )
        if row["recall_answer"] == "agreed" and row["state"] == InboxState.RECEIVED.value:
            raise FailedPreconditionError(
                "its sender took it back (recall agreed); it is not registered",
                reason="INBOX_ITEM_NOT_RECEIVED",
                metadata={"state": "recalled"},
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
            file=file_ref(row["file"]),
            received_via=documents_pb2.RECEIVED_VIA_ELECTRONIC,
            identifier=row["document_id"],
            signer=documents_pb2.Signer(
                position=fields.get("signer_position", ""),
                full_name=fields.get("signer_name", ""),
            ),
            attachments=[file_ref(a) for a in row["attachments"]],
            page_amount=fields.get("page_amount", 0),
            due_date=fields.get("due_date", ""),
            # One package, one incoming document, however often this is asked.
            request_id=f"exchange:{item_id}",
        )
        if row["state"] == InboxState.RECEIVED.value:
            await self._start_registration(item_id)
        try:
            document = await self.peers.register_incoming(request)
        except DomainError as exc:
            if exc.code not in (ErrorCode.UNAVAILABLE, ErrorCode.DEADLINE_EXCEEDED):
                # Refused (a field, the catalogue, the clerk's clearance): nothing was
                # registered, so the item may be rejected again.
                await self._abandon_registration(item_id)
            raise
        if row["state"] == InboxState.REGISTERED.value:
            return item_to_pb(row), document
        reply = await self._signed_status(
            answering_item(row),
            StatusCode.ACCEPTED,
            f"{DESCRIPTIONS[StatusCode.ACCEPTED]}: số đến {document.arrival_number}",
            staff=caller.subject,
        )
        now = utc_now()
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
                return item_to_pb(row), document
            await self._queue_status(uow, reply, about_package_id=row["package_id"], at=now)
            uow.audit(
                actor=caller.subject,
                action="exchange.inbox.register",
                resource=f"exchange/inbox/{item_id}",
                after={"incoming_document_id": document.id},
            )
            await uow.commit()
        self._wake.set()
        return item_to_pb(dict(updated)), document

    async def _start_registration(self, item_id: str) -> None:
        """Marks the item as being registered before documents numbers it: from then on a
        rejection is refused, so that no document is registered while the sender hears 02, and
        so is agreeing to a recall (nothing would be withdrawn). An item whose recall was agreed
        meanwhile is not registered."""
        async with self._uow() as uow:
            await uow.session.execute(
                sa.update(inbox)
                .where(
                    inbox.c.id == item_id,
                    inbox.c.state == InboxState.RECEIVED.value,
                    inbox.c.registration_started_at.is_(None),
                )
                .values(registration_started_at=utc_now())
            )
            recalled = await uow.session.scalar(
                sa.select(inbox.c.id).where(
                    inbox.c.id == item_id, inbox.c.recall_answer == "agreed"
                )
            )
            if recalled is not None:
                raise FailedPreconditionError(
                    "its sender took it back (recall agreed); it is not registered",
                    reason="INBOX_ITEM_NOT_RECEIVED",
                    metadata={"state": "recalled"},
                )
            await uow.commit()

    async def _abandon_registration(self, item_id: str) -> None:
        async with self._uow() as uow:
            await uow.session.execute(
                sa.update(inbox)
                .where(inbox.c.id == item_id, inbox.c.state == InboxState.RECEIVED.value)
                .values(registration_started_at=None)
            )
            await uow.commit()

    async def reject(self, caller: Caller, item_id: str, *, reason: str) -> pb.InboxItem:
        caller.require_role(*INBOX_ROLES)
        reason = checked_reason(reason, field="reason", code="INVALID_REJECTION")
        async with self._uow() as uow:
            row = dict(await self._item_row(uow, item_id))
        with _handling("exchange.reject", item_id, row):
            return await self._reject(caller, item_id, row, reason=reason)

    async def _reject(
        self, caller: Caller, item_id: str, row: dict[str, Any], *, reason: str
    ) -> pb.InboxItem:
        if row["state"] != InboxState.RECEIVED.value:
            raise FailedPreconditionError(
                f"the package is {row['state']}; only a received one is rejected",
                reason="INBOX_ITEM_NOT_RECEIVED",
                metadata={"state": row["state"]},
            )
        reply = await self._signed_status(
            answering_item(row), StatusCode.REJECTED, reason, staff=caller.subject
        )
        now = utc_now()
        async with self._uow() as uow:
            changed = await uow.session.execute(
                sa.update(inbox)
                .where(
                    inbox.c.id == item_id,
                    inbox.c.state == InboxState.RECEIVED.value,
                    # A registration under way finishes; it is not undone by a rejection. An item
                    # its sender took back is not rejected after the 15.
                    inbox.c.registration_started_at.is_(None),
                    inbox.c.recall_answer.is_distinct_from("agreed"),
                )
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
                    "the package is being registered or was handled meanwhile",
                    reason="INBOX_ITEM_NOT_RECEIVED",
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
        return item_to_pb(dict(updated))

    async def answer_recall(
        self, caller: Caller, item_id: str, *, agree: bool, reason: str
    ) -> pb.InboxItem:
        """The clerk answers its sender's recall: agreed (15), the incoming document, if
        registered, is withdrawn (kept, marked recalled); refused (16) with the reason.

        The answer is claimed first (one answer per recall, not while a registration is under
        way), then the document withdrawn, then the status sent: asked again with the same
        answer, the steps a failure left undone are done, and the status is sent once."""
        caller.require_role(*INBOX_ROLES)
        reason = checked_reason(reason, field="reason", code="INVALID_RECALL", required=not agree)
        answer = "agreed" if agree else "refused"
        row = await self._claim_answer(caller, item_id, answer=answer, reason=reason)
        if agree and row["incoming_document_id"]:
            await self.peers.withdraw_incoming(
                row["incoming_document_id"],
                reason=(row["recall_reason"] or "Thu hồi theo đề nghị của cơ quan gửi")[:500],
                agreed_by=caller.subject,
            )
        code = StatusCode.AGREED if agree else StatusCode.REFUSED
        async with self._uow() as uow:
            sent = await uow.session.scalar(
                sa.select(statuses.c.id).where(
                    statuses.c.about_package_id == row["package_id"],
                    statuses.c.direction == "sent",
                    statuses.c.code == code.value,
                )
            )
        if sent is None:
            reply = await self._signed_status(
                answering_item(row),
                code,
                row["recall_answer_reason"] or "Đồng ý thu hồi văn bản",
                staff=caller.subject,
            )
            async with self._uow() as uow:
                await self._queue_status(
                    uow, reply, about_package_id=row["package_id"], at=utc_now()
                )
                await uow.commit()
            self._wake.set()
        return item_to_pb(row)

    async def _claim_answer(
        self, caller: Caller, item_id: str, *, answer: str, reason: str
    ) -> dict[str, Any]:
        async with self._uow() as uow:
            row = dict(await self._item_row(uow, item_id, lock=True))
            if row["recall_requested_at"] is None or row["recall_answer"] not in (None, answer):
                raise FailedPreconditionError(
                    "no recall of this package waits for an answer", reason="RECALL_NOT_ASKED"
                )
            if row["recall_answer"] == answer:
                return row  # answered so before: finish what is left
            registering = (
                row["state"] == InboxState.RECEIVED.value
                and row["registration_started_at"] is not None
            )
            if answer == "agreed" and registering:
                raise FailedPreconditionError(
                    "the package is being registered; answer once it is registered",
                    reason="INBOX_ITEM_NOT_RECEIVED",
                    metadata={"state": "registering"},
                )
            now = utc_now()
            updated = (
                (
                    await uow.session.execute(
                        sa.update(inbox)
                        .where(inbox.c.id == item_id)
                        .values(
                            recall_answer=answer,
                            recall_answer_reason=reason or None,
                            recall_answered_by=caller.subject,
                            recall_answered_at=now,
                        )
                        .returning(*inbox.c)
                    )
                )
                .mappings()
                .one()
            )
            uow.audit(
                actor=caller.subject,
                action=f"exchange.recall.{'agree' if answer == 'agreed' else 'refuse'}",
                resource=f"exchange/inbox/{item_id}",
                after={"reason": reason},
            )
            await uow.commit()
        return dict(updated)

    async def report_progress(self, uow: UnitOfWork, document_id: str, code: StatusCode) -> None:
        """Tells the agency that sent the incoming document `document_id` how its handling
        goes (04, 05, 06), once per code and never backwards: a document whose 06 went back
        is not reported as 05 again. Documents that did not come over the axis are not."""
        row = (
            (
                await uow.session.execute(
                    sa.select(inbox)
                    .where(
                        inbox.c.incoming_document_id == document_id,
                        inbox.c.state == InboxState.REGISTERED.value,
                        # A document its sender took back is not reported on.
                        inbox.c.recall_answer.is_distinct_from("agreed"),
                    )
                    # One report at a time per document, on every replica and consumer: the
                    # statuses read below then include the other's.
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return
        sent = set(
            (
                await uow.session.execute(
                    sa.select(statuses.c.code).where(
                        statuses.c.about_package_id == row["package_id"],
                        statuses.c.direction == "sent",
                    )
                )
            ).scalars()
        )
        if any(PROGRESS[code] <= PROGRESS[done] for done in sent.intersection(PROGRESS)):
            return
        reply = await self._signed_status(
            answering_item(dict(row)), code, DESCRIPTIONS[code], staff=""
        )
        await self._queue_status(uow, reply, about_package_id=row["package_id"], at=utc_now())
        self._wake.set()

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
                await uow.session.execute(
                    sa.select(packages, inbox.c.incoming_document_id)
                    .outerjoin(inbox, inbox.c.package_id == packages.c.id)
                    .where(packages.c.id == package_id)
                )
            ).first()
        if row is None or not row.kept:
            # A refused package was never kept: its record has its digest only.
            raise NotFoundError("no such package", reason="PACKAGE_NOT_FOUND")
        # A package that became a document is read by whoever may open the document (its
        # secrecy, as the clerk registered it, and its reach; documents decides).
        if row.incoming_document_id:
            await self.peers.may_open_incoming(row.incoming_document_id)
        elif row.outgoing_document_id:
            await self.peers.may_open_outgoing(row.outgoing_document_id)
        data = await self._read(row.sha256)
        return (
            pb.PackageXmlInfo(
                size=len(data), sha256=row.sha256, kind=row.kind, direction=row.direction
            ),
            data,
        )


INBOX_TO_PB = {
    InboxState.RECEIVED.value: pb.INBOX_STATE_RECEIVED,
    InboxState.REGISTERED.value: pb.INBOX_STATE_REGISTERED,
    InboxState.REJECTED.value: pb.INBOX_STATE_REJECTED,
    InboxState.REFUSED.value: pb.INBOX_STATE_REFUSED,
    InboxState.DUPLICATE.value: pb.INBOX_STATE_DUPLICATE,
}
INBOX_FROM_PB = {value: key for key, value in INBOX_TO_PB.items()}


@contextmanager
def _handling(name: str, item_id: str, row: dict[str, Any]) -> Iterator[trace.Span]:
    """The clerk's handling of an arrival, in the trace of the clerk's request, linked to the
    package's receiving (in its sender's trace when it came with one): a person's act later
    on is a trace of its own (ADR 0012 §10)."""
    received_in = trace_context.accepted(row.get("trace_parent"))
    with tracer.start_as_current_span(
        name,
        links=trace_context.link_to(received_in),
        attributes={"vanban.exchange.inbox_item_id": item_id},
    ) as span:
        yield span


def answering_item(row: dict[str, Any]) -> edxml.ResponseFor:
    """The same, from what the inbox kept of the package when it arrived."""
    fields = row["fields"]
    issued = fields.get("issued_date")
    return edxml.ResponseFor(
        organ_id=row["sender_id"],
        code=f"{fields.get('code_number', '')}/{fields.get('code_notation', '')}",
        promulgation_date=date.fromisoformat(issued) if issued else None,
        document_id=row["document_id"],
    )


def fields_of(package: edxml.DocumentPackage) -> dict[str, Any]:
    """What the inbox shows and registration needs, as JSON."""
    return {
        "code_number": package.code.code_number,
        "code_notation": package.code.code_notation,
        "issued_date": package.promulgation_date.isoformat() if package.promulgation_date else "",
        "document_type": package.document_type.type_name,
        "subject": package.subject,
        "priority": PRIORITY_FROM_EDXML.get(
            package.other_info.priority if package.other_info else 0, documents_pb2.PRIORITY_NORMAL
        ),
        "signer_position": package.signer_info.position if package.signer_info else "",
        "signer_name": package.signer_info.full_name if package.signer_info else "",
        "due_date": package.due_date.isoformat() if package.due_date else "",
        "page_amount": package.other_info.page_amount if package.other_info else 0,
    }


def item_to_pb(row: dict[str, Any]) -> pb.InboxItem:
    fields = row.get("fields") or {}
    return pb.InboxItem(
        id=row["id"],
        state=INBOX_TO_PB[row["state"]],
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
        file=file_ref(row.get("file")),
        attachments=[file_ref(a) for a in row.get("attachments") or []],
        signer_certificate=row.get("signer_certificate") or "",
        signer_certificate_sha256=row.get("signer_certificate_sha256") or "",
        incoming_document_id=row.get("incoming_document_id") or "",
        reason=row.get("reason") or "",
        duplicate_of=row.get("duplicate_of") or "",
        package_id=row["package_id"],
        handled_by=row.get("handled_by") or "",
        handled_at=to_timestamp(row["handled_at"]) if row.get("handled_at") else None,
        recall=_recall_to_pb(row) if row.get("recall_requested_at") else None,
        due_date=fields.get("due_date", ""),
        page_amount=fields.get("page_amount", 0),
    )


def _recall_to_pb(row: dict[str, Any]) -> pb.Recall:
    answered = row.get("recall_answered_at")
    return pb.Recall(
        reason=row.get("recall_reason") or "",
        requested_at=to_timestamp(row["recall_requested_at"]),
        answer=row.get("recall_answer") or "",
        answer_reason=row.get("recall_answer_reason") or "",
        answered_by=row.get("recall_answered_by") or "",
        answered_at=to_timestamp(answered) if answered else None,
    )
