"""The rules of dossiers and dispositions (domain/records.py, domain/keeping.py's lock policy)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from vanban.archive.domain.keeping import LockPolicy, deletable
from vanban.archive.domain.records import (
    MAX_DOCUMENTS,
    Disposition,
    DispositionItem,
    DispositionState,
    DocumentKind,
    Dossier,
    DossierDocument,
    DossierFile,
    DossierState,
    Keeping,
    add_years,
)
from vanban.platform.caller import Caller
from vanban.platform.clearance import Clearance
from vanban.platform.errors import DomainError

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
AGENCY = "000.00.00.H99"


def make_dossier(**overrides: object) -> Dossier:
    values: dict[str, object] = {
        "id": "00000000-0000-4000-8000-000000000001",
        "year": 2026,
        "list_code": "03.VP",
        "file_code": f"{AGENCY}.2026.03.VP",
        "title": "Hồ sơ tiếp nhận văn bản đến",
        "retention": "06",
        "retention_years": 10,
        "access": "01",
        "creator_unit": "VP",
        "responsible": "",
        "opened_by": "opener",
        "opened_at": NOW,
    }
    values.update(overrides)
    return Dossier(**values)  # type: ignore[arg-type]


def make_document(n: int, **overrides: object) -> DossierDocument:
    values: dict[str, object] = {
        "kind": DocumentKind.INCOMING,
        "document_id": f"00000000-0000-4000-8000-{n:012d}",
        "identifier": "",
        "code_number": str(n),
        "code_notation": "QĐ-UBND",
        "issued_date": date(2026, 3, n % 28 + 1),
        "issuer_name": "UBND tỉnh",
        "document_type": "Quyết định",
        "subject": f"Văn bản {n}",
        "page_amount": 2,
        "secrecy": Clearance.NONE,
        "files": (DossierFile(f"{n:064x}", 10, "application/pdf", f"{n}.pdf"),),
        "added_by": "opener",
        "added_at": NOW,
    }
    values.update(overrides)
    return DossierDocument(**values)  # type: ignore[arg-type]


def person(
    *roles: str, units: tuple[str, ...] = (), clearance: Clearance = Clearance.NONE
) -> Caller:
    return Caller(
        agency_code=AGENCY,
        subject="someone",
        roles=frozenset(roles),
        units=units,
        clearance=clearance,
    )


def reason(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.reason


class TestForming:
    def test_totals_start_date_and_secrecy_follow_the_documents_held(self) -> None:
        dossier = make_dossier()
        dossier = dossier.with_document(make_document(5))
        dossier = dossier.with_document(make_document(2, secrecy=Clearance.CONFIDENTIAL))
        assert (dossier.doc_total, dossier.page_total) == (2, 4)
        assert dossier.start_date == date(2026, 3, 3)
        assert dossier.secrecy is Clearance.CONFIDENTIAL
        dossier = dossier.without_document(make_document(2).document_id)
        assert (dossier.doc_total, dossier.page_total, dossier.secrecy) == (1, 2, Clearance.NONE)
        assert dossier.start_date == date(2026, 3, 6)

    def test_a_document_is_held_once_and_a_full_dossier_refuses_more(self) -> None:
        dossier = make_dossier().with_document(make_document(1))
        assert dossier.with_document(make_document(1)) is dossier
        full = replace(dossier, documents=tuple(make_document(n) for n in range(MAX_DOCUMENTS)))
        with pytest.raises(DomainError) as refused:
            full.with_document(make_document(MAX_DOCUMENTS + 1))
        assert reason(refused) == "DOSSIER_TOO_LARGE"

    def test_closing_needs_a_document_and_an_end_date_between_start_and_today(self) -> None:
        with pytest.raises(DomainError) as empty:
            make_dossier().closed(end_date=None, today=TODAY, by="opener", at=NOW)
        assert reason(empty) == "DOSSIER_EMPTY"
        dossier = make_dossier().with_document(make_document(5))
        for wrong in (date(2026, 12, 1), date(2026, 3, 5)):
            with pytest.raises(DomainError) as refused:
                dossier.closed(end_date=wrong, today=TODAY, by="opener", at=NOW)
            assert reason(refused) == "INVALID_END_DATE"
        closed = dossier.closed(end_date=None, today=TODAY, by="opener", at=NOW)
        assert (closed.state, closed.end_date) == (DossierState.CLOSED, TODAY)
        assert closed.handover_due == date(2027, 11, 29)
        assert closed.retention_ends == date(2036, 11, 29)

    def test_a_closed_or_archived_dossier_takes_and_loses_nothing(self) -> None:
        closed = (
            make_dossier()
            .with_document(make_document(5))
            .closed(end_date=None, today=TODAY, by="opener", at=NOW)
        )
        with pytest.raises(DomainError) as refused:
            closed.with_document(make_document(6))
        assert reason(refused) == "DOSSIER_NOT_OPEN"
        record = DossierFile("f" * 64, 1, "application/pdf", "bien-ban.pdf")
        handed = closed.handed_over(by="archivist", at=NOW, record=record)
        for change in (
            lambda: handed.with_document(make_document(6)),
            lambda: handed.without_document(make_document(5).document_id),
            lambda: handed.closed(end_date=None, today=TODAY, by="opener", at=NOW),
            lambda: handed.handed_over(by="archivist", at=NOW, record=record),
        ):
            with pytest.raises(DomainError) as archived:
                change()
            assert reason(archived) == "DOSSIER_HANDED_OVER"
        # The handover record is kept with the dossier's files, each file once.
        assert [f.sha256 for f in handed.files()] == [make_document(5).files[0].sha256, "f" * 64]

    def test_an_open_dossier_is_not_handed_over(self) -> None:
        with pytest.raises(DomainError) as refused:
            make_dossier().ensure_closed_for_handover()
        assert reason(refused) == "DOSSIER_NOT_CLOSED"


class TestWhoMay:
    def test_keepers_archivists_and_leaders_see_it_within_their_clearance(self) -> None:
        dossier = make_dossier().with_document(make_document(1, secrecy=Clearance.CONFIDENTIAL))
        assert dossier.may_see(person(units=("VP",), clearance=Clearance.CONFIDENTIAL))
        assert dossier.may_see(person("archivist", clearance=Clearance.SECRET))
        assert dossier.may_see(person("agency_leader", clearance=Clearance.SECRET))
        assert not dossier.may_see(person("archivist"))  # not cleared for its secret document
        assert not dossier.may_see(person("clerk", units=("PTH",), clearance=Clearance.SECRET))

    def test_only_keepers_form_it_and_others_are_told_it_does_not_exist(self) -> None:
        dossier = make_dossier()
        dossier.ensure_keeper(person(units=("VP",)))
        with pytest.raises(DomainError) as archivist:
            dossier.ensure_keeper(person("archivist"))
        assert reason(archivist) == "NOT_DOSSIER_KEEPER"
        with pytest.raises(DomainError) as stranger:
            dossier.ensure_keeper(person("clerk", units=("PTH",)))
        assert reason(stranger) == "DOSSIER_NOT_FOUND"


class TestDisposal:
    def closed(self, retention: str, years: int | None, end: date) -> Dossier:
        return replace(
            make_dossier(retention=retention, retention_years=years),
            state=DossierState.CLOSED,
            end_date=end,
        )

    def test_a_permanent_dossier_is_never_disposable(self) -> None:
        permanent = self.closed("01", None, date(1990, 1, 1))
        assert permanent.disposal_blocker(TODAY) == "permanent"
        assert permanent.retention_ends is None

    def test_only_what_is_past_its_retention_and_not_held_is_disposable(self) -> None:
        past = self.closed("06", 10, date(2010, 12, 31))
        assert past.disposal_blocker(TODAY) is None
        assert past.disposal_blocker(date(2020, 12, 30)) == "retained until 2020-12-31"
        assert replace(past, legal_hold=True).disposal_blocker(TODAY) == "on legal hold"
        assert replace(past, state=DossierState.OPEN).disposal_blocker(TODAY) == "open"
        gone = replace(past, state=DossierState.DISPOSED)
        assert gone.disposal_blocker(TODAY) == "already destroyed"

    def test_years_are_added_to_the_calendar_day(self) -> None:
        assert add_years(date(2024, 2, 29), 10) == date(2034, 2, 28)
        assert add_years(date(2010, 12, 31), 5) == date(2015, 12, 31)


class TestDisposition:
    def proposal(self) -> Disposition:
        dossier = replace(make_dossier(), state=DossierState.CLOSED, end_date=date(2010, 1, 1))
        return Disposition(
            id="d",
            reason="Hết thời hạn bảo quản",
            proposed_by="archivist",
            proposed_at=NOW,
            items=(DispositionItem.of(dossier),),
        )

    def test_nothing_is_executed_without_the_leaders_approval(self) -> None:
        record = DossierFile("e" * 64, 1, "application/pdf", "bien-ban-huy.pdf")
        with pytest.raises(DomainError) as early:
            self.proposal().executed(by="archivist", at=NOW, record=record)
        assert reason(early) == "DISPOSITION_NOT_APPROVED"
        refused = self.proposal().decided(approve=False, by="leader", at=NOW, note="Chưa đủ")
        with pytest.raises(DomainError) as after_refusal:
            refused.executed(by="archivist", at=NOW, record=record)
        assert reason(after_refusal) == "DISPOSITION_NOT_APPROVED"
        approved = self.proposal().decided(approve=True, by="leader", at=NOW, note="")
        done = approved.executed(by="archivist", at=NOW, record=record)
        assert done.state is DispositionState.EXECUTED and done.record == record

    def test_a_refusal_says_why_and_a_decision_is_made_once(self) -> None:
        with pytest.raises(DomainError) as silent:
            self.proposal().decided(approve=False, by="leader", at=NOW, note="  ")
        assert silent.value.reason == "INVALID_ARGUMENT"
        approved = self.proposal().decided(approve=True, by="leader", at=NOW, note="")
        with pytest.raises(DomainError) as twice:
            approved.decided(approve=False, by="leader", at=NOW, note="Đổi ý")
        assert reason(twice) == "DISPOSITION_NOT_PROPOSED"


def test_the_lock_policy_is_compliance_unless_named_and_permanent_is_far() -> None:
    policy = LockPolicy(modes={"07": "GOVERNANCE"}, permanent_until=date(9999, 12, 31))
    assert policy.mode("06") == "COMPLIANCE" and policy.mode("07") == "GOVERNANCE"
    ten = replace(make_dossier(), end_date=date(2026, 1, 31))
    assert policy.until(ten) == datetime(2036, 1, 31, tzinfo=UTC)
    permanent = replace(ten, retention="01", retention_years=None)
    assert policy.until(permanent) == datetime(9999, 12, 31, tzinfo=UTC)


def test_a_file_goes_only_when_every_known_holder_goes_and_nothing_keeps_it() -> None:
    free = Keeping(size=1, locked_until=None, legal_hold=False)
    leaving = {"incoming-documents/a", "dossiers/d"}
    assert deletable({"incoming-documents/a"}, leaving, free, NOW)
    # Another record still holds it; nobody is known to hold it (a lost claim): it stays.
    assert not deletable({"incoming-documents/a", "incoming-documents/b"}, leaving, free, NOW)
    assert not deletable(set(), leaving, free, NOW)
    assert not deletable({"unknown"}, leaving, free, NOW)
    # A legal hold or a lock that has not ended keeps it.
    held = Keeping(size=1, locked_until=None, legal_hold=True)
    assert not deletable({"incoming-documents/a"}, leaving, held, NOW)
    locked = Keeping(size=1, locked_until=datetime(2030, 1, 1, tzinfo=UTC), legal_hold=False)
    assert not deletable({"incoming-documents/a"}, leaving, locked, NOW)
    ended = Keeping(size=1, locked_until=datetime(2020, 1, 1, tzinfo=UTC), legal_hold=False)
    assert deletable({"incoming-documents/a"}, leaving, ended, NOW)


def test_a_retention_ends_at_the_start_of_its_day_in_the_agencys_calendar() -> None:
    vietnam = ZoneInfo("Asia/Ho_Chi_Minh")
    policy = LockPolicy(modes={}, permanent_until=date(9999, 12, 31), timezone=vietnam)
    dossier = replace(make_dossier(), end_date=date(2010, 12, 31))
    # 2020-12-31 00:00 in Vietnam is 17:00 UTC the day before: the day it becomes disposable
    # there, its lock has ended.
    assert policy.until(dossier) == datetime(2020, 12, 30, 17, 0, tzinfo=UTC)


def test_a_handover_takes_the_documents_as_they_finally_are() -> None:
    dossier = make_dossier().with_document(make_document(1)).with_document(make_document(2))
    signed = replace(
        make_document(2, page_amount=3),
        files=(DossierFile("a" * 64, 20, "application/pdf", "signed.pdf"),),
    )
    final = dossier.with_snapshots((make_document(1), signed))
    assert final.page_total == 5 and final.files()[-1].sha256 == "a" * 64
    with pytest.raises(ValueError):
        dossier.with_snapshots((signed, make_document(1)))
