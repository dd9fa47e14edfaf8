"""Work dossiers (hồ sơ công việc, ADR 0010 §8): a handler groups the documents and tasks of one
matter while handling it. A dossier is its owner's: they open it, add and remove items, close it;
the agency's leaders may read every dossier. An item is added only if its owner may open it (the
registry decides for documents, the task's rules for tasks), and a reader sees an item's reference
only, never the document itself: opening it asks the registry again."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from vanban.platform.clearance import Secrecy
from vanban.platform.errors import (
    FailedPreconditionError,
    NotFoundError,
    ResourceExhaustedError,
    invalid_fields,
)
from vanban.platform.ports import TransactionPort
from vanban.workflow.domain.ports import Acting
from vanban.workflow.domain.service import LEADER_ROLES
from vanban.workflow.domain.values import CONTROL_RE, id_or_not_found

TITLE_MAX = 300
DESCRIPTION_MAX = 2000
NOTE_MAX = 500
ITEMS_MAX = 500
OPEN_PER_PERSON_MAX = 1000


class ItemKind(enum.Enum):
    INCOMING = "incoming"  # văn bản đến
    OUTGOING = "outgoing"  # văn bản đi (a draft or issued)
    TASK = "task"


@dataclass(frozen=True, slots=True)
class Item:
    kind: ItemKind
    ref_id: str
    note: str
    added_by: str
    added_at: datetime
    # The document's secrecy when it was added: a leader reading another's dossier sees only the
    # items within their clearance.
    secrecy: Secrecy = Secrecy.TOP_SECRET


@dataclass(frozen=True, slots=True)
class WorkDossier:
    id: str
    title: str
    description: str
    owner: str
    created_at: datetime
    closed_at: datetime | None = None
    items: tuple[Item, ...] = ()

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class DossierRepository(Protocol):
    async def add(self, dossier: WorkDossier) -> None: ...

    async def get(self, dossier_id: str, *, lock: bool) -> WorkDossier | None:
        """With its items, oldest first."""

    async def open_count(self, owner: str) -> int: ...

    async def of_owner(
        self, owner: str, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[WorkDossier]:
        """Newest first, without their items."""

    async def add_item(self, dossier_id: str, item: Item) -> bool:
        """False when the dossier holds it already."""

    async def remove_item(self, dossier_id: str, kind: ItemKind, ref_id: str) -> bool: ...

    async def close(self, dossier_id: str, at: datetime) -> None: ...


class DossierTransaction(TransactionPort, Protocol):
    @property
    def dossiers(self) -> DossierRepository: ...


class ItemAccess(Protocol):
    async def secrecy_if_open(self, kind: ItemKind, ref_id: str) -> Secrecy | None:
        """The document's (or the task's document's) secrecy if the caller may open it (asked
        as the caller); None if they may not."""


def _text(value: str, field: str, maximum: int, *, required: bool) -> str:
    clean = value.strip()
    if (required and not clean) or len(clean) > maximum or CONTROL_RE.search(clean):
        raise invalid_fields(
            {field: f"{'required, ' if required else ''}at most {maximum} characters"},
            reason="INVALID_WORK_DOSSIER",
        )
    return clean


async def open_dossier(
    *, tx: DossierTransaction, actor: Acting, title: str, description: str, now: datetime
) -> WorkDossier:
    dossier = WorkDossier(
        id=str(uuid.uuid4()),
        title=_text(title, "title", TITLE_MAX, required=True),
        description=_text(description, "description", DESCRIPTION_MAX, required=False),
        owner=actor.subject,
        created_at=now,
    )
    if await tx.dossiers.open_count(actor.subject) >= OPEN_PER_PERSON_MAX:
        raise ResourceExhaustedError(
            f"at most {OPEN_PER_PERSON_MAX} open work dossiers: close some first",
            reason="TOO_MANY_DOSSIERS",
        )
    await tx.dossiers.add(dossier)
    tx.audit(
        action="work_dossier.open",
        resource=f"work-dossiers/{dossier.id}",
        after={"title": dossier.title},
    )
    await tx.commit()
    return dossier


async def read_dossier(*, tx: DossierTransaction, actor: Acting, dossier_id: str) -> WorkDossier:
    """The dossier with its items, for its owner and the agency's leaders."""
    dossier = await tx.dossiers.get(
        id_or_not_found(dossier_id, reason="WORK_DOSSIER_NOT_FOUND", what="work dossier"),
        lock=False,
    )
    if dossier is None or (dossier.owner != actor.subject and not actor.roles & LEADER_ROLES):
        raise NotFoundError("no work dossier with this id", reason="WORK_DOSSIER_NOT_FOUND")
    if dossier.owner == actor.subject:
        return dossier
    # A leader reads the items within their clearance, not the others' references or notes.
    return replace(
        dossier, items=tuple(i for i in dossier.items if actor.clearance.covers(i.secrecy))
    )


