"""Every durable JetStream consumer of the platform: whose it is and whose stream it reads.

The one list of them. The services take their consumers' names from here, and the launcher
grants each service's NATS user the JetStream API of exactly its own durables (create, fetch,
ack, info) and of no one else's. NATS permissions are subjects, and a durable's name is one
subject token: only a grant naming each durable keeps one service off another's consumer, so a
consumer that is not listed here cannot be made by a service's user at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from vanban.platform.events.nats import stream_name


@dataclass(frozen=True)
class Durable:
    """A durable pull consumer ``name`` kept by service ``owner`` on ``source``'s stream."""

    owner: str
    source: str
    name: str

    def __post_init__(self) -> None:
        # Names carry their owner, so a dead letter (`vanban.dlq.<name>`) or a log line tells
        # whose consumer it was, and no two services can pick the same one.
        if not self.name.startswith(f"{self.owner}-") or "." in self.name:
            raise ValueError(f"durable {self.name!r} must be '{self.owner}-<purpose>', no dots")

    @property
    def stream(self) -> str:
        return stream_name(self.source)


# A person's sessions end when the directory raises their session version.
GATEWAY_PERSON_SESSIONS = Durable("gateway", "directory", "gateway-person-sessions")
# A notice for every clerk when an incoming document is registered.
NOTIFY_INCOMING_REGISTERED = Durable("notify", "documents", "notify-incoming-registered")
# ... and the notices of a document's handling: what they say of a draft, whom its tasks,
# approvals, packages and dossiers concern.
NOTIFY_OUTGOING_DRAFTED = Durable("notify", "documents", "notify-outgoing-drafted")
NOTIFY_TASK_ASSIGNED = Durable("notify", "workflow", "notify-task-assigned")
NOTIFY_TASK_FORWARDED = Durable("notify", "workflow", "notify-task-forwarded")
NOTIFY_TASK_RETURNED = Durable("notify", "workflow", "notify-task-returned")
NOTIFY_TASK_COMPLETED = Durable("notify", "workflow", "notify-task-completed")
NOTIFY_TASK_DUE_SOON = Durable("notify", "workflow", "notify-task-due-soon")
NOTIFY_TASK_OVERDUE = Durable("notify", "workflow", "notify-task-overdue")
NOTIFY_APPROVAL_REQUESTED = Durable("notify", "workflow", "notify-approval-requested")
NOTIFY_APPROVAL_DECIDED = Durable("notify", "workflow", "notify-approval-decided")
NOTIFY_PACKAGE_RECEIVED = Durable("notify", "exchange", "notify-package-received")
NOTIFY_DOSSIER_HANDOVER_DUE = Durable("notify", "archive", "notify-dossier-handover-due")
# Claims keep the bytes a registered document, a signature image or the seal refers to.
ARCHIVE_INCOMING_REGISTERED = Durable("archive", "documents", "archive-incoming-registered")
ARCHIVE_OUTGOING_DRAFTED = Durable("archive", "documents", "archive-outgoing-drafted")
ARCHIVE_PERSON_UPSERTED = Durable("archive", "directory", "archive-person-upserted")
ARCHIVE_AGENCY_UPDATED = Durable("archive", "directory", "archive-agency-updated")
# ... and the signed PDFs of outgoing documents.
ARCHIVE_DOCUMENT_SIGNED = Durable("archive", "signing", "archive-document-signed")
# An outgoing document's signatures are recorded with it (also called at once; this catches up).
DOCUMENTS_DOCUMENT_SIGNED = Durable("documents", "signing", "documents-document-signed")
# The agency signature is made automatically on what was issued through the approval chain.
SIGNING_OUTGOING_ISSUED = Durable("signing", "documents", "signing-outgoing-issued")
# Who may read an incoming document: the units of its assignment join its reach.
DOCUMENTS_REACH = Durable("documents", "workflow", "documents-reach")
# ... and the units and people a task is forwarded to.
DOCUMENTS_REACH_FORWARDED = Durable("documents", "workflow", "documents-reach-forwarded")
# A numbered draft closes its approval.
WORKFLOW_OUTGOING_ISSUED = Durable("workflow", "documents", "workflow-outgoing-issued")
# An outgoing document's package leaves once the agency signature is on it (ADR 0012).
EXCHANGE_DOCUMENT_SIGNED = Durable("exchange", "signing", "exchange-document-signed")
# Handling of a document that came over the axis goes back to its sender as 04, 05, 06.
EXCHANGE_TASK_ASSIGNED = Durable("exchange", "workflow", "exchange-task-assigned")
EXCHANGE_TASK_FORWARDED = Durable("exchange", "workflow", "exchange-task-forwarded")
EXCHANGE_TASK_COMPLETED = Durable("exchange", "workflow", "exchange-task-completed")
# The signed bytes of every package and status, and the files a package brought, are kept for
# the exchange's evidence.
ARCHIVE_EXCHANGE_EVIDENCE = Durable("archive", "exchange", "archive-exchange-evidence")

