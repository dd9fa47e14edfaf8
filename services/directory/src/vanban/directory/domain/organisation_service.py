"""Use cases of the organisation: the agency profile and the units tree."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from vanban.directory.domain.access import require_admin
from vanban.directory.domain.events import AgencyUpdated, UnitDeleted, UnitUpserted
from vanban.directory.domain.model import Agency, AgencyChanges
from vanban.directory.domain.ports import Transaction
from vanban.directory.domain.unit import Unit, UnitChanges, ancestors, tree_order, would_cycle
from vanban.platform.caller import Caller
from vanban.platform.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    NotFoundError,
    invalid_fields,
)

# How many member names a refused deletion quotes; the count is always complete.
MEMBERS_QUOTED = 5


def agency_not_configured() -> NotFoundError:
    return NotFoundError("the directory has no agency yet", reason="AGENCY_NOT_CONFIGURED")


async def update_agency(
    *, tx: Transaction, caller: Caller, changes: AgencyChanges, now: datetime
) -> Agency:
    """Changes the agency profile; the code (mã định danh) is refused if it differs."""
    require_admin(caller)
    current = await tx.agency.get(lock=True)
    if current is None:
        raise agency_not_configured()
    updated = changes.applied_to(current)
    if updated == current:
        return current
    await tx.agency.update(updated)
    tx.record(AgencyUpdated(agency=updated, occurred_at=now))
    tx.audit(
        action="agency.update",
        resource=f"agencies/{current.code}",
        before=agency_summary(current),
        after=agency_summary(updated),
    )
    await tx.commit()
    return updated


async def get_unit(*, tx: Transaction, code: str) -> Unit:
    if not code.strip():
        raise invalid_fields({"code": "is required"}, reason="INVALID_UNIT_CODE")
    unit = await tx.units.get(code.strip())
    if unit is None:
        raise unit_not_found(code.strip())
    return unit


async def list_units(*, tx: Transaction) -> list[Unit]:
    """The whole tree: parents before their children, siblings by code."""
    return tree_order(await tx.units.list_all())


async def create_unit(*, tx: Transaction, caller: Caller, unit: Unit, now: datetime) -> Unit:
    require_admin(caller)
    clean = unit.validated()
    if clean.parent_code is not None and await tx.units.get(clean.parent_code) is None:
        raise invalid_fields(
            {"parent_code": f"there is no unit {clean.parent_code}"}, reason="UNKNOWN_UNIT"
        )
    await _check_people_named(tx, clean, already_named=())
    # A parent deleted meanwhile makes the insert fail on the foreign key, never a stray unit.
    if not await tx.units.add_if_absent(clean):
        raise AlreadyExistsError(
            f"there is already a unit {clean.code}",
            reason="UNIT_EXISTS",
            metadata={"code": clean.code},
        )
    tx.record(UnitUpserted(unit=clean, occurred_at=now))
    tx.audit(action="unit.create", resource=f"units/{clean.code}", after=unit_summary(clean))
    await tx.commit()
    return clean


async def update_unit(
    *, tx: Transaction, caller: Caller, code: str, changes: UnitChanges, now: datetime
) -> Unit:
    """Renames, re-heads or moves a unit; a move under the unit itself or one of its
    descendants is refused, since the tree would become a loop."""
    require_admin(caller)
    moving = changes.parent_code is not None
    if moving:
        # Two moves checked side by side could each be fine and together make a loop.
        await tx.units.lock_tree()
    current = await tx.units.get(code.strip(), lock=True)
    if current is None:
        raise unit_not_found(code.strip())
    updated = changes.applied_to(current)
    if updated.parent_code != current.parent_code and updated.parent_code is not None:
        units = {unit.code: unit for unit in await tx.units.list_all()}
        if updated.parent_code not in units:
            raise invalid_fields(
                {"parent_code": f"there is no unit {updated.parent_code}"}, reason="UNKNOWN_UNIT"
            )
        if would_cycle(units, code=current.code, new_parent=updated.parent_code):
            path = " > ".join(reversed(ancestors(units, updated.parent_code)))
            raise FailedPreconditionError(
                f"cannot move {current.code} under {updated.parent_code}: "
                f"{updated.parent_code} lies inside {current.code} ({path})",
                reason="UNIT_CYCLE",
                metadata={"code": current.code, "parent_code": updated.parent_code},
            )
    await _check_people_named(tx, updated, already_named=current.person_ids)
    if updated == current:
        return current
    await tx.units.update(updated)
    tx.record(UnitUpserted(unit=updated, occurred_at=now))
    tx.audit(
        action="unit.update",
        resource=f"units/{current.code}",
        before=unit_summary(current),
        after=unit_summary(updated),
    )
    await tx.commit()
    return updated


async def delete_unit(*, tx: Transaction, caller: Caller, code: str, now: datetime) -> Unit:
    """Removes an empty unit; one with members or child units is refused, naming them."""
    require_admin(caller)
    await tx.units.lock_tree()
    unit = await tx.units.get(code.strip(), lock=True)
    if unit is None:
        raise unit_not_found(code.strip())
    children = await tx.units.child_codes(unit.code)
    members = await tx.people.count_members(unit.code)
    if children or members:
        reasons = []
        if members:
            quoted = await tx.people.member_usernames(unit.code, limit=MEMBERS_QUOTED)
            more = ", ..." if members > len(quoted) else ""
            reasons.append(f"{members} member(s) ({', '.join(quoted)}{more})")
        if children:
            reasons.append(f"{len(children)} child unit(s) ({', '.join(children)})")
        raise FailedPreconditionError(
            f"unit {unit.code} cannot be deleted: it still has {' and '.join(reasons)}",
            reason="UNIT_NOT_EMPTY",
            metadata={"members": str(members), "child_units": ",".join(children)},
        )
    await tx.units.delete(unit.code)
    tx.record(UnitDeleted(unit=unit, occurred_at=now))
    tx.audit(action="unit.delete", resource=f"units/{unit.code}", before=unit_summary(unit))
    await tx.commit()
    return unit


async def _check_people_named(
    tx: Transaction, unit: Unit, *, already_named: tuple[str, ...]
) -> None:
    """A newly named head or deputy must be an active person; one named before and since
    deactivated does not block other changes to the unit."""
    new = [p for p in unit.person_ids if p not in already_named]
    if not new:
        return
    found = await tx.people.get_many(new)
    problems: dict[str, str] = {}
    if unit.head_person_id in new:
        head = found.get(unit.head_person_id)
        if head is None or not head.active:
            problems["head_person_id"] = "no active person has this id"
    missing = [
        p for p in unit.deputy_person_ids if p in new and (p not in found or not found[p].active)
    ]
    if missing:
        problems["deputy_person_ids"] = f"no active person has the id(s) {', '.join(missing)}"
    if problems:
        raise invalid_fields(problems, reason="UNKNOWN_PERSON")


def unit_not_found(code: str) -> NotFoundError:
    return NotFoundError(
        f"there is no unit {code}", reason="UNIT_NOT_FOUND", metadata={"code": code}
    )


def agency_summary(agency: Agency) -> dict[str, object]:
    return asdict(agency)


def unit_summary(unit: Unit) -> dict[str, object]:
    summary = asdict(unit)
    summary["deputy_person_ids"] = list(unit.deputy_person_ids)
    return summary
