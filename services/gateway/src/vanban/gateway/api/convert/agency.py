"""The agency profile between the REST API and the directory contract."""

from __future__ import annotations

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.convert.common import field_mask, from_message, image_out
from vanban.gateway.api.schemas.agency import AgencyOut, AgencyPatch


def agency_out(agency: pb.Agency) -> AgencyOut:
    return from_message(
        AgencyOut,
        agency,
        seal_image=image_out(agency.seal_image if agency.HasField("seal_image") else None),
    )


def agency_update(body: AgencyPatch) -> pb.UpdateAgencyRequest:
    agency = pb.Agency(
        name=body.name or "",
        abbreviation=body.abbreviation or "",
        address=body.address or "",
        phone=body.phone or "",
        email=body.email or "",
        website=body.website or "",
    )
    return pb.UpdateAgencyRequest(agency=agency, update_mask=field_mask(set(body.model_fields_set)))
