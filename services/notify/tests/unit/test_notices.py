"""Who hears of what in a document's handling (the rules alone; the e2e tests run them through
the platform)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vanban.contracts.archive.v1 import events_pb2 as archive_events
from vanban.contracts.archive.v1 import records_pb2
from vanban.contracts.documents.v1 import documents_pb2 as docpb
from vanban.contracts.documents.v1 import events_pb2 as document_events
from vanban.contracts.exchange.v1 import events_pb2 as exchange_events
from vanban.contracts.exchange.v1 import exchange_pb2
from vanban.contracts.workflow.v1 import events_pb2 as workflow_events
from vanban.notify.adapters.events.handling import (
    _handover_due,
    _package_received,
    outgoing_known,
    stale,
)
from vanban.notify.domain import notices, service
from vanban.notify.domain.model import (
    IncomingRegistered,
    KnownDocument,
    NotificationKind,
    Recipient,
)
from vanban.notify.domain.notices import ApprovalFacts, TaskFacts
from vanban.platform.clearance import Clearance, Secrecy

from .test_service import FakeTransaction

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def person(
    pid: str,
    *roles: str,
    units: tuple[str, ...] = (),
    heads: tuple[str, ...] = (),
    clearance: Clearance = Clearance.NONE,
    active: bool = True,
) -> Recipient:
    return Recipient(
        id=pid,
        clearance=clearance,
        active=active,
        roles=frozenset(roles),
        units=units,
        heads=frozenset(heads),
        full_name=f"Ông {pid}",
    )


PEOPLE = [
    person("head-kt", "unit_head", units=("KT",), heads=("KT",)),
    person(
        "deputy-kt", "deputy_unit_head", units=("KT",), heads=("KT",), clearance=Clearance.SECRET
    ),
    person("spec-kt", "specialist", units=("KT",)),
    person("head-tc", "unit_head", units=("TC",), heads=("TC",)),
    # Holds the role and sits in KT, but KT does not name them: they act on no KT task.
    person("other-head", "unit_head", units=("KT", "TC")),
    person("leader", "agency_leader", clearance=Clearance.TOP_SECRET),
    person("clerk", "clerk", clearance=Clearance.SECRET),
    person("old-clerk", "clerk", active=False),
    person("archivist", "archivist"),
]
DOCUMENT = KnownDocument(
    id="doc-1",
    direction="incoming",
    label="Số đến 12/2026 (345/BNV-VP)",
    subject="V/v triển khai văn bản điện tử",
    secrecy=Secrecy.NONE,
)


def task(**overrides: str) -> TaskFacts:
    fields = {
        "id": "task-1",
        "document_id": "doc-1",
        "role": "lead",
        "holder_unit": "KT",
        "holder_person": "",
        "deadline": "2026-12-15",
        "created_by": "leader",
    }
    fields.update(overrides)
    return TaskFacts(**fields)


def who(plan: notices.Plan) -> list[tuple[str, NotificationKind]]:
    return sorted((p.id, n.kind) for recipients, n in plan for p in recipients)


def test_a_units_task_reaches_its_head_and_deputies_and_a_persons_the_person() -> None:
    plan = notices.tasks_given(
        PEOPLE,
        DOCUMENT,
        [task(), task(id="task-2", holder_unit="", holder_person="spec-kt", role="informed")],
        forwarded=False,
    )
    assert who(plan) == [
        ("deputy-kt", NotificationKind.TASK_ASSIGNED),
        ("head-kt", NotificationKind.TASK_ASSIGNED),
        ("spec-kt", NotificationKind.TASK_ASSIGNED),
    ]
    assert plan[0][1].title == "Văn bản được giao cho bạn (chủ trì)"
    assert plan[0][1].body.endswith("— hạn xử lý 15/12/2026")
    assert plan[1][1].title == "Văn bản được giao cho bạn (để biết)"


def test_overdue_reaches_the_holders_and_whom_it_escalates_to() -> None:
    plan = notices.task_due(PEOPLE, DOCUMENT, task(), overdue=True, escalate_to="leader")
    assert who(plan) == [
        ("deputy-kt", NotificationKind.TASK_OVERDUE),
        ("head-kt", NotificationKind.TASK_OVERDUE),
        ("leader", NotificationKind.TASK_OVERDUE_ESCALATED),
    ]
    assert plan[1][1].title == "Văn bản quá hạn xử lý tại KT (hạn 15/12/2026)"
    soon = notices.task_due(PEOPLE, DOCUMENT, task(), overdue=False)
    assert who(soon) == [
        ("deputy-kt", NotificationKind.TASK_DUE_SOON),
        ("head-kt", NotificationKind.TASK_DUE_SOON),
    ]


def test_returned_and_completed_go_to_whoever_gave_the_task_not_for_informed_ones() -> None:
    returned = notices.task_returned(PEOPLE, DOCUMENT, task(reason="Không thuộc thẩm quyền"))
    assert who(returned) == [("leader", NotificationKind.TASK_RETURNED)]
    assert returned[0][1].body.endswith("lý do: Không thuộc thẩm quyền")
    assert who(notices.task_completed(PEOPLE, DOCUMENT, task())) == [
        ("leader", NotificationKind.TASK_COMPLETED)
    ]
    assert notices.task_completed(PEOPLE, DOCUMENT, task(role="informed")) == []


def test_an_approval_waits_for_a_person_a_unit_or_the_clerks() -> None:
    def waiting(whose: str, step: str) -> list[tuple[str, NotificationKind]]:
        approval = ApprovalFacts("doc-1", step=step, waiting_for=whose, submitted_by="spec-kt")
        return who(notices.approval_requested(PEOPLE, DOCUMENT, approval))

    assert waiting("person:leader", "sign") == [("leader", NotificationKind.SIGNATURE_REQUESTED)]
    assert waiting("unit:KT", "review") == [
        ("deputy-kt", NotificationKind.APPROVAL_REQUESTED),
        ("head-kt", NotificationKind.APPROVAL_REQUESTED),
    ]
    assert waiting("role:clerk", "") == [
        ("clerk", NotificationKind.APPROVAL_REQUESTED),
        ("old-clerk", NotificationKind.APPROVAL_REQUESTED),
    ]
    assert waiting("nobody", "review") == []


def test_the_drafter_hears_of_decisions_but_not_of_their_own_submission() -> None:
    approval = ApprovalFacts("doc-1", step="", waiting_for="", submitted_by="spec-kt")

    def decided(decision: str, actor: str) -> list[tuple[str, NotificationKind]]:
        return who(
            notices.approval_decided(
                PEOPLE, DOCUMENT, approval, decision=decision, actor=actor, comment=""
            )
        )

    assert decided("returned", "head-kt") == [("spec-kt", NotificationKind.APPROVAL_DECIDED)]
    assert decided("issued", "clerk") == [("spec-kt", NotificationKind.APPROVAL_DECIDED)]
    assert decided("submitted", "spec-kt") == []


async def test_nobody_below_the_documents_secrecy_nor_inactive_gets_a_notice() -> None:
    secret = KnownDocument(
        id="doc-2",
        direction="incoming",
        label="Số đến 3/2026",
        subject="Mật",
        secrecy=Secrecy.SECRET,
    )
    plan = notices.tasks_given(PEOPLE, secret, [task(document_id="doc-2")], forwarded=False)
    plan += notices.approval_requested(
        PEOPLE, secret, ApprovalFacts("doc-2", step="", waiting_for="role:clerk", submitted_by="")
    )
    tx = FakeTransaction()
    recorded = await service.record_plan(tx=tx, plan=plan, event_id="ev-1", now=NOW)
    # head-kt (no clearance) and old-clerk (inactive) get nothing; one notice per person.
    assert sorted(n.recipient_id for n in recorded) == ["clerk", "deputy-kt"]
    again = await service.record_plan(tx=tx, plan=plan, event_id="ev-1", now=NOW)
    assert again == []


def test_packages_reach_the_clerks_and_handovers_the_keeper_and_archivists() -> None:
    package = notices.package_received(
        PEOPLE, item_id="in-1", sender="Bộ Nội vụ", code="12/BNV", subject="Về việc"
    )
    assert who(package) == [
        ("clerk", NotificationKind.PACKAGE_RECEIVED),
        ("old-clerk", NotificationKind.PACKAGE_RECEIVED),
    ]
    assert package[0][1].title == "Văn bản điện tử đến từ Bộ Nội vụ"
    handover = notices.dossier_handover_due(
        PEOPLE,
        dossier_id="d-1",
        file_code="H99.2026.01",
        title="Hồ sơ",
        opened_by="spec-kt",
        secrecy=Secrecy.NONE,
    )
    assert who(handover) == [
        ("archivist", NotificationKind.DOSSIER_HANDOVER_DUE),
        ("spec-kt", NotificationKind.DOSSIER_HANDOVER_DUE),
    ]


def test_what_notify_remembers_of_a_document_keeps_its_secrecy() -> None:
    incoming = service.known_incoming(
        IncomingRegistered(
            document_id="d",
            arrival_number=3,
            arrival_year=2026,
            issuer_name="Bộ Quốc phòng",
            code_number="1",
            code_notation="BQP",
            subject="Mật",
            secrecy=Secrecy.SECRET,
        )
    )
    assert incoming.secrecy is Secrecy.SECRET
    assert incoming.label == "Số đến 3/2026 (1/BQP)"
    draft = document_events.OutgoingDocumentDrafted(
        document=docpb.OutgoingDocument(id="o", subject="Dự thảo", secrecy=docpb.SECRECY_SECRET)
    )
    assert outgoing_known(draft).secrecy is Secrecy.SECRET
    # A level this version does not know: the highest.
    draft.document.secrecy = 99  # type: ignore[assignment]
    assert outgoing_known(draft).secrecy is Secrecy.TOP_SECRET


async def test_a_handover_of_a_dossier_of_unknown_secrecy_reaches_only_the_most_cleared() -> None:
    event = archive_events.DossierHandoverDue(
        dossier=records_pb2.Dossier(id="d-1", file_code="H99.2026.01", title="Hồ sơ", opened_by="x")
    )
    [(_, notice)] = await _handover_due(None, PEOPLE, event)  # type: ignore[arg-type]
    assert notice.secrecy is Secrecy.TOP_SECRET
    event.secrecy = docpb.SECRECY_CONFIDENTIAL
    [(_, notice)] = await _handover_due(None, PEOPLE, event)  # type: ignore[arg-type]
    assert notice.secrecy is Secrecy.CONFIDENTIAL


async def test_a_package_refused_on_arrival_or_a_duplicate_notifies_nobody() -> None:
    for state in (exchange_pb2.INBOX_STATE_REFUSED, exchange_pb2.INBOX_STATE_DUPLICATE):
        event = exchange_events.PackageReceived(item=exchange_pb2.InboxItem(id="i", state=state))
        assert await _package_received(None, PEOPLE, event) == []  # type: ignore[arg-type]
    waiting = exchange_events.PackageReceived(
        item=exchange_pb2.InboxItem(id="i", state=exchange_pb2.INBOX_STATE_RECEIVED)
    )
    assert await _package_received(None, PEOPLE, waiting)  # type: ignore[arg-type]


def test_an_event_of_long_ago_gives_no_notice() -> None:
    event = workflow_events.TaskCompleted()
    assert not stale(event, NOW)  # no time said: not stale
    event.occurred_at.FromDatetime(NOW - timedelta(days=3))
    assert stale(event, NOW)
    event.occurred_at.FromDatetime(NOW - timedelta(hours=3))
    assert not stale(event, NOW)


async def test_a_long_comment_is_cut_to_what_a_notice_holds() -> None:
    approval = ApprovalFacts("doc-1", step="", waiting_for="", submitted_by="spec-kt")
    plan = notices.approval_decided(
        PEOPLE, DOCUMENT, approval, decision="returned", actor="leader", comment="x" * 2000
    )
    [recorded] = await service.record_plan(tx=FakeTransaction(), plan=plan, event_id="e", now=NOW)
    assert len(recorded.body) == service.MAX_BODY and recorded.body.endswith("…")
