"""The directory's administration API: agency, units, people, delegations, images, imports.

Handlers only translate REST to directory RPCs and back: the directory checks, authorises
(administrators; a delegator for their own delegations) and decides, from the caller token
each call carries. API keys are for agency systems and reach none of these routes.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import PurePosixPath
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AwareDatetime
from starlette.datastructures import UploadFile

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.gateway.api.admission import IMAGE_MAX_BYTES, IMPORT_MAX_BYTES
from vanban.gateway.api.auth import CurrentPrincipal
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.people import (
    AgencyOut,
    AgencyPatch,
    Clearance,
    DelegationIn,
    DelegationList,
    DelegationRecordOut,
    DelegationRevokeIn,
    ImageOut,
    ImportProblemOut,
    ImportReportOut,
    PasswordIn,
    PersonIn,
    PersonList,
    PersonOut,
    PersonPatch,
    Role,
    UnitIn,
    UnitList,
    UnitOut,
    UnitPatch,
    UnitTreeItem,
)

router = APIRouter(prefix="/v1", tags=["administration"])

# Scopes no API key can hold: people pass (their roles decide in the directory), keys do not.
READ_SCOPE = "directory:read"
MANAGE_SCOPE = "directory:manage"

ROLE_TO_PB: dict[Role, int] = {
    "clerk": pb.ROLE_CLERK,
    "specialist": pb.ROLE_SPECIALIST,
    "unit_head": pb.ROLE_UNIT_HEAD,
    "deputy_unit_head": pb.ROLE_DEPUTY_UNIT_HEAD,
    "agency_leader": pb.ROLE_AGENCY_LEADER,
    "deputy_agency_leader": pb.ROLE_DEPUTY_AGENCY_LEADER,
    "archivist": pb.ROLE_ARCHIVIST,
    "admin": pb.ROLE_ADMIN,
}
ROLE_NAME = {value: name for name, value in ROLE_TO_PB.items()}
CLEARANCE_TO_PB: dict[Clearance, int] = {
    "none": pb.CLEARANCE_NONE,
    "confidential": pb.CLEARANCE_CONFIDENTIAL,
    "secret": pb.CLEARANCE_SECRET,
    "top_secret": pb.CLEARANCE_TOP_SECRET,
}
CLEARANCE_NAME = {value: name for name, value in CLEARANCE_TO_PB.items()}

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})
JSON_TYPES = frozenset({"application/json", "text/json"})
IMPORT_EXTENSIONS = {".csv": pb.IMPORT_FORMAT_CSV, ".json": pb.IMPORT_FORMAT_JSON}


def _upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


def _file_body(description: str) -> dict[str, Any]:
    """The multipart body of an upload route, which reads it itself (see `_read_file`)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": description,
                            }
                        },
                    }
                }
            },
        }
    }


async def _read_file(request: Request, *, max_bytes: int) -> tuple[bytes, UploadFile]:
    """The `file` part of a multipart body, at most `max_bytes` (the body as a whole was held
    to its limit by the admission middleware, after the caller was established)."""
    async with request.form(max_files=1, max_fields=0) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HttpProblem(
                422,
                "VALIDATION_FAILED",
                "file: a multipart part named file is required",
                field="file",
            )
        data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data, upload


def _too_large(max_bytes: int) -> HttpProblem:
    return HttpProblem(
        413,
        "FILE_TOO_LARGE",
        f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MiB",
        field="file",
    )


def _timestamp(value: AwareDatetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _image(message: pb.Agency | pb.Person, field: str) -> ImageOut | None:
    if not message.HasField(field):
        return None
    image: pb.ImageRef = getattr(message, field)
    return ImageOut(sha256=image.sha256, size=image.size) if image.sha256 else None


def agency_out(agency: pb.Agency) -> AgencyOut:
    return AgencyOut(
        code=agency.code,
        name=agency.name,
        abbreviation=agency.abbreviation,
        address=agency.address,
        phone=agency.phone,
        email=agency.email,
        website=agency.website,
        seal_image=_image(agency, "seal_image"),
    )


def unit_out(unit: pb.Unit) -> UnitOut:
    return UnitOut(
        code=unit.code,
        name=unit.name,
        abbreviation=unit.abbreviation,
        parent_code=unit.parent_code or None,
        head_person_id=unit.head_person_id or None,
        deputy_person_ids=list(unit.deputy_person_ids),
    )


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
        signature_image=_image(person, "signature_image"),
        redacted=person.redacted,
    )


