"""The agency's profile (cơ quan) and its seal.

Handlers only translate REST to directory RPCs and back: the directory checks, authorises
(administrators) and decides, from the caller token each call carries. API keys are for agency
systems and reach none of these routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.admission import IMAGE_MAX_BYTES
from vanban.gateway.api.convert.agency import agency_out, agency_update
from vanban.gateway.api.deps import Directory, DirectoryManager, DirectoryReader
from vanban.gateway.api.openapi import BODY, FILE, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.agency import AgencyOut, AgencyPatch
from vanban.gateway.api.upload import file_body, read_file

router = APIRouter(prefix="/v1/agency", tags=["administration"])

READ = (*SCOPED, *UPSTREAM, "AGENCY_NOT_CONFIGURED")
MANAGE = (*READ, "ROLE_REQUIRED")
_PATCH = {
    "contacts": {
        "summary": "New address and phone",
        "value": {"address": "Số 1 Trần Phú, thành phố Hà Tĩnh", "phone": "0239 3855 555"},
    }
}


@router.get("", response_model=AgencyOut, operation_id="getAgency", responses=answers(*READ))
async def get_agency(principal: DirectoryReader, directory: Directory) -> AgencyOut:
    """The agency's profile (cơ quan): name, mã định danh, abbreviation, address, contacts."""
    answer = await directory.stub.GetAgency(
        pb.GetAgencyRequest(), metadata=principal.metadata, timeout=directory.timeout
    )
    return agency_out(answer.agency)


@router.patch(
    "",
    response_model=AgencyOut,
    operation_id="updateAgency",
    responses=answers(*MANAGE, *BODY, "INVALID_AGENCY", "CODE_IMMUTABLE", "INVALID_UPDATE_MASK"),
)
async def update_agency(
    principal: DirectoryManager,
    body: Annotated[AgencyPatch, Body(openapi_examples=_PATCH)],
    directory: Directory,
) -> AgencyOut:
    """Changes the fields sent (administrators); the code (mã định danh) never changes."""
    answer = await directory.stub.UpdateAgency(
        agency_update(body), metadata=principal.metadata, timeout=directory.timeout
    )
    return agency_out(answer.agency)


@router.put(
    "/seal-image",
    response_model=AgencyOut,
    operation_id="setAgencySealImage",
    openapi_extra=file_body(
        "The seal (con dấu): red, transparent PNG of at most 1 MiB",
        example="(the PNG image of the seal)",
    ),
    responses=answers(*MANAGE, *FILE, "INVALID_IMAGE", "ARCHIVE_UNAVAILABLE"),
)
async def set_seal_image(
    request: Request, principal: DirectoryManager, directory: Directory
) -> AgencyOut:
    """Stores the agency's seal image in the archive (administrators)."""
    png, _ = await read_file(request, max_bytes=IMAGE_MAX_BYTES)
    answer = await directory.stub.SetSealImage(
        pb.SetSealImageRequest(png=png), metadata=principal.metadata, timeout=directory.timeout
    )
    return agency_out(answer.agency)
