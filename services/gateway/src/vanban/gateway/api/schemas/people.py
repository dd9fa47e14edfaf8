"""Bodies of the directory's administration API (agency, units, people, delegations, images).

The limits mirror the directory's own so a request it would refuse anyway is refused before it
travels; the directory checks everything again and decides. In PATCH bodies a field left out
stays as it is; `null` clears the fields that may be empty and is refused for the others.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

Role = Literal[
    "clerk",
    "specialist",
    "unit_head",
    "deputy_unit_head",
    "agency_leader",
    "deputy_agency_leader",
    "archivist",
    "admin",
]
Clearance = Literal["none", "confidential", "secret", "top_secret"]

UnitCode = Annotated[str, Field(min_length=1, max_length=32, description="e.g. VP, PTH")]
Password = Annotated[
    SecretStr, Field(max_length=1024, description="At least 8 characters; never shown again")
]
Roles = Annotated[list[Role], Field(min_length=1, max_length=8)]
UnitCodes = Annotated[list[UnitCode], Field(max_length=50)]


class _Patch(BaseModel):
    """A partial update: at least one field, and `null` only where a field may be empty."""

    model_config = ConfigDict(extra="forbid")

    # Fields that always hold a value: `null` for them is refused rather than taken as "clear".
    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> _Patch:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class ImageOut(BaseModel):
    """An image kept by the archive, by content."""

    sha256: str
    size: int


class AgencyOut(BaseModel):
    code: str = Field(description="Mã định danh, e.g. 000.00.00.H99; never changes")
    name: str
    abbreviation: str = Field(description="Used in ký hiệu, e.g. UBND")
    address: str
    phone: str
    email: str
    website: str
    seal_image: ImageOut | None = Field(description="The red seal (con dấu)")


class AgencyPatch(_Patch):
    NOT_NULL = frozenset({"name", "abbreviation"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    abbreviation: str | None = Field(default=None, min_length=1, max_length=30)
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=255)


class UnitOut(BaseModel):
    code: str
    name: str
    abbreviation: str
    parent_code: str | None = Field(description="None for a root unit")
    head_person_id: str | None
    deputy_person_ids: list[str]


class UnitTreeItem(UnitOut):
    depth: int = Field(description="0 for a root unit, its children 1, and so on")


class UnitList(BaseModel):
    items: list[UnitTreeItem] = Field(
        description="The whole tree: each unit before its children, siblings by code"
    )


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: UnitCode = Field(description="Unique and unchangeable: A-Z, 0-9, '.', '_', '-'")
    name: str = Field(max_length=200)
    abbreviation: str = Field(default="", max_length=30, description="Defaults to the code")
    parent_code: UnitCode | None = Field(default=None, description="None for a root unit")
    head_person_id: UUID | None = None
    deputy_person_ids: list[UUID] = Field(default=[], max_length=20)


class UnitPatch(_Patch):
    NOT_NULL = frozenset({"name", "deputy_person_ids"})

    name: str | None = Field(default=None, max_length=200)
    abbreviation: str | None = Field(
        default=None, max_length=30, description="null: back to the code"
    )
    parent_code: UnitCode | None = Field(
        default=None, description="Moves the unit; null makes it a root unit"
    )
    head_person_id: UUID | None = Field(default=None, description="null: no head")
    deputy_person_ids: list[UUID] | None = Field(default=None, max_length=20)


_PRIVATE = " (null when `redacted`)"


class PersonOut(BaseModel):
    id: str
    username: str
    full_name: str
    position_title: str
    roles: list[Role]
    unit_codes: list[str]
    clearance: Clearance | None = Field(description="Highest secrecy readable" + _PRIVATE)
    active: bool
    email: str | None = Field(description="E-mail address" + _PRIVATE)
    external_subject: str | None = Field(
        description="`sub` at the agency's OIDC provider" + _PRIVATE
    )
    password_must_change: bool | None = Field(description="Must replace the password" + _PRIVATE)
    signature_image: ImageOut | None = Field(description="A leader's blue signature")
    redacted: bool = Field(
        description="true: clearance, email, external_subject and password_must_change are "
        "left out, as they are for everyone but administrators and the person themself"
    )


class PersonList(BaseModel):
    items: list[PersonOut]
    next_page_token: str | None = None


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64, description="a-z, 0-9, '.', '_', '-'")
    full_name: str = Field(max_length=200)
    position_title: str = Field(default="", max_length=200)
    roles: Roles
    unit_codes: UnitCodes = []
    clearance: Clearance = "none"
    email: str | None = Field(default=None, max_length=254)
    external_subject: str | None = Field(default=None, max_length=255)
    password: Password
    password_must_change: bool = Field(
        default=True, description="The person is to replace it at their first sign-in"
    )


class PersonPatch(_Patch):
    NOT_NULL = frozenset({"username", "full_name", "roles", "unit_codes", "clearance", "active"})

    username: str | None = Field(default=None, max_length=64)
    full_name: str | None = Field(default=None, max_length=200)
    position_title: str | None = Field(default=None, max_length=200)
    roles: Roles | None = None
    unit_codes: UnitCodes | None = None
    clearance: Clearance | None = None
    email: str | None = Field(default=None, max_length=254)
    external_subject: str | None = Field(default=None, max_length=255)
    active: bool | None = Field(
        default=None, description="false deactivates, true brings a deactivated person back"
    )


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password
    must_change: bool = Field(
        default=True, description="The person is to replace it at their next sign-in"
    )


class DelegationRecordOut(BaseModel):
    id: str
    from_person_id: str
    to_person_id: str
    scope: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime = Field(description="Not included")
    reason: str | None = Field(description="null when `redacted`")
    created_at: AwareDatetime
    created_by: str
    revoked_at: AwareDatetime | None
    revoked_by: str | None
    revoke_reason: str | None
    redacted: bool = Field(
        description="true: reason and revoke_reason are left out, as they are for everyone but "
        "the delegation's two people and administrators"
    )


class DelegationList(BaseModel):
    items: list[DelegationRecordOut] = Field(description="Ordered by start")
    next_page_token: str | None = None


class DelegationIn(BaseModel):
    """Ủy quyền: `to_person_id` may act for `from_person_id` in `scope` from `starts_at` until
    (not including) `ends_at`."""

    model_config = ConfigDict(extra="forbid")

    from_person_id: UUID
    to_person_id: UUID
    scope: list[Annotated[str, Field(max_length=32)]] = Field(
        min_length=1, max_length=10, description="Among assign, approve, sign, forward"
    )
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(max_length=500)


class DelegationRevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class ImportProblemOut(BaseModel):
    line: int = Field(
        description="1-based: in CSV the header is line 1; in JSON the array index plus one; "
        "0 is the file as a whole"
    )
    field: str | None = Field(description="The column or field; None for the whole line")
    message: str


class ImportReportOut(BaseModel):
    rows: int = Field(description="People in the file")
    imported: int = Field(description="People created: all rows, or 0 with any problem")
    dry_run: bool
    problems: list[ImportProblemOut] = Field(description="Every problem, by line then column")