def delegation_out(delegation: pb.Delegation) -> DelegationRecordOut:
    return DelegationRecordOut(
        id=delegation.id,
        from_person_id=delegation.from_person_id,
        to_person_id=delegation.to_person_id,
        scope=list(delegation.scope),
        starts_at=delegation.starts_at.ToDatetime(tzinfo=UTC),
        ends_at=delegation.ends_at.ToDatetime(tzinfo=UTC),
        reason=None if delegation.redacted else delegation.reason,
        created_at=delegation.created_at.ToDatetime(tzinfo=UTC),
        created_by=delegation.created_by,
        revoked_at=(
            delegation.revoked_at.ToDatetime(tzinfo=UTC)
            if delegation.HasField("revoked_at")
            else None
        ),
        revoked_by=delegation.revoked_by or None,
        revoke_reason=delegation.revoke_reason or None,
        redacted=delegation.redacted,
    )


def _mask(fields: set[str]) -> FieldMask:
    return FieldMask(paths=sorted(fields))


# Agency ------------------------------------------------------------------------------------


@router.get("/agency", response_model=AgencyOut, operation_id="getAgency")
async def get_agency(request: Request, principal: CurrentPrincipal) -> AgencyOut:
    """The agency's profile (cơ quan): name, mã định danh, abbreviation, address, contacts."""
    principal.require_scope(READ_SCOPE)
    up = _upstreams(request)
    answer = await up.directory.GetAgency(
        pb.GetAgencyRequest(), metadata=principal.metadata, timeout=up.timeout
    )
    return agency_out(answer.agency)


@router.patch("/agency", response_model=AgencyOut, operation_id="updateAgency")
async def update_agency(
    request: Request, principal: CurrentPrincipal, body: AgencyPatch
) -> AgencyOut:
    """Changes the fields sent (administrators); the code (mã định danh) never changes."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    changes = body.model_dump(exclude_unset=True)
    agency = pb.Agency(**{name: value or "" for name, value in changes.items()})
    answer = await up.directory.UpdateAgency(
        pb.UpdateAgencyRequest(agency=agency, update_mask=_mask(set(changes))),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return agency_out(answer.agency)


@router.put(
    "/agency/seal-image",
    response_model=AgencyOut,
    operation_id="setAgencySealImage",
    openapi_extra=_file_body("The seal (con dấu): red, transparent PNG of at most 1 MiB"),
)
async def set_seal_image(request: Request, principal: CurrentPrincipal) -> AgencyOut:
    """Stores the agency's seal image in the archive (administrators)."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    png, _ = await _read_file(request, max_bytes=IMAGE_MAX_BYTES)
    answer = await up.directory.SetSealImage(
        pb.SetSealImageRequest(png=png), metadata=principal.metadata, timeout=up.timeout
    )
    return agency_out(answer.agency)


# Units -------------------------------------------------------------------------------------

UnitCodePath = Annotated[str, Path(min_length=1, max_length=32, description="e.g. VP")]


@router.get("/units", response_model=UnitList, operation_id="listUnits")
async def list_units(request: Request, principal: CurrentPrincipal) -> UnitList:
    """The units tree (đơn vị) as a list: each unit before its children, with its depth."""
    principal.require_scope(READ_SCOPE)
    up = _upstreams(request)
    answer = await up.directory.ListUnits(
        pb.ListUnitsRequest(), metadata=principal.metadata, timeout=up.timeout
    )
    depth: dict[str, int] = {}
    items = []
    for unit in answer.units:
        # The directory lists parents first; a parent it did not list makes a root.
        depth[unit.code] = depth[unit.parent_code] + 1 if unit.parent_code in depth else 0
        items.append(UnitTreeItem(**unit_out(unit).model_dump(), depth=depth[unit.code]))
    return UnitList(items=items)


@router.post(
    "/units",
    status_code=status.HTTP_201_CREATED,
    response_model=UnitOut,
    operation_id="createUnit",
)
async def create_unit(
    request: Request, response: Response, principal: CurrentPrincipal, body: UnitIn
) -> UnitOut:
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    unit = pb.Unit(
        code=body.code,
        name=body.name,
        abbreviation=body.abbreviation,
        parent_code=body.parent_code or "",
        head_person_id=str(body.head_person_id) if body.head_person_id else "",
        deputy_person_ids=[str(p) for p in body.deputy_person_ids],
    )
    answer = await up.directory.CreateUnit(
        pb.CreateUnitRequest(unit=unit), metadata=principal.metadata, timeout=up.timeout
    )
    response.headers["Location"] = f"/v1/units/{answer.unit.code}"
    return unit_out(answer.unit)


@router.get("/units/{code}", response_model=UnitOut, operation_id="getUnit")
async def get_unit(request: Request, principal: CurrentPrincipal, code: UnitCodePath) -> UnitOut:
    principal.require_scope(READ_SCOPE)
    up = _upstreams(request)
    answer = await up.directory.GetUnit(
        pb.GetUnitRequest(code=code), metadata=principal.metadata, timeout=up.timeout
    )
    return unit_out(answer.unit)


