"""People (người dùng) between the REST API and the directory contract."""

from __future__ import annotations

from pathlib import PurePosixPath

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.convert.common import enum_names, enum_values, field_mask, image_out
from vanban.gateway.api.schemas.people import (
    ImportProblemOut,
    ImportReportOut,
    PersonIn,
    PersonOut,
    PersonPatch,
)

ROLE_NAME = enum_names(pb.Role)
ROLE_TO_PB = enum_values(pb.Role)
CLEARANCE_NAME = enum_names(pb.Clearance)
CLEARANCE_TO_PB = enum_values(pb.Clearance)
IMPORT_FORMAT = enum_values(pb.ImportFormat)

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})
JSON_TYPES = frozenset({"application/json", "text/json"})


def person_out(person: pb.Person) -> PersonOut:
    return PersonOut(
        id=person.id,
        username=person.username,
        full_name=person.full_name,
        position_title=person.position_title,
        # Roles a newer directory knows and this gateway does not are left out, not guessed.
        roles=[ROLE_NAME[role] for role in person.roles if role in ROLE_NAME],
        unit_codes=list(person.unit_codes),
        # The directory decided what this caller sees; what it left out stays out.
        clearance=None if person.redacted else CLEARANCE_NAME.get(person.clearance, "none"),
        active=person.active,
        email=person.email or None,
        external_subject=person.external_subject or None,
        password_must_change=None if person.redacted else person.password_must_change,
        signature_image=image_out(
            person.signature_image if person.HasField("signature_image") else None
        ),
        redacted=person.redacted,
    )


def new_person(body: PersonIn) -> pb.CreatePersonRequest:
    person = pb.Person(
        username=body.username,
        full_name=body.full_name,
        position_title=body.position_title,
        roles=[ROLE_TO_PB[r] for r in body.roles],
        unit_codes=body.unit_codes,
        clearance=CLEARANCE_TO_PB[body.clearance],
        email=body.email or "",
        external_subject=body.external_subject or "",
    )
    return pb.CreatePersonRequest(
        person=person,
        password=body.password.get_secret_value(),
        password_must_change=body.password_must_change,
    )


def person_update(person_id: str, body: PersonPatch) -> pb.UpdatePersonRequest:
    person = pb.Person(
        id=person_id,
        username=body.username or "",
        full_name=body.full_name or "",
        position_title=body.position_title or "",
        roles=[ROLE_TO_PB[r] for r in body.roles or ()],
        unit_codes=body.unit_codes or [],
        clearance=CLEARANCE_TO_PB[body.clearance] if body.clearance else pb.CLEARANCE_UNSPECIFIED,
        email=body.email or "",
        external_subject=body.external_subject or "",
        active=bool(body.active),
    )
    return pb.UpdatePersonRequest(person=person, update_mask=field_mask(set(body.model_fields_set)))


def import_format(
    content_type: str | None, filename: str | None
) -> pb.ImportFormat.ValueType | None:
    """The format of an import file: by its media type, else by its name (browsers and tools
    often send files as octet-stream or text/plain); None when neither tells."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in CSV_TYPES:
        return pb.IMPORT_FORMAT_CSV
    if media_type in JSON_TYPES:
        return pb.IMPORT_FORMAT_JSON
    return IMPORT_FORMAT.get(PurePosixPath(filename or "").suffix.lower().removeprefix("."))


def import_report_out(answer: pb.ImportPeopleResponse) -> ImportReportOut:
    return ImportReportOut(
        rows=answer.rows,
        imported=answer.imported,
        dry_run=answer.dry_run,
        problems=[
            ImportProblemOut(line=p.line, field=p.field or None, message=p.message)
            for p in answer.problems
        ],
    )
