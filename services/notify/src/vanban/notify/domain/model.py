"""In-app notifications (thông báo) of the agency's people."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class NotificationKind(enum.Enum):
    INCOMING_REGISTERED = "incoming_registered"


class Secrecy(enum.Enum):
    """Độ mật of a document; also the scale of a person's clearance."""

    NONE = "none"
    CONFIDENTIAL = "confidential"  # mật
    SECRET = "secret"  # tối mật
    TOP_SECRET = "top_secret"  # tuyệt mật


_LEVELS = {Secrecy.NONE: 0, Secrecy.CONFIDENTIAL: 1, Secrecy.SECRET: 2, Secrecy.TOP_SECRET: 3}
SECRECY_LABELS = {
    Secrecy.NONE: "thường",
    Secrecy.CONFIDENTIAL: "mật",
    Secrecy.SECRET: "tối mật",
    Secrecy.TOP_SECRET: "tuyệt mật",
}


def may_read(*, secrecy: Secrecy, clearance: Secrecy) -> bool:
    return _LEVELS[secrecy] <= _LEVELS[clearance]


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
    """One notice for one person; `source_event_id` is the event that caused it."""

    id: str
    recipient_id: str
    kind: NotificationKind
    title: str
    body: str
    resource: str
    created_at: datetime
    source_event_id: str
    read_at: datetime | None = None

    @property
    def read(self) -> bool:
        return self.read_at is not None


def incoming_registered_text(
    document: IncomingRegistered, *, clearance: Secrecy
) -> tuple[str, str]:
    """Title and body (Vietnamese, shown to people) of the notice about a registered document.

    The abstract of a document above the recipient's clearance is left out.
    """
    title = f"Văn bản đến mới: số đến {document.arrival_number}/{document.arrival_year}"
    code = "/".join(part for part in (document.code_number, document.code_notation) if part)
    if may_read(secrecy=document.secrecy, clearance=clearance):
        about = document.subject
    else:
        about = f"(văn bản {SECRECY_LABELS[document.secrecy]}, trích yếu được ẩn)"
    head = " — ".join(part for part in (document.issuer_name, code) if part)
    return title, f"{head}: {about}" if head else about