@router.patch("/units/{code}", response_model=UnitOut, operation_id="updateUnit")
async def update_unit(
    request: Request, principal: CurrentPrincipal, code: UnitCodePath, body: UnitPatch
) -> UnitOut:
    """Renames, re-heads or moves a unit; a move under itself or its own descendant is
    refused (400 `UNIT_CYCLE`)."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    fields = body.model_fields_set
    unit = pb.Unit(
        code=code,
        name=body.name or "",
        abbreviation=body.abbreviation or "",
        parent_code=body.parent_code or "",
        head_person_id=str(body.head_person_id) if body.head_person_id else "",
        deputy_person_ids=[str(p) for p in body.deputy_person_ids or ()],
    )
    answer = await up.directory.UpdateUnit(
        pb.UpdateUnitRequest(unit=unit, update_mask=_mask(set(fields))),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return unit_out(answer.unit)


@router.delete(
    "/units/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="deleteUnit",
)
async def delete_unit(
    request: Request, principal: CurrentPrincipal, code: UnitCodePath
) -> Response:
    """Removes an empty unit; one with members or child units is refused, naming them."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    await up.directory.DeleteUnit(
        pb.DeleteUnitRequest(code=code), metadata=principal.metadata, timeout=up.timeout
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# People ------------------------------------------------------------------------------------


