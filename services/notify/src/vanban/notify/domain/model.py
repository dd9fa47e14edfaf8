"""In-app notifications (thông báo) of the agency's people."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from vanban.platform.clearance import Clearance, Secrecy


class NotificationKind(enum.Enum):
    INCOMING_REGISTERED = "incoming_registered"
    TASK_ASSIGNED = "task_assigned"
    TASK_FORWARDED = "task_forwarded"
    TASK_RETURNED = "task_returned"
    TASK_COMPLETED = "task_completed"
    TASK_DUE_SOON = "task_due_soon"
    TASK_OVERDUE = "task_overdue"
    TASK_OVERDUE_ESCALATED = "task_overdue_escalated"
    APPROVAL_REQUESTED = "approval_requested"
    SIGNATURE_REQUESTED = "signature_requested"
    APPROVAL_DECIDED = "approval_decided"
    PACKAGE_RECEIVED = "package_received"
    DOSSIER_HANDOVER_DUE = "dossier_handover_due"


REGISTER_LABELS = {
    Secrecy.CONFIDENTIAL: "mật",
    Secrecy.SECRET: "tối mật",
    Secrecy.TOP_SECRET: "tuyệt mật",
}


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person who may be notified, as the directory describes them."""

    id: str
    clearance: Clearance
    active: bool
    roles: frozenset[str] = frozenset()
    units: tuple[str, ...] = ()
    email: str = ""
    full_name: str = ""
    # The units whose head or deputy the person is (they act on those units' tasks).
    heads: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class KnownDocument:
    """What notify remembers of a document to write notices about it: how people call it (its
    arrival number, its số/ký hiệu, or "dự thảo"), its trích yếu and its secrecy."""

    id: str
    direction: str  # incoming or outgoing
    label: str
    subject: str
    secrecy: Secrecy


@dataclass(frozen=True, slots=True)
class IncomingRegistered:
    """The facts of a newly registered incoming document (văn bản đến) that a notice shows."""

    document_id: str
    arrival_number: int
    arrival_year: int
    issuer_name: str
    code_number: str
    code_notation: str
    subject: str
    secrecy: Secrecy


@dataclass(frozen=True, slots=True)
class Notification:
    """One notice for one person; `source_event_id` is the event that caused it.

    `secrecy` is that of the document the notice is about: the inbox shows a notice only while
    its recipient is cleared for it, so a lowered clearance hides what it no longer covers.
    """

    id: str
    recipient_id: str
    kind: NotificationKind
    title: str
    body: str
    resource: str
    created_at: datetime
    source_event_id: str
    secrecy: Secrecy = Secrecy.NONE
    read_at: datetime | None = None
    # 1, 2, 3 ... per recipient in commit order, given when it is recorded (0 before).
    sequence: int = 0

    @property
    def read(self) -> bool:
        return self.read_at is not None


def incoming_registered_text(document: IncomingRegistered) -> tuple[str, str]:
    """Title and body (Vietnamese, shown to people) of the notice about a registered document.

    Only people cleared for the document get one: nothing of it, not even its number, is
    written for anyone else.
    """
    title = f"Văn bản đến mới: số đến {document.arrival_number}/{document.arrival_year}"
    if document.secrecy is not Secrecy.NONE:
        # Each secrecy level numbers in a register of its own: say which one.
        title += f" (sổ {REGISTER_LABELS[document.secrecy]})"
    code = "/".join(part for part in (document.code_number, document.code_notation) if part)
    head = " — ".join(part for part in (document.issuer_name, code) if part)
    return title, f"{head}: {document.subject}" if head else document.subject
