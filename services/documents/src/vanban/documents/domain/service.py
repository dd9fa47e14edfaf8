"""Use cases of the document registry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from vanban.documents.domain.model import IncomingDocument, IncomingDraft
from vanban.documents.domain.ports import Transaction
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import NotFoundError, PermissionDeniedError

# docs/security/permissions.md: who may do what with incoming documents.
REGISTER_ROLES = ("clerk",)
# Those who see every incoming document of the agency (within their clearance). Others will see
# the documents assigned to them or their unit once assignments exist (workflow).
READ_ALL_ROLES = ("clerk", "agency_leader", "deputy_agency_leader", "archivist", "system_reader")


@dataclass(frozen=True, slots=True)
class Reader:
    """Who asks to read: roles and clearance from the caller token; services read everything."""

    roles: frozenset[str]
    clearance: Clearance
    is_service: bool = False


def may_open(document: IncomingDocument, reader: Reader) -> bool:
    if reader.is_service:
        return True
    return bool(reader.roles.intersection(READ_ALL_ROLES)) and may_read(
        secrecy=document.secrecy, clearance=reader.clearance
    )


async def register_incoming(
    *,
    tx: Transaction,
    draft: IncomingDraft,
    registered_by: str,
    now: datetime,
    clearance: Clearance,
) -> IncomingDocument:
    """Registers an arriving document under the next arrival number of its register.

    `now` is the arrival time in the agency's time zone: its year selects the register's year.
    Each secrecy level has a register of its own (Decree 30, art. 22: secret documents are
    registered separately), so the numbers a reader sees run without gaps that would count
    the documents above their clearance.
    """
    clean, issued = draft.validated(arrival_day=now.date())
    if not may_read(secrecy=clean.secrecy, clearance=clearance):
        raise PermissionDeniedError(
            "registering a document above your clearance is not allowed",
            reason="CLEARANCE_TOO_LOW",
            metadata={"secrecy": clean.secrecy.value, "clearance": clearance},
        )
    number = await tx.incoming.next_arrival_number(
        year=now.year, register=register_of(clean.secrecy)
    )
    document = IncomingDocument(
        id=str(uuid.uuid4()),
        arrival_number=number,
        arrival_year=now.year,
        arrived_at=now,
        issuer_code=clean.issuer_code,
        issuer_name=clean.issuer_name,
        code_number=clean.code_number,
        code_notation=clean.code_notation,
        issued_date=issued,
        document_type=clean.document_type,
        subject=clean.subject,
        priority=clean.priority,
        secrecy=clean.secrecy,
        file=clean.file,
        registered_by=registered_by,
    )
    await tx.incoming.add(document)
    tx.record_registered(document)
    tx.audit(
        action="incoming.register",
        resource=f"incoming-documents/{document.id}",
        after={"arrival_number": number, "arrival_year": now.year, "subject": document.subject},
    )
    await tx.commit()
    return document


async def get_incoming(*, tx: Transaction, document_id: str, reader: Reader) -> IncomingDocument:
    """A document the reader may not open is reported as absent, not as forbidden: its
    existence is information too."""
    document = await tx.incoming.get(document_id) if _is_uuid(document_id) else None
    if document is None or not may_open(document, reader):
        raise NotFoundError("no incoming document with this id", reason="INCOMING_NOT_FOUND")
    return document


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def register_of(secrecy: Secrecy) -> str:
    """The numbering series (sổ đăng ký văn bản đến) of a document of this secrecy level."""
    return "incoming" if secrecy is Secrecy.NONE else f"incoming-{secrecy.value}"


def may_read(*, secrecy: Secrecy, clearance: Clearance) -> bool:
    """A person reads a document whose secrecy level is at most their clearance (one order for
    the whole platform: `vanban.platform.clearance`)."""
    return clearance.covers(secrecy)
