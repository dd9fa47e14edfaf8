"""Consumer of `vanban.signing.document.signed`: an outgoing document's signature is recorded.

The signing service records each signature here at once (RecordOutgoingSignature); its event
catches up when that call was lost. Both go through `service.record_signature`, idempotent by
the signature's id, so the one that comes second changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from nats.js import JetStreamContext

from vanban.contracts.signing.v1 import events_pb2 as sigevents
from vanban.contracts.signing.v1 import signing_pb2 as sigpb
from vanban.documents.adapters.grpc.convert import file_from_pb
from vanban.documents.adapters.transaction import DocumentsTransaction
from vanban.documents.domain import service
from vanban.documents.domain.outgoing import Signature, SignatureKind
from vanban.platform.caller import Caller
from vanban.platform.convert import optional_datetime
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.errors import (
    DomainError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import DOCUMENTS_DOCUMENT_SIGNED
from vanban.platform.events.nats import subject

logger = logging.getLogger(__name__)

SUBJECT = subject(DOCUMENTS_DOCUMENT_SIGNED.source, "document", "signed")

KIND_FROM_PB = {
    sigpb.SIGNATURE_KIND_LEADER: SignatureKind.LEADER,
    sigpb.SIGNATURE_KIND_AGENCY: SignatureKind.AGENCY,
    sigpb.SIGNATURE_KIND_AGENCY_TEXT: SignatureKind.AGENCY_TEXT,
}

# Refusals a redelivery cannot change: the document is not there, the signature is malformed,
# or it does not fit the document (out of order, not a draft, a version that is no longer
# current). They are logged and acknowledged; anything else (the database away) is retried.
_FINAL = (NotFoundError, InvalidArgumentError, FailedPreconditionError)


def signature_from_event(signature: sigpb.Signature) -> Signature:
    kind = KIND_FROM_PB.get(signature.kind)
    signed_at = optional_datetime(signature, "signed_at")
    if kind is None or signed_at is None:
        raise InvalidArgumentError(
            "the signature names no known kind or no signing time", reason="INVALID_SIGNATURE"
        )
    return Signature(
        id=signature.id,
        version=signature.version,
        kind=kind,
        file=file_from_pb(signature.file),
        source_sha256=signature.source_sha256,
        signed_by=signature.signed_by,
        signed_at=signed_at,
        certificate_subject=signature.certificate_subject,
    )


class SignedHandler:
    def __init__(self, *, agency_code: str) -> None:
        # The signing service acted: the audit entry and the update event name it, as when it
        # calls.
        self._signing = Caller(
            agency_code=agency_code, subject=service.SIGNATURE_RECORDER, is_service=True
        )

    async def __call__(
        self, uow: UnitOfWork, event: sigevents.DocumentSigned, context: EventContext
    ) -> None:
        signature = event.signature
        try:
            await service.record_signature(
                tx=DocumentsTransaction(uow, caller=self._signing),
                document_id=signature.document_id,
                signature=signature_from_event(signature),
                now=datetime.now(UTC),
            )
        except _FINAL as exc:
            log_refusal(exc, signature, context)


def log_refusal(exc: DomainError, signature: sigpb.Signature, context: EventContext) -> None:
    logger.warning(
        "a signature was not recorded with its document",
        extra={
            "document_id": signature.document_id,
            "signature_id": signature.id,
            "reason": exc.reason,
            "error": exc.message,
            "event_id": context.event_id,
        },
    )


def signed_consumer(
    *, js: JetStreamContext, uow_factory: UnitOfWorkFactory, agency_code: str, max_deliver: int
) -> EventConsumer[sigevents.DocumentSigned]:
    return EventConsumer(
        js=js,
        source_service=DOCUMENTS_DOCUMENT_SIGNED.source,
        durable=DOCUMENTS_DOCUMENT_SIGNED.name,
        subject=SUBJECT,
        message_type=sigevents.DocumentSigned,
        handler=SignedHandler(agency_code=agency_code),
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
