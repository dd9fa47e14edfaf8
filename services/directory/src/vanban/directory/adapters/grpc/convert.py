"""Proto <-> domain conversion for the directory contracts."""

from __future__ import annotations

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.directory.domain.model import Agency, Clearance, Person, Role
from vanban.platform.errors import invalid_fields

ROLE_TO_PB = {
    Role.CLERK: pb.ROLE_CLERK,
    Role.SPECIALIST: pb.ROLE_SPECIALIST,
    Role.UNIT_HEAD: pb.ROLE_UNIT_HEAD,
    Role.DEPUTY_UNIT_HEAD: pb.ROLE_DEPUTY_UNIT_HEAD,
    Role.AGENCY_LEADER: pb.ROLE_AGENCY_LEADER,
    Role.DEPUTY_AGENCY_LEADER: pb.ROLE_DEPUTY_AGENCY_LEADER,
    Role.ARCHIVIST: pb.ROLE_ARCHIVIST,
    Role.ADMIN: pb.ROLE_ADMIN,
}
ROLE_FROM_PB = {v: k for k, v in ROLE_TO_PB.items()}
CLEARANCE_TO_PB = {
    Clearance.NONE: pb.CLEARANCE_NONE,
    Clearance.CONFIDENTIAL: pb.CLEARANCE_CONFIDENTIAL,
    Clearance.SECRET: pb.CLEARANCE_SECRET,
    Clearance.TOP_SECRET: pb.CLEARANCE_TOP_SECRET,
}


def role_filter(value: int) -> Role | None:
    if value == pb.ROLE_UNSPECIFIED:
        return None
    try:
        return ROLE_FROM_PB[value]  # type: ignore[index]
    except KeyError:
        raise invalid_fields({"role": "unknown role"}, reason="INVALID_ROLE") from None


def agency_to_pb(agency: Agency) -> pb.Agency:
    return pb.Agency(code=agency.code, name=agency.name, abbreviation=agency.abbreviation)


def person_to_pb(person: Person) -> pb.Person:
    return pb.Person(
        id=person.id,
        username=person.username,
        full_name=person.full_name,
        position_title=person.position_title,
        # A stable order, so equal people serialise equally.
        roles=sorted(ROLE_TO_PB[role] for role in person.roles),
        unit_codes=list(person.unit_codes),
        clearance=CLEARANCE_TO_PB[person.clearance],
        active=person.active,
    )
