"""The signed-in person between the REST API, their caller and the directory contract."""

from __future__ import annotations

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.api.schemas.me import DelegationOut, MeOut
from vanban.platform.caller import Caller


def me_out(caller: Caller, person: directory_pb2.Person) -> MeOut:
    return MeOut(
        id=person.id,
        username=person.username,
        full_name=person.full_name,
        position_title=person.position_title,
        agency_code=caller.agency_code,
        roles=sorted(caller.roles),
        units=list(caller.units),
        clearance=caller.clearance,
        password_must_change=person.password_must_change,
        acting_for=[
            DelegationOut(
                id=d.id,
                from_person_id=d.delegator_id,
                scope=sorted(d.scopes),
                starts_at=d.valid_from,
                ends_at=d.valid_until,
            )
            for d in caller.delegations
        ],
    )