@router.get("/people", response_model=PersonList, operation_id="listPeople")
async def list_people(
    request: Request,
    principal: CurrentPrincipal,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    page_token: Annotated[str, Query(max_length=512)] = "",
    role: Annotated[Role | None, Query(description="Only people holding this role")] = None,
) -> PersonList:
    """Active people by username, a page at a time."""
    principal.require_scope(READ_SCOPE)
    up = _upstreams(request)
    answer = await up.directory.ListPeople(
        pb.ListPeopleRequest(
            role=ROLE_TO_PB[role] if role else pb.ROLE_UNSPECIFIED,
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return PersonList(
        items=[person_out(p) for p in answer.people],
        next_page_token=answer.next_page_token or None,
    )


@router.post(
    "/people",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonOut,
    operation_id="createPerson",
)
async def create_person(
    request: Request, response: Response, principal: CurrentPrincipal, body: PersonIn
) -> PersonOut:
    """Adds a person with an initial password (administrators); the password is not shown."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
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
    answer = await up.directory.CreatePerson(
        pb.CreatePersonRequest(
            person=person,
            password=body.password.get_secret_value(),
            password_must_change=body.password_must_change,
        ),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    response.headers["Location"] = f"/v1/people/{answer.person.id}"
    return person_out(answer.person)


@router.get("/people/{person_id}", response_model=PersonOut, operation_id="getPerson")
async def get_person(request: Request, principal: CurrentPrincipal, person_id: UUID) -> PersonOut:
    principal.require_scope(READ_SCOPE)
    up = _upstreams(request)
    answer = await up.directory.GetPerson(
        pb.GetPersonRequest(id=str(person_id)), metadata=principal.metadata, timeout=up.timeout
    )
    return person_out(answer.person)


@router.patch("/people/{person_id}", response_model=PersonOut, operation_id="updatePerson")
async def update_person(
    request: Request, principal: CurrentPrincipal, person_id: UUID, body: PersonPatch
) -> PersonOut:
    """Changes the fields sent (administrators); `active: false` deactivates."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    person = pb.Person(
        id=str(person_id),
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
    answer = await up.directory.UpdatePerson(
        pb.UpdatePersonRequest(person=person, update_mask=_mask(set(body.model_fields_set))),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return person_out(answer.person)


@router.post(
    "/people/{person_id}/password", response_model=PersonOut, operation_id="setPersonPassword"
)
async def set_password(
    request: Request, principal: CurrentPrincipal, person_id: UUID, body: PasswordIn
) -> PersonOut:
    """Sets someone's password (administrators), usually a temporary one."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    answer = await up.directory.SetPassword(
        pb.SetPasswordRequest(
            person_id=str(person_id),
            password=body.password.get_secret_value(),
            must_change=body.must_change,
        ),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return person_out(answer.person)


@router.post(
    "/people/{person_id}/deactivate", response_model=PersonOut, operation_id="deactivatePerson"
)
async def deactivate_person(
    request: Request, principal: CurrentPrincipal, person_id: UUID
) -> PersonOut:
    """The person can no longer sign in and their open delegations end; history stays."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    answer = await up.directory.DeactivatePerson(
        pb.DeactivatePersonRequest(person_id=str(person_id)),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return person_out(answer.person)


@router.put(
    "/people/{person_id}/signature-image",
    response_model=PersonOut,
    operation_id="setPersonSignatureImage",
    openapi_extra=_file_body("A leader's signature: blue, transparent PNG of at most 1 MiB"),
)
async def set_signature_image(
    request: Request, principal: CurrentPrincipal, person_id: UUID
) -> PersonOut:
    """Stores a leader's signature image in the archive (administrators)."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    png, _ = await _read_file(request, max_bytes=IMAGE_MAX_BYTES)
    answer = await up.directory.SetSignatureImage(
        pb.SetSignatureImageRequest(person_id=str(person_id), png=png),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return person_out(answer.person)


def _import_format(upload: UploadFile) -> int:
    media_type = (upload.content_type or "").split(";")[0].strip().lower()
    if media_type in CSV_TYPES:
        return pb.IMPORT_FORMAT_CSV
    if media_type in JSON_TYPES:
        return pb.IMPORT_FORMAT_JSON
    # Browsers and tools often send files as octet-stream or text/plain: the name decides.
    extension = PurePosixPath(upload.filename or "").suffix.lower()
    if extension in IMPORT_EXTENSIONS:
        return IMPORT_EXTENSIONS[extension]
    raise HttpProblem(
        415,
        "UNSUPPORTED_IMPORT_FORMAT",
        "send the file as text/csv or application/json, or name it .csv or .json",
        field="file",
    )


@router.post(
    "/people/import",
    response_model=ImportReportOut,
    operation_id="importPeople",
    openapi_extra=_file_body(
        "CSV (header: username, full_name, position_title, unit_codes, roles, clearance, "
        "email, password) or a JSON array of such objects; UTF-8, at most 5 MiB"
    ),
)
async def import_people(
    request: Request,
    principal: CurrentPrincipal,
    dry_run: Annotated[bool, Query(description="true: only check and report, write nothing")],
) -> ImportReportOut:
    """Creates people from a CSV or JSON file (administrators): every problem is reported by
    line and field; with any problem, or in a dry run, nobody is created."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    content, upload = await _read_file(request, max_bytes=IMPORT_MAX_BYTES)
    answer = await up.directory.ImportPeople(
        pb.ImportPeopleRequest(format=_import_format(upload), content=content, dry_run=dry_run),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return ImportReportOut(
        rows=answer.rows,
        imported=answer.imported,
        dry_run=answer.dry_run,
        problems=[
            ImportProblemOut(line=p.line, field=p.field or None, message=p.message)
            for p in answer.problems
        ],
    )


# Delegations -------------------------------------------------------------------------------


@router.get("/delegations", response_model=DelegationList, operation_id="listDelegations")
async def list_delegations(
    request: Request,
    principal: CurrentPrincipal,
    person_id: Annotated[UUID | None, Query(description="From or to this person")] = None,
    active_at: Annotated[
        AwareDatetime | None, Query(description="Only those in force at this instant")
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    page_token: Annotated[str, Query(max_length=512)] = "",
) -> DelegationList:
    """Delegations (ủy quyền), revoked ones included unless `active_at` is given."""
    principal.require_scope(READ_SCOPE)
    up = _upstreams(request)
    message = pb.ListDelegationsRequest(
        person_id=str(person_id) if person_id else "", page_size=page_size, page_token=page_token
    )
    if active_at is not None:
        message.active_at.CopyFrom(_timestamp(active_at))
    answer = await up.directory.ListDelegations(
        message, metadata=principal.metadata, timeout=up.timeout
    )
    return DelegationList(
        items=[delegation_out(d) for d in answer.delegations],
        next_page_token=answer.next_page_token or None,
    )


@router.post(
    "/delegations",
    status_code=status.HTTP_201_CREATED,
    response_model=DelegationRecordOut,
    operation_id="createDelegation",
)
async def create_delegation(
    request: Request, principal: CurrentPrincipal, body: DelegationIn
) -> DelegationRecordOut:
    """Lets one person act for another (the delegator for themselves, or an administrator)."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    delegation = pb.Delegation(
        from_person_id=str(body.from_person_id),
        to_person_id=str(body.to_person_id),
        scope=body.scope,
        starts_at=_timestamp(body.starts_at),
        ends_at=_timestamp(body.ends_at),
        reason=body.reason,
    )
    answer = await up.directory.CreateDelegation(
        pb.CreateDelegationRequest(delegation=delegation),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return delegation_out(answer.delegation)


@router.post(
    "/delegations/{delegation_id}/revoke",
    response_model=DelegationRecordOut,
    operation_id="revokeDelegation",
)
async def revoke_delegation(
    request: Request,
    principal: CurrentPrincipal,
    delegation_id: UUID,
    body: DelegationRevokeIn | None = None,
) -> DelegationRecordOut:
    """Ends a delegation now (the delegator or an administrator)."""
    principal.require_scope(MANAGE_SCOPE)
    up = _upstreams(request)
    answer = await up.directory.RevokeDelegation(
        pb.RevokeDelegationRequest(id=str(delegation_id), reason=body.reason if body else ""),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return delegation_out(answer.delegation)
