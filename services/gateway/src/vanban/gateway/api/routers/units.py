"""The units tree (đơn vị) of the agency.

Handlers only translate REST to directory RPCs and back; the directory authorises
(administrators manage) and decides.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, status

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.convert.units import new_unit, unit_out, unit_tree, unit_update
from vanban.gateway.api.deps import Directory, DirectoryManager, DirectoryReader
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.units import UnitIn, UnitList, UnitOut, UnitPatch

router = APIRouter(prefix="/v1/units", tags=["administration"])

UnitCodePath = Annotated[str, Path(min_length=1, max_length=32, description="e.g. VP")]

READ = (*SCOPED, *UPSTREAM, "AGENCY_NOT_CONFIGURED")
MANAGE = (*READ, "ROLE_REQUIRED")
_NEW_UNIT = {
    "department": {
        "summary": "A department under the office",
        "value": {"code": "PTC", "name": "Phòng Tài chính - Kế hoạch", "parent_code": "VP"},
    }
}
_PATCH = {
    "rename": {"summary": "Rename a unit", "value": {"name": "Phòng Kế hoạch - Tài chính"}},
    "move": {"summary": "Move a unit under the office", "value": {"parent_code": "VP"}},
}


@router.get("", response_model=UnitList, operation_id="listUnits", responses=answers(*READ))
async def list_units(principal: DirectoryReader, directory: Directory) -> UnitList:
    """The units tree (đơn vị) as a list: each unit before its children, with its depth."""
    answer = await directory.stub.ListUnits(
        pb.ListUnitsRequest(), metadata=principal.metadata, timeout=directory.timeout
    )
    return unit_tree(list(answer.units))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UnitOut,
    operation_id="createUnit",
    responses=answers(
        *MANAGE,
        *BODY,
        "UNIT_EXISTS",
        "INVALID_UNIT",
        "INVALID_UNIT_CODE",
        "UNKNOWN_UNIT",
        "UNKNOWN_PERSON",
    ),
)
async def create_unit(
    response: Response,
    principal: DirectoryManager,
    body: Annotated[UnitIn, Body(openapi_examples=_NEW_UNIT)],
    directory: Directory,
) -> UnitOut:
    answer = await directory.stub.CreateUnit(
        pb.CreateUnitRequest(unit=new_unit(body)),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    response.headers["Location"] = f"/v1/units/{answer.unit.code}"
    return unit_out(answer.unit)


@router.get(
    "/{code}",
    response_model=UnitOut,
    operation_id="getUnit",
    responses=answers(*READ, *PARAMETERS, "UNIT_NOT_FOUND"),
)
async def get_unit(principal: DirectoryReader, code: UnitCodePath, directory: Directory) -> UnitOut:
    answer = await directory.stub.GetUnit(
        pb.GetUnitRequest(code=code), metadata=principal.metadata, timeout=directory.timeout
    )
    return unit_out(answer.unit)


@router.patch(
    "/{code}",
    response_model=UnitOut,
    operation_id="updateUnit",
    responses=answers(
        *MANAGE,
        *BODY,
        "UNIT_NOT_FOUND",
        "UNIT_CYCLE",
        "INVALID_UNIT",
        "UNKNOWN_UNIT",
        "UNKNOWN_PERSON",
    ),
)
async def update_unit(
    principal: DirectoryManager,
    code: UnitCodePath,
    body: Annotated[UnitPatch, Body(openapi_examples=_PATCH)],
    directory: Directory,
) -> UnitOut:
    """Renames, re-heads or moves a unit; a move under itself or its own descendant is
    refused (400 `UNIT_CYCLE`)."""
    answer = await directory.stub.UpdateUnit(
        unit_update(code, body), metadata=principal.metadata, timeout=directory.timeout
    )
    return unit_out(answer.unit)


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="deleteUnit",
    responses=answers(*MANAGE, *PARAMETERS, "UNIT_NOT_FOUND", "UNIT_NOT_EMPTY"),
)
async def delete_unit(
    principal: DirectoryManager, code: UnitCodePath, directory: Directory
) -> Response:
    """Removes an empty unit; one with members or child units is refused, naming them."""
    await directory.stub.DeleteUnit(
        pb.DeleteUnitRequest(code=code), metadata=principal.metadata, timeout=directory.timeout
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
