"""Work dossiers' rules (fakes only): what an owner may add, and what a leader reading another's
dossier sees."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from vanban.platform.caller import Caller
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import FailedPreconditionError, NotFoundError
from vanban.platform.fakes import RecordingTransaction
from vanban.workflow.domain.dossiers import (
    Item,
    ItemKind,
    WorkDossier,
    add_item,
    close_dossier,
    open_dossier,
    read_dossier,
)

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@dataclass
class Dossiers:
    rows: dict[str, WorkDossier] = field(default_factory=dict)

    async def add(self, dossier: WorkDossier) -> None:
        self.rows[dossier.id] = dossier

    async def get(self, dossier_id: str, *, lock: bool) -> WorkDossier | None:
        return self.rows.get(dossier_id)

    async def open_count(self, owner: str) -> int:
        return sum(1 for d in self.rows.values() if d.owner == owner and not d.closed)

    async def of_owner(
        self, owner: str, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[WorkDossier]:
        return [d for d in self.rows.values() if d.owner == owner][:limit]

    async def add_item(self, dossier_id: str, item: Item) -> bool:
        dossier = self.rows[dossier_id]
        if any((i.kind, i.ref_id) == (item.kind, item.ref_id) for i in dossier.items):
            return False
        self.rows[dossier_id] = replace(dossier, items=(*dossier.items, item))
        return True

    async def remove_item(self, dossier_id: str, kind: ItemKind, ref_id: str) -> bool:
        return False

    async def close(self, dossier_id: str, at: datetime) -> None:
        self.rows[dossier_id] = replace(self.rows[dossier_id], closed_at=at)


@dataclass
class Tx(RecordingTransaction):
    dossiers: Dossiers = field(default_factory=Dossiers)


@dataclass
class Access:
    """What the owner may open, with its secrecy."""

    open: dict[str, Secrecy] = field(default_factory=dict)

    async def secrecy_if_open(self, kind: ItemKind, ref_id: str) -> Secrecy | None:
        return self.open.get(ref_id)


def person(subject: str, *roles: str, clearance: Clearance = Clearance.NONE) -> Caller:
    return Caller(
        agency_code="000.00.00.H99", subject=subject, roles=frozenset(roles), clearance=clearance
    )


async def test_a_leader_reads_another_dossiers_items_within_their_clearance_only() -> None:
    tx = Tx()
    owner = person("cv", "specialist", clearance=Clearance.SECRET)
    plain, secret = str(uuid.uuid4()), str(uuid.uuid4())
    access = Access({plain: Secrecy.NONE, secret: Secrecy.SECRET})
    dossier = await open_dossier(tx=tx, actor=owner, title="Kế hoạch", description="", now=NOW)
    for ref in (plain, secret):
        await add_item(
            tx=tx, access=access, actor=owner, dossier_id=dossier.id, kind="incoming",
            ref_id=ref, note=f"ghi chú {ref}", now=NOW,
        )  # fmt: skip

    mine = await read_dossier(tx=tx, actor=owner, dossier_id=dossier.id)
    assert [i.ref_id for i in mine.items] == [plain, secret]
    leader = person("ld", "agency_leader", clearance=Clearance.CONFIDENTIAL)
    theirs = await read_dossier(tx=tx, actor=leader, dossier_id=dossier.id)
    assert [i.ref_id for i in theirs.items] == [plain]
    with pytest.raises(NotFoundError):
        await read_dossier(tx=tx, actor=person("other", "specialist"), dossier_id=dossier.id)


async def test_only_what_the_owner_may_open_goes_in_and_a_closed_dossier_changes_no_more() -> None:
    tx = Tx()
    owner = person("cv", "specialist")
    dossier = await open_dossier(tx=tx, actor=owner, title="Hồ sơ", description="", now=NOW)
    with pytest.raises(NotFoundError) as refused:
        await add_item(
            tx=tx, access=Access(), actor=owner, dossier_id=dossier.id, kind="task",
            ref_id=str(uuid.uuid4()), note="", now=NOW,
        )  # fmt: skip
    assert refused.value.reason == "ITEM_NOT_FOUND" and tx.commits == 1  # the opening only
    await close_dossier(tx=tx, actor=owner, dossier_id=dossier.id, now=NOW)
    known = str(uuid.uuid4())
    with pytest.raises(FailedPreconditionError) as closed:
        await add_item(
            tx=tx, access=Access({known: Secrecy.NONE}), actor=owner, dossier_id=dossier.id,
            kind="task", ref_id=known, note="", now=NOW,
        )  # fmt: skip
    assert closed.value.reason == "WORK_DOSSIER_CLOSED"
