"""Proto <-> domain conversion for the directory contracts."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.directory.domain.delegation import Delegation, DelegationDraft
from vanban.directory.domain.model import (
    Agency,
    AgencyChanges,
    ImageRef,
    Person,
    PersonChanges,
    PersonDraft,
    Role,
)
from vanban.directory.domain.unit import Unit, UnitChanges
from vanban.platform.clearance import Clearance
from vanban.platform.convert import CLEARANCE_TO_PB, optional_datetime, to_timestamp
from vanban.platform.convert import clearance_from_pb as known_clearance
from vanban.platform.errors import invalid_fields

AGENCY_FIELDS = ("code", "name", "abbreviation", "address", "phone", "email", "website")
UNIT_FIELDS = ("name", "abbreviation", "parent_code", "head_person_id", "deputy_person_ids")
PERSON_FIELDS = (
    "username",
    "full_name",
    "position_title",
    "roles",
    "unit_codes",
    "clearance",
    "email",
    "external_subject",
    "active",
)

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


def roles_from_pb(values: Iterable[pb.Role.ValueType]) -> frozenset[Role]:
    try:
        return frozenset(ROLE_FROM_PB[value] for value in values)
    except KeyError:
        raise invalid_fields({"roles": "holds an unknown role"}, reason="INVALID_ROLE") from None


def clearance_from_pb(value: int) -> Clearance:
    clearance = known_clearance(value)
    if clearance is None:
        raise invalid_fields({"clearance": "unknown clearance"}, reason="INVALID_CLEARANCE")
    return clearance


def role_filter(value: pb.Role.ValueType) -> Role | None:
    if value == pb.ROLE_UNSPECIFIED:
        return None
    try:
        return ROLE_FROM_PB[value]
    except KeyError:
        raise invalid_fields({"role": "unknown role"}, reason="INVALID_ROLE") from None


def mask_paths(
    mask: FieldMask, allowed: Collection[str], *, default: Collection[str] | None = None
) -> set[str]:
    """The fields an update touches: those in the mask, or when it is empty `default` (all
    the allowed ones unless given)."""
    paths = set(mask.paths) or set(allowed if default is None else default)
    unknown = sorted(paths - set(allowed))
    if unknown:
        raise invalid_fields(
            {"update_mask": f"cannot change {', '.join(unknown)}"}, reason="INVALID_UPDATE_MASK"
        )
    return paths


def image_to_pb(image: ImageRef | None) -> pb.ImageRef | None:
    return pb.ImageRef(sha256=image.sha256, size=image.size) if image else None


def agency_to_pb(agency: Agency) -> pb.Agency:
    return pb.Agency(
        code=agency.code,
        name=agency.name,
        abbreviation=agency.abbreviation,
        address=agency.address,
        phone=agency.phone,
        email=agency.email,
        website=agency.website,
        seal_image=image_to_pb(agency.seal_image),
    )


def agency_changes(agency: pb.Agency, mask: FieldMask) -> AgencyChanges:
    paths = mask_paths(mask, AGENCY_FIELDS)
    return AgencyChanges(**{name: getattr(agency, name) for name in paths})


def unit_to_pb(unit: Unit) -> pb.Unit:
    return pb.Unit(
        code=unit.code,
        name=unit.name,
        abbreviation=unit.abbreviation,
        parent_code=unit.parent_code or "",
        head_person_id=unit.head_person_id or "",
        deputy_person_ids=list(unit.deputy_person_ids),
    )


def unit_from_pb(unit: pb.Unit) -> Unit:
    return Unit(
        code=unit.code,
        name=unit.name,
        abbreviation=unit.abbreviation,
        parent_code=unit.parent_code or None,
        head_person_id=unit.head_person_id or None,
        deputy_person_ids=tuple(unit.deputy_person_ids),
    )


def unit_changes(unit: pb.Unit, mask: FieldMask) -> UnitChanges:
    paths = mask_paths(mask, UNIT_FIELDS)
    values: dict[str, Any] = {name: getattr(unit, name) for name in paths}
    if "deputy_person_ids" in values:
        values["deputy_person_ids"] = tuple(unit.deputy_person_ids)
    return UnitChanges(**values)


def person_to_pb(person: Person, *, private: bool) -> pb.Person:
    """The person as the caller may see them: `private` (decided by
    `access.sees_private_details`) includes clearance, e-mail, OIDC subject and password state."""
    message = pb.Person(
        id=person.id,
        username=person.username,
        full_name=person.full_name,
        position_title=person.position_title,
        # A stable order, so equal people serialise equally.
        roles=sorted(ROLE_TO_PB[role] for role in person.roles),
        unit_codes=list(person.unit_codes),
        active=person.active,
        signature_image=image_to_pb(person.signature_image),
        session_version=person.session_version,
        redacted=not private,
    )
    if private:
        message.clearance = CLEARANCE_TO_PB[person.clearance]
        message.external_subject = person.external_subject or ""
        message.email = person.email or ""
        message.password_must_change = person.password_must_change
    return message


def person_draft(person: pb.Person) -> PersonDraft:
    return PersonDraft(
        username=person.username,
        full_name=person.full_name,
        position_title=person.position_title,
        roles=roles_from_pb(person.roles),
        unit_codes=tuple(person.unit_codes),
        clearance=clearance_from_pb(person.clearance),
        email=person.email or None,
        external_subject=person.external_subject or None,
    )


def person_changes(person: pb.Person, mask: FieldMask) -> PersonChanges:
    # A whole-person replacement never deactivates by omission: `active` must be named.
    paths = mask_paths(mask, PERSON_FIELDS, default=PERSON_FIELDS[:-1])
    values: dict[str, Any] = {
        name: getattr(person, name)
        for name in paths
        if name not in ("roles", "unit_codes", "clearance")
    }
    if "roles" in paths:
        values["roles"] = roles_from_pb(person.roles)
    if "unit_codes" in paths:
        values["unit_codes"] = tuple(person.unit_codes)
    if "clearance" in paths:
        values["clearance"] = clearance_from_pb(person.clearance)
    return PersonChanges(**values)


def delegation_to_pb(delegation: Delegation, *, reasons: bool) -> pb.Delegation:
    """The delegation as the caller may see it: `reasons` (decided by
    `access.sees_delegation_reasons`) includes why it was made and revoked."""
    message = pb.Delegation(
        id=delegation.id,
        from_person_id=delegation.from_person_id,
        to_person_id=delegation.to_person_id,
        scope=sorted(delegation.scope),
        starts_at=to_timestamp(delegation.starts_at),
        ends_at=to_timestamp(delegation.ends_at),
        reason=delegation.reason if reasons else "",
        created_at=to_timestamp(delegation.created_at),
        created_by=delegation.created_by,
        revoked_by=delegation.revoked_by or "",
        revoke_reason=(delegation.revoke_reason or "") if reasons else "",
        redacted=not reasons,
    )
    if delegation.revoked_at is not None:
        message.revoked_at.CopyFrom(to_timestamp(delegation.revoked_at))
    return message


def delegation_draft(delegation: pb.Delegation) -> DelegationDraft:
    return DelegationDraft(
        from_person_id=delegation.from_person_id,
        to_person_id=delegation.to_person_id,
        scope=tuple(delegation.scope),
        starts_at=optional_datetime(delegation, "starts_at"),
        ends_at=optional_datetime(delegation, "ends_at"),
        reason=delegation.reason,
    )
