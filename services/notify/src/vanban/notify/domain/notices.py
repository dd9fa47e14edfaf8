"""Who hears of what in the handling of documents, and in what words (Vietnamese).

Each rule turns the facts of one event into notices, each with the people it goes to; the
service then records one per person cleared for the document (docs/security/permissions.md:
below its secrecy, a person gets nothing at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from vanban.notify.domain.model import KnownDocument, NotificationKind, Recipient
from vanban.platform.clearance import Secrecy

ROLE_WORDS = {"lead": "chủ trì", "coordinating": "phối hợp", "informed": "để biết"}
DECISION_WORDS = {
    "approved": "đã được duyệt",
    "signed": "đã được ký",
    "returned": "bị trả lại",
    "issued": "đã được ban hành",
}


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice before it is given to anyone."""

    kind: NotificationKind
    title: str
    body: str
    resource: str
    secrecy: Secrecy


@dataclass(frozen=True, slots=True)
class TaskFacts:
    id: str
    document_id: str
    role: str  # lead, coordinating, informed
    holder_unit: str
    holder_person: str
    deadline: str  # YYYY-MM-DD or empty
    created_by: str
    on_behalf_of: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalFacts:
    document_id: str
    step: str
    waiting_for: str
    submitted_by: str


Plan = list[tuple[list[Recipient], Notice]]


def holders(people: Sequence[Recipient], task: TaskFacts) -> list[Recipient]:
    """Who acts on the task: its person, or its unit's head and deputies."""
    if task.holder_person:
        return [p for p in people if p.id == task.holder_person]
    return in_unit(people, task.holder_unit)


def in_unit(people: Sequence[Recipient], unit: str) -> list[Recipient]:
    """Who acts on a unit's task or review: the head and deputies the unit names (workflow's
    rule), not whoever holds such a role."""
    return [p for p in people if unit in p.heads]


def with_role(people: Sequence[Recipient], role: str) -> list[Recipient]:
    return [p for p in people if role in p.roles]


def by_id(people: Sequence[Recipient], *ids: str) -> list[Recipient]:
    wanted = set(ids) - {""}
    return [p for p in people if p.id in wanted]


def waiting_for(people: Sequence[Recipient], whose: str) -> list[Recipient]:
    """`person:<id>`, `unit:<code>` (its head and deputies) or `role:<name>`."""
    kind, _, value = whose.partition(":")
    if kind == "person":
        return by_id(people, value)
    if kind == "unit":
        return in_unit(people, value)
    if kind == "role":
        return with_role(people, value)
    return []


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def _about(document: KnownDocument) -> str:
    return f"{document.label}: {document.subject}" if document.label else document.subject


def _deadline(task: TaskFacts) -> str:
    return f" — hạn xử lý {_day(task.deadline)}" if task.deadline else ""


def tasks_given(
    people: Sequence[Recipient],
    document: KnownDocument,
    tasks: Iterable[TaskFacts],
    *,
    forwarded: bool,
) -> Plan:
    """A leader's assignment or a unit head's forwarding: each new task's holders hear of it."""
    kind = NotificationKind.TASK_FORWARDED if forwarded else NotificationKind.TASK_ASSIGNED
    verb = "chuyển" if forwarded else "giao"
    plan: Plan = []
    for task in tasks:
        words = ROLE_WORDS.get(task.role, "xử lý")
        notice = Notice(
            kind=kind,
            title=f"Văn bản được {verb} cho bạn ({words})",
            body=_about(document) + _deadline(task),
            resource=f"tasks/{task.id}",
            secrecy=document.secrecy,
        )
        plan.append((holders(people, task), notice))
    return plan


def task_returned(people: Sequence[Recipient], document: KnownDocument, task: TaskFacts) -> Plan:
    """A task sent back: whoever gave it (the leader it was given for, too) hears why."""
    reason = f" — lý do: {task.reason}" if task.reason else ""
    notice = Notice(
        kind=NotificationKind.TASK_RETURNED,
        title="Văn bản bị trả lại",
        body=_about(document) + reason,
        resource=f"tasks/{task.id}",
        secrecy=document.secrecy,
    )
    return [(by_id(people, task.created_by, task.on_behalf_of), notice)]


def task_completed(people: Sequence[Recipient], document: KnownDocument, task: TaskFacts) -> Plan:
    """A lead or coordinating task done: whoever gave it hears (an informed one is not news)."""
    if task.role == "informed":
        return []
    notice = Notice(
        kind=NotificationKind.TASK_COMPLETED,
        title=f"Văn bản đã được xử lý xong ({ROLE_WORDS.get(task.role, 'xử lý')})",
        body=_about(document),
        resource=f"tasks/{task.id}",
        secrecy=document.secrecy,
    )
    return [(by_id(people, task.created_by, task.on_behalf_of), notice)]