async def _own(tx: DossierTransaction, actor: Acting, dossier_id: str) -> WorkDossier:
    dossier = await tx.dossiers.get(
        id_or_not_found(dossier_id, reason="WORK_DOSSIER_NOT_FOUND", what="work dossier"), lock=True
    )
    if dossier is None or dossier.owner != actor.subject:
        raise NotFoundError(
            "no work dossier of yours with this id", reason="WORK_DOSSIER_NOT_FOUND"
        )
    if dossier.closed:
        raise FailedPreconditionError("the work dossier is closed", reason="WORK_DOSSIER_CLOSED")
    return dossier


async def add_item(
    *,
    tx: DossierTransaction,
    access: ItemAccess,
    actor: Acting,
    dossier_id: str,
    kind: str,
    ref_id: str,
    note: str,
    now: datetime,
) -> WorkDossier:
    """Adds a document or a task the owner may open; the same one twice is refused."""
    try:
        item_kind = ItemKind(kind)
    except ValueError:
        raise invalid_fields(
            {"kind": "one of incoming, outgoing, task"}, reason="INVALID_WORK_DOSSIER"
        ) from None
    note = _text(note, "note", NOTE_MAX, required=False)
    ref = id_or_not_found(ref_id, reason="ITEM_NOT_FOUND", what=item_kind.value)
    # Whether the owner may open it is asked before anything is locked.
    secrecy = await access.secrecy_if_open(item_kind, ref)
    if secrecy is None:
        raise NotFoundError(
            f"no {item_kind.value} you may open with this id", reason="ITEM_NOT_FOUND"
        )
    dossier = await _own(tx, actor, dossier_id)
    if len(dossier.items) >= ITEMS_MAX:
        raise ResourceExhaustedError(
            f"a work dossier holds at most {ITEMS_MAX} items", reason="TOO_MANY_ITEMS"
        )
    item = Item(
        kind=item_kind,
        ref_id=ref,
        note=note,
        added_by=actor.subject,
        added_at=now,
        secrecy=secrecy,
    )
    if not await tx.dossiers.add_item(dossier.id, item):
        raise FailedPreconditionError(
            "the work dossier holds it already", reason="ITEM_ALREADY_IN_DOSSIER"
        )
    tx.audit(
        action="work_dossier.add",
        resource=f"work-dossiers/{dossier.id}",
        after={"kind": item_kind.value, "ref_id": ref},
    )
    await tx.commit()
    return replace(dossier, items=(*dossier.items, item))


async def remove_item(
    *, tx: DossierTransaction, actor: Acting, dossier_id: str, kind: str, ref_id: str
) -> None:
    dossier = await _own(tx, actor, dossier_id)
    try:
        item_kind = ItemKind(kind)
    except ValueError:
        raise NotFoundError("the dossier holds no such item", reason="ITEM_NOT_FOUND") from None
    if not await tx.dossiers.remove_item(dossier.id, item_kind, ref_id):
        raise NotFoundError("the dossier holds no such item", reason="ITEM_NOT_FOUND")
    tx.audit(
        action="work_dossier.remove",
        resource=f"work-dossiers/{dossier.id}",
        before={"kind": item_kind.value, "ref_id": ref_id},
    )
    await tx.commit()


async def close_dossier(
    *, tx: DossierTransaction, actor: Acting, dossier_id: str, now: datetime
) -> WorkDossier:
    """Closes the dossier: the matter is done; it keeps its items and changes no more."""
    dossier = await _own(tx, actor, dossier_id)
    await tx.dossiers.close(dossier.id, now)
    tx.audit(action="work_dossier.close", resource=f"work-dossiers/{dossier.id}")
    await tx.commit()
    return replace(dossier, closed_at=now)


async def my_dossiers(
    *, tx: DossierTransaction, actor: Acting, after: tuple[datetime, str] | None, size: int
) -> Sequence[WorkDossier]:
    return await tx.dossiers.of_owner(actor.subject, after=after, limit=size)
