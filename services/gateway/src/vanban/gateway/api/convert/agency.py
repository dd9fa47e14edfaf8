"""The agency profile between the REST API and the directory contract."""

from __future__ import annotations

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.convert.common import field_mask, from_message, image_out
from vanban.gateway.api.schemas.agency import AgencyOut, AgencyPatch


def agency_out(agency: pb.Agency) -> AgencyOut:
    return from_message(AgencyOut, agency, seal_image=image_out(agency, "seal_image"))


def agency_update(body: AgencyPatch) -> pb.UpdateAgencyRequest:
    changes = body.model_dump(exclude_unset=True)
    return pb.UpdateAgencyRequest(
        agency=pb.Agency(**{name: value or "" for name, value in changes.items()}),
        update_mask=field_mask(set(changes)),
    )