DURABLES: tuple[Durable, ...] = (
    GATEWAY_PERSON_SESSIONS,
    NOTIFY_INCOMING_REGISTERED,
    NOTIFY_OUTGOING_DRAFTED,
    NOTIFY_TASK_ASSIGNED,
    NOTIFY_TASK_FORWARDED,
    NOTIFY_TASK_RETURNED,
    NOTIFY_TASK_COMPLETED,
    NOTIFY_TASK_DUE_SOON,
    NOTIFY_TASK_OVERDUE,
    NOTIFY_APPROVAL_REQUESTED,
    NOTIFY_APPROVAL_DECIDED,
    NOTIFY_PACKAGE_RECEIVED,
    NOTIFY_DOSSIER_HANDOVER_DUE,
    ARCHIVE_INCOMING_REGISTERED,
    ARCHIVE_OUTGOING_DRAFTED,
    ARCHIVE_PERSON_UPSERTED,
    ARCHIVE_AGENCY_UPDATED,
    ARCHIVE_DOCUMENT_SIGNED,
    DOCUMENTS_DOCUMENT_SIGNED,
    SIGNING_OUTGOING_ISSUED,
    DOCUMENTS_REACH,
    DOCUMENTS_REACH_FORWARDED,
    WORKFLOW_OUTGOING_ISSUED,
    EXCHANGE_DOCUMENT_SIGNED,
    EXCHANGE_TASK_ASSIGNED,
    EXCHANGE_TASK_FORWARDED,
    EXCHANGE_TASK_COMPLETED,
    ARCHIVE_EXCHANGE_EVIDENCE,
)


def durables_of(service: str) -> tuple[Durable, ...]:
    """The durables ``service`` keeps."""
    return tuple(durable for durable in DURABLES if durable.owner == service)


@dataclass(frozen=True)
class Follow:
    """A live subscription of service ``owner`` to ``subject``: plain NATS, at most once, from
    now on. For pushing what is new while someone waits, never for work that must happen: the
    follower catches up by other means whatever it misses."""

    owner: str
    subject: str


# Every gateway replica pushes new notices to the people whose streams it holds (a stream
# catches up from notify's store after a gap, a reconnect or a missed message).
GATEWAY_NOTICES = Follow("gateway", "vanban.notify.notification.recorded")

# Notify keeps the agency's people a few seconds for a burst of events, and forgets them as soon
# as someone changes (a new clerk gets the next registration's notice).
NOTIFY_PEOPLE_CHANGED = Follow("notify", "vanban.directory.person.upserted")
NOTIFY_PEOPLE_DEACTIVATED = Follow("notify", "vanban.directory.person.deactivated")

FOLLOWS: tuple[Follow, ...] = (GATEWAY_NOTICES, NOTIFY_PEOPLE_CHANGED, NOTIFY_PEOPLE_DEACTIVATED)


def follows_of(service: str) -> tuple[Follow, ...]:
    """The subjects ``service`` follows live."""
    return tuple(follow for follow in FOLLOWS if follow.owner == service)
