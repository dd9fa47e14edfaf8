"""In-app notifications (thông báo) of the agency's people."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from vanban.platform.caller import CLEARANCE_LEVELS, clearance_covers


class NotificationKind(enum.Enum):
    INCOMING_REGISTERED = "incoming_registered"


class Secrecy(enum.Enum):
    """Độ mật of a document; also the scale of a person's clearance."""

    NONE = "none"
    CONFIDENTIAL = "confidential"  # mật
    SECRET = "secret"  # tối mật
    TOP_SECRET = "top_secret"  # tuyệt mật


REGISTER_LABELS = {
    Secrecy.CONFIDENTIAL: "mật",
    Secrecy.SECRET: "tối mật",
    Secrecy.TOP_SECRET: "tuyệt mật",
}


def may_know(*, secrecy: Secrecy, clearance: Secrecy) -> bool:
    """Whether a person cleared to `clearance` may learn that a document of `secrecy` exists."""
    return clearance_covers(clearance.value, secrecy.value)


def levels_within(clearance: str) -> tuple[Secrecy, ...]:
    """The secrecy levels a person cleared to `clearance` (a caller-token claim) may see."""
    return tuple(Secrecy(level) for level in CLEARANCE_LEVELS if clearance_covers(clearance, level))


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person who may be notified, as the directory describes them."""

    id: str
    clearance: Secrecy
    active: bool


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
