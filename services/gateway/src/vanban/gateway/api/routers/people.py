"""People (người dùng) of the directory: accounts, passwords, signatures, imports.

Handlers only translate REST to directory RPCs and back: the directory checks, authorises
(administrators) and decides, from the caller token each call carries. API keys are for agency
systems and reach none of these routes.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request, Response, status

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.admission import IMAGE_MAX_BYTES, IMPORT_MAX_BYTES
from vanban.gateway.api.convert.people import (
    ROLE_TO_PB,
    import_format,
    import_report_out,
    new_person,
    person_out,
    person_update,
)
from vanban.gateway.api.deps import Directory, DirectoryManager, DirectoryReader
from vanban.gateway.api.openapi import BODY, FILE, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.problems import HttpProblem
from vanban.gateway.api.schemas.people import (
    ImportReportOut,
    PasswordIn,
    PersonIn,
    PersonList,
    PersonOut,
    PersonPatch,
    Role,
)
from vanban.gateway.api.upload import file_body, read_file

router = APIRouter(prefix="/v1/people", tags=["administration"])

READ = (*SCOPED, *UPSTREAM)
MANAGE = (*READ, "ROLE_REQUIRED")
_PERSON = (*PARAMETERS, "INVALID_PERSON_ID", "PERSON_NOT_FOUND")
_NEW_PERSON = {
    "specialist": {
        "summary": "A specialist who sets their own password at first sign-in",
        "value": {
            "username": "nguyenvanbinh",
            "full_name": "Nguyễn Văn Bình",
            "position_title": "Chuyên viên",
            "roles": ["specialist"],
            "unit_codes": ["PTH"],
            "clearance": "none",
            "email": "binh.nv@example.gov.vn",
            "password": "mật khẩu tạm thời",
            "password_must_change": True,
        },
    }
}
_PATCH = {
    "promotion": {
        "summary": "A new title and role",
        "value": {"position_title": "Phó Trưởng phòng", "roles": ["deputy_unit_head"]},
    },
    "deactivate": {"summary": "Deactivate", "value": {"active": False}},
}
_PASSWORD = {
    "temporary": {
        "summary": "A temporary password, to be changed at the next sign-in",
        "value": {"password": "mật khẩu tạm thời", "must_change": True},
    }
}


@router.get(
    "",
    response_model=PersonList,
    operation_id="listPeople",
    responses=answers(*READ, *PARAMETERS, "INVALID_ROLE", "INVALID_PAGE_TOKEN"),
)
async def list_people(
    principal: DirectoryReader,
    directory: Directory,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    page_token: Annotated[str, Query(max_length=512)] = "",
    role: Annotated[Role | None, Query(description="Only people holding this role")] = None,
) -> PersonList:
    """Active people by username, a page at a time."""
    answer = await directory.stub.ListPeople(
        pb.ListPeopleRequest(
            role=ROLE_TO_PB[role] if role else pb.ROLE_UNSPECIFIED,
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return PersonList(
        items=[person_out(p) for p in answer.people],
        next_page_token=answer.next_page_token or None,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonOut,
    operation_id="createPerson",
    responses=answers(
        *MANAGE,
        *BODY,
        "PERSON_EXISTS",
        "INVALID_PERSON",
        "INVALID_PASSWORD",
        "INVALID_ROLE",
        "INVALID_CLEARANCE",
        "UNKNOWN_UNIT",
    ),
)
async def create_person(
    response: Response,
    principal: DirectoryManager,
    body: Annotated[PersonIn, Body(openapi_examples=_NEW_PERSON)],
    directory: Directory,
) -> PersonOut:
    """Adds a person with an initial password (administrators); the password is not shown."""
    answer = await directory.stub.CreatePerson(
        new_person(body), metadata=principal.metadata, timeout=directory.timeout
    )
    response.headers["Location"] = f"/v1/people/{answer.person.id}"
    return person_out(answer.person)


@router.get(
    "/{person_id}",
    response_model=PersonOut,
    operation_id="getPerson",
    responses=answers(*READ, *_PERSON),
)
async def get_person(
    principal: DirectoryReader, person_id: UUID, directory: Directory
) -> PersonOut:
    answer = await directory.stub.GetPerson(
        pb.GetPersonRequest(id=str(person_id)),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return person_out(answer.person)


@router.patch(
    "/{person_id}",
    response_model=PersonOut,
    operation_id="updatePerson",
    responses=answers(
        *MANAGE,
        *_PERSON,
        *BODY,
        "PERSON_EXISTS",
        "INVALID_PERSON",
        "INVALID_ROLE",
        "INVALID_CLEARANCE",
        "UNKNOWN_UNIT",
        "LAST_ADMIN",
        "INVALID_UPDATE_MASK",
    ),
)
async def update_person(
    principal: DirectoryManager,
    person_id: UUID,
    body: Annotated[PersonPatch, Body(openapi_examples=_PATCH)],
    directory: Directory,
) -> PersonOut:
    """Changes the fields sent (administrators); `active: false` deactivates."""
    answer = await directory.stub.UpdatePerson(
        person_update(str(person_id), body),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return person_out(answer.person)


@router.post(
    "/{person_id}/password",
    response_model=PersonOut,
    operation_id="setPersonPassword",
    responses=answers(*MANAGE, *_PERSON, *BODY, "INVALID_PASSWORD"),
)
async def set_password(
    principal: DirectoryManager,
    person_id: UUID,
    body: Annotated[PasswordIn, Body(openapi_examples=_PASSWORD)],
    directory: Directory,
) -> PersonOut:
    """Sets someone's password (administrators), usually a temporary one."""
    answer = await directory.stub.SetPassword(
        pb.SetPasswordRequest(
            person_id=str(person_id),
            password=body.password.get_secret_value(),
            must_change=body.must_change,
        ),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return person_out(answer.person)


@router.post(
    "/{person_id}/deactivate",
    response_model=PersonOut,
    operation_id="deactivatePerson",
    responses=answers(*MANAGE, *_PERSON, "LAST_ADMIN"),
)
async def deactivate_person(
    principal: DirectoryManager, person_id: UUID, directory: Directory
) -> PersonOut:
    """The person can no longer sign in and their open delegations end; history stays."""
    answer = await directory.stub.DeactivatePerson(
        pb.DeactivatePersonRequest(person_id=str(person_id)),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return person_out(answer.person)


@router.put(
    "/{person_id}/signature-image",
    response_model=PersonOut,
    operation_id="setPersonSignatureImage",
    openapi_extra=file_body(
        "A leader's signature: blue, transparent PNG of at most 1 MiB",
        example="(the PNG image of the signature)",
    ),
    responses=answers(
        *MANAGE, *_PERSON, *FILE, "INVALID_IMAGE", "NOT_A_SIGNER", "ARCHIVE_UNAVAILABLE"
    ),
)
async def set_signature_image(
    request: Request, principal: DirectoryManager, person_id: UUID, directory: Directory
) -> PersonOut:
    """Stores a leader's signature image in the archive (administrators)."""
    png, _ = await read_file(request, max_bytes=IMAGE_MAX_BYTES)
    answer = await directory.stub.SetSignatureImage(
        pb.SetSignatureImageRequest(person_id=str(person_id), png=png),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return person_out(answer.person)


@router.post(
    "/import",
    response_model=ImportReportOut,
    operation_id="importPeople",
    openapi_extra=file_body(
        "CSV (header: username, full_name, position_title, unit_codes, roles, clearance, "
        "email, password) or a JSON array of such objects; UTF-8, at most 5 MiB",
        example=(
            "username,full_name,position_title,unit_codes,roles,clearance,email,password\n"
            "tranthic,Trần Thị C,Chuyên viên,PTH,specialist,none,,mật khẩu tạm thời\n"
        ),
    ),
    responses=answers(
        *MANAGE,
        *FILE,
        *PARAMETERS,
        "UNSUPPORTED_IMPORT_FORMAT",
        "INVALID_FORMAT",
        "IMPORT_TOO_LARGE",
    ),
)
async def import_people(
    request: Request,
    principal: DirectoryManager,
    directory: Directory,
    dry_run: Annotated[bool, Query(description="true: only check and report, write nothing")],
) -> ImportReportOut:
    """Creates people from a CSV or JSON file (administrators): every problem is reported by
    line and field; with any problem, or in a dry run, nobody is created."""
    content, upload = await read_file(request, max_bytes=IMPORT_MAX_BYTES)
    format_ = import_format(upload.content_type, upload.filename)
    if format_ is None:
        raise HttpProblem(
            415,
            "UNSUPPORTED_IMPORT_FORMAT",
            "send the file as text/csv or application/json, or name it .csv or .json",
            field="file",
        )
    answer = await directory.stub.ImportPeople(
        pb.ImportPeopleRequest(format=format_, content=content, dry_run=dry_run),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return import_report_out(answer)