def task_due(
    people: Sequence[Recipient],
    document: KnownDocument,
    task: TaskFacts,
    *,
    overdue: bool,
    escalate_to: str = "",
) -> Plan:
    """Due tomorrow, or past due: the holders hear; past due, whom it escalates to as well."""
    if not overdue:
        return [
            (
                holders(people, task),
                Notice(
                    kind=NotificationKind.TASK_DUE_SOON,
                    title=f"Văn bản sắp đến hạn xử lý ({_day(task.deadline)})",
                    body=_about(document),
                    resource=f"tasks/{task.id}",
                    secrecy=document.secrecy,
                ),
            )
        ]
    plan: Plan = [
        (
            holders(people, task),
            Notice(
                kind=NotificationKind.TASK_OVERDUE,
                title=f"Văn bản quá hạn xử lý (hạn {_day(task.deadline)})",
                body=_about(document),
                resource=f"tasks/{task.id}",
                secrecy=document.secrecy,
            ),
        )
    ]
    if escalate_to:
        holder = task.holder_unit or next(
            (p.full_name for p in by_id(people, task.holder_person)), task.holder_person
        )
        plan.append(
            (
                by_id(people, escalate_to),
                Notice(
                    kind=NotificationKind.TASK_OVERDUE_ESCALATED,
                    title=f"Văn bản quá hạn xử lý tại {holder} (hạn {_day(task.deadline)})",
                    body=_about(document),
                    resource=f"tasks/{task.id}",
                    secrecy=document.secrecy,
                ),
            )
        )
    return plan


def approval_requested(
    people: Sequence[Recipient], document: KnownDocument, approval: ApprovalFacts
) -> Plan:
    """A draft waits for someone's decision: a signature when the step is signing, the clerk's
    number and issue once every step has passed."""
    signing = approval.step == "sign"
    if signing:
        title = "Dự thảo chờ bạn ký"
    elif not approval.step:
        title = "Văn bản đã được duyệt, chờ cấp số và ban hành"
    else:
        title = "Dự thảo chờ bạn duyệt"
    notice = Notice(
        kind=(
            NotificationKind.SIGNATURE_REQUESTED if signing else NotificationKind.APPROVAL_REQUESTED
        ),
        title=title,
        body=_about(document),
        resource=f"outgoing-documents/{document.id}",
        secrecy=document.secrecy,
    )
    return [(waiting_for(people, approval.waiting_for), notice)]


def approval_decided(
    people: Sequence[Recipient],
    document: KnownDocument,
    approval: ApprovalFacts,
    *,
    decision: str,
    actor: str,
    comment: str,
) -> Plan:
    """The drafter hears what became of their draft (not of their own submission)."""
    words = DECISION_WORDS.get(decision)
    if words is None or actor == approval.submitted_by:
        return []
    note = f" — ý kiến: {comment}" if comment else ""
    notice = Notice(
        kind=NotificationKind.APPROVAL_DECIDED,
        title=f"Dự thảo {words}",
        body=_about(document) + note,
        resource=f"outgoing-documents/{document.id}",
        secrecy=document.secrecy,
    )
    return [(by_id(people, approval.submitted_by), notice)]


def package_received(
    people: Sequence[Recipient],
    *,
    item_id: str,
    sender: str,
    code: str,
    subject: str,
) -> Plan:
    """A document from another agency waits in the exchange inbox: the clerks hear."""
    notice = Notice(
        kind=NotificationKind.PACKAGE_RECEIVED,
        title=f"Văn bản điện tử đến từ {sender}" if sender else "Văn bản điện tử đến",
        body=f"{code}: {subject}" if code else subject,
        resource=f"exchange/inbox/{item_id}",
        # The axis carries no secret document (Decree 30/2020: those go on paper).
        secrecy=Secrecy.NONE,
    )
    return [(with_role(people, "clerk"), notice)]


def dossier_handover_due(
    people: Sequence[Recipient],
    *,
    dossier_id: str,
    file_code: str,
    title: str,
    opened_by: str,
    secrecy: Secrecy,
) -> Plan:
    """A closed dossier is due for the agency archive: who opened it and the archivists hear,
    those cleared for its most secret document."""
    notice = Notice(
        kind=NotificationKind.DOSSIER_HANDOVER_DUE,
        title="Hồ sơ đến hạn nộp lưu vào Lưu trữ cơ quan",
        body=f"{file_code}: {title}",
        resource=f"dossiers/{dossier_id}",
        secrecy=secrecy,
    )
    recipients = by_id(people, opened_by) + with_role(people, "archivist")
    return [(recipients, notice)]
