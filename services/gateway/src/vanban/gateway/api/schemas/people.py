"""Bodies of the directory's administration API: people (người dùng), and what the agency,
units and delegations bodies share with them (roles, clearances, unit codes, partial updates,
images).

The limits mirror the directory's own so a request it would refuse anyway is refused before it
travels; the directory checks everything again and decides. In PATCH bodies a field left out
stays as it is; `null` clears the fields that may be empty and is refused for the others.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vanban.platform.clearance import Clearance

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

UnitCode = Annotated[str, Field(min_length=1, max_length=32, description="e.g. VP, PTH")]
Password = Annotated[
    SecretStr, Field(max_length=1024, description="At least 8 characters; never shown again")
]
Roles = Annotated[list[Role], Field(min_length=1, max_length=8)]
UnitCodes = Annotated[list[UnitCode], Field(max_length=50)]


class Patch(BaseModel):
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
    def _not_empty(self) -> Patch:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class ImageOut(BaseModel):
    """An image kept by the archive, by content."""

    sha256: str
    size: int


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
    clearance: Clearance = Clearance.NONE
    email: str | None = Field(default=None, max_length=254)
    external_subject: str | None = Field(default=None, max_length=255)
    password: Password
    password_must_change: bool = Field(
        default=True, description="The person is to replace it at their first sign-in"
    )


class PersonPatch(Patch):
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
