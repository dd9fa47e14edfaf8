"""Units (đơn vị) between the REST API and the directory contract."""

from __future__ import annotations

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.convert.common import field_mask
from vanban.gateway.api.schemas.units import UnitIn, UnitList, UnitOut, UnitPatch, UnitTreeItem


def unit_out(unit: pb.Unit) -> UnitOut:
    return UnitOut(
        code=unit.code,
        name=unit.name,
        abbreviation=unit.abbreviation,
        parent_code=unit.parent_code or None,
        head_person_id=unit.head_person_id or None,
        deputy_person_ids=list(unit.deputy_person_ids),
    )


def unit_tree(units: list[pb.Unit]) -> UnitList:
    """The units as the directory lists them, parents first, each with its depth."""
    depth: dict[str, int] = {}
    items = []
    for unit in units:
        # The directory lists parents first; a parent it did not list makes a root.
        depth[unit.code] = depth[unit.parent_code] + 1 if unit.parent_code in depth else 0
        items.append(UnitTreeItem(**unit_out(unit).model_dump(), depth=depth[unit.code]))
    return UnitList(items=items)


def new_unit(body: UnitIn) -> pb.Unit:
    return pb.Unit(
        code=body.code,
        name=body.name,
        abbreviation=body.abbreviation,
        parent_code=body.parent_code or "",
        head_person_id=str(body.head_person_id) if body.head_person_id else "",
        deputy_person_ids=[str(p) for p in body.deputy_person_ids],
    )


def unit_update(code: str, body: UnitPatch) -> pb.UpdateUnitRequest:
    unit = pb.Unit(
        code=code,
        name=body.name or "",
        abbreviation=body.abbreviation or "",
        parent_code=body.parent_code or "",
        head_person_id=str(body.head_person_id) if body.head_person_id else "",
        deputy_person_ids=[str(p) for p in body.deputy_person_ids or ()],
    )
    return pb.UpdateUnitRequest(unit=unit, update_mask=field_mask(set(body.model_fields_set)))
