import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_CLERK: _ClassVar[Role]
    ROLE_SPECIALIST: _ClassVar[Role]
    ROLE_UNIT_HEAD: _ClassVar[Role]
    ROLE_DEPUTY_UNIT_HEAD: _ClassVar[Role]
    ROLE_AGENCY_LEADER: _ClassVar[Role]
    ROLE_DEPUTY_AGENCY_LEADER: _ClassVar[Role]
    ROLE_ARCHIVIST: _ClassVar[Role]
    ROLE_ADMIN: _ClassVar[Role]

class Clearance(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLEARANCE_UNSPECIFIED: _ClassVar[Clearance]
    CLEARANCE_NONE: _ClassVar[Clearance]
    CLEARANCE_CONFIDENTIAL: _ClassVar[Clearance]
    CLEARANCE_SECRET: _ClassVar[Clearance]
    CLEARANCE_TOP_SECRET: _ClassVar[Clearance]

class ImportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_FORMAT_UNSPECIFIED: _ClassVar[ImportFormat]
    IMPORT_FORMAT_CSV: _ClassVar[ImportFormat]
    IMPORT_FORMAT_JSON: _ClassVar[ImportFormat]
ROLE_UNSPECIFIED: Role
ROLE_CLERK: Role
ROLE_SPECIALIST: Role
ROLE_UNIT_HEAD: Role
ROLE_DEPUTY_UNIT_HEAD: Role
ROLE_AGENCY_LEADER: Role
ROLE_DEPUTY_AGENCY_LEADER: Role
ROLE_ARCHIVIST: Role
ROLE_ADMIN: Role
CLEARANCE_UNSPECIFIED: Clearance
CLEARANCE_NONE: Clearance
CLEARANCE_CONFIDENTIAL: Clearance
CLEARANCE_SECRET: Clearance
CLEARANCE_TOP_SECRET: Clearance
IMPORT_FORMAT_UNSPECIFIED: ImportFormat
IMPORT_FORMAT_CSV: ImportFormat
IMPORT_FORMAT_JSON: ImportFormat

class Agency(_message.Message):
    __slots__ = ("code", "name", "abbreviation", "address", "phone", "email", "website", "seal_image")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ABBREVIATION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    WEBSITE_FIELD_NUMBER: _ClassVar[int]
    SEAL_IMAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    abbreviation: str
    address: str
    phone: str
    email: str
    website: str
    seal_image: ImageRef
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., abbreviation: _Optional[str] = ..., address: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., website: _Optional[str] = ..., seal_image: _Optional[_Union[ImageRef, _Mapping]] = ...) -> None: ...

class ImageRef(_message.Message):
    __slots__ = ("sha256", "size")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    size: int
    def __init__(self, sha256: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class Unit(_message.Message):
    __slots__ = ("code", "name", "abbreviation", "parent_code", "head_person_id", "deputy_person_ids")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ABBREVIATION_FIELD_NUMBER: _ClassVar[int]
    PARENT_CODE_FIELD_NUMBER: _ClassVar[int]
    HEAD_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    DEPUTY_PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    abbreviation: str
    parent_code: str
    head_person_id: str
    deputy_person_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., abbreviation: _Optional[str] = ..., parent_code: _Optional[str] = ..., head_person_id: _Optional[str] = ..., deputy_person_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("id", "username", "full_name", "position_title", "roles", "unit_codes", "clearance", "active", "external_subject", "email", "password_must_change", "signature_image", "session_version", "redacted")
    ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    POSITION_TITLE_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    UNIT_CODES_FIELD_NUMBER: _ClassVar[int]
    CLEARANCE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_MUST_CHANGE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_IMAGE_FIELD_NUMBER: _ClassVar[int]
    SESSION_VERSION_FIELD_NUMBER: _ClassVar[int]
    REDACTED_FIELD_NUMBER: _ClassVar[int]
    id: str
    username: str
    full_name: str
    position_title: str
    roles: _containers.RepeatedScalarFieldContainer[Role]
    unit_codes: _containers.RepeatedScalarFieldContainer[str]
    clearance: Clearance
    active: bool
    external_subject: str
    email: str
    password_must_change: bool
    signature_image: ImageRef
    session_version: int
    redacted: bool
    def __init__(self, id: _Optional[str] = ..., username: _Optional[str] = ..., full_name: _Optional[str] = ..., position_title: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[Role, str]]] = ..., unit_codes: _Optional[_Iterable[str]] = ..., clearance: _Optional[_Union[Clearance, str]] = ..., active: _Optional[bool] = ..., external_subject: _Optional[str] = ..., email: _Optional[str] = ..., password_must_change: _Optional[bool] = ..., signature_image: _Optional[_Union[ImageRef, _Mapping]] = ..., session_version: _Optional[int] = ..., redacted: _Optional[bool] = ...) -> None: ...

class Delegation(_message.Message):
    __slots__ = ("id", "from_person_id", "to_person_id", "scope", "starts_at", "ends_at", "reason", "created_at", "created_by", "revoked_at", "revoked_by", "revoke_reason", "redacted")
    ID_FIELD_NUMBER: _ClassVar[int]
    FROM_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    TO_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_BY_FIELD_NUMBER: _ClassVar[int]
    REVOKE_REASON_FIELD_NUMBER: _ClassVar[int]
    REDACTED_FIELD_NUMBER: _ClassVar[int]
    id: str
    from_person_id: str
    to_person_id: str
    scope: _containers.RepeatedScalarFieldContainer[str]
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    reason: str
    created_at: _timestamp_pb2.Timestamp
    created_by: str
    revoked_at: _timestamp_pb2.Timestamp
    revoked_by: str
    revoke_reason: str
    redacted: bool
    def __init__(self, id: _Optional[str] = ..., from_person_id: _Optional[str] = ..., to_person_id: _Optional[str] = ..., scope: _Optional[_Iterable[str]] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_by: _Optional[str] = ..., revoke_reason: _Optional[str] = ..., redacted: _Optional[bool] = ...) -> None: ...

class AuthenticateRequest(_message.Message):
    __slots__ = ("username", "password")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class AuthenticateResponse(_message.Message):
    __slots__ = ("person", "agency")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    person: Person
    agency: Agency
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., agency: _Optional[_Union[Agency, _Mapping]] = ...) -> None: ...

class GetAgencyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAgencyResponse(_message.Message):
    __slots__ = ("agency",)
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    agency: Agency
    def __init__(self, agency: _Optional[_Union[Agency, _Mapping]] = ...) -> None: ...

class GetPersonRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetPersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class ListPeopleRequest(_message.Message):
    __slots__ = ("role", "page_size", "page_token")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    role: Role
    page_size: int
    page_token: str
    def __init__(self, role: _Optional[_Union[Role, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPeopleResponse(_message.Message):
    __slots__ = ("people", "next_page_token")
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    people: _containers.RepeatedCompositeFieldContainer[Person]
    next_page_token: str
    def __init__(self, people: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateAgencyRequest(_message.Message):
    __slots__ = ("agency", "update_mask")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    agency: Agency
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, agency: _Optional[_Union[Agency, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateAgencyResponse(_message.Message):
    __slots__ = ("agency",)
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    agency: Agency
    def __init__(self, agency: _Optional[_Union[Agency, _Mapping]] = ...) -> None: ...

class CreateUnitRequest(_message.Message):
    __slots__ = ("unit",)
    UNIT_FIELD_NUMBER: _ClassVar[int]
    unit: Unit
    def __init__(self, unit: _Optional[_Union[Unit, _Mapping]] = ...) -> None: ...

class CreateUnitResponse(_message.Message):
    __slots__ = ("unit",)
    UNIT_FIELD_NUMBER: _ClassVar[int]
    unit: Unit
    def __init__(self, unit: _Optional[_Union[Unit, _Mapping]] = ...) -> None: ...

class UpdateUnitRequest(_message.Message):
    __slots__ = ("unit", "update_mask")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    unit: Unit
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, unit: _Optional[_Union[Unit, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateUnitResponse(_message.Message):
    __slots__ = ("unit",)
    UNIT_FIELD_NUMBER: _ClassVar[int]
    unit: Unit
    def __init__(self, unit: _Optional[_Union[Unit, _Mapping]] = ...) -> None: ...

class GetUnitRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class GetUnitResponse(_message.Message):
    __slots__ = ("unit",)
    UNIT_FIELD_NUMBER: _ClassVar[int]
    unit: Unit
    def __init__(self, unit: _Optional[_Union[Unit, _Mapping]] = ...) -> None: ...

class ListUnitsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListUnitsResponse(_message.Message):
    __slots__ = ("units",)
    UNITS_FIELD_NUMBER: _ClassVar[int]
    units: _containers.RepeatedCompositeFieldContainer[Unit]
    def __init__(self, units: _Optional[_Iterable[_Union[Unit, _Mapping]]] = ...) -> None: ...

class DeleteUnitRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class DeleteUnitResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreatePersonRequest(_message.Message):
    __slots__ = ("person", "password", "password_must_change")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_MUST_CHANGE_FIELD_NUMBER: _ClassVar[int]
    person: Person
    password: str
    password_must_change: bool
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., password: _Optional[str] = ..., password_must_change: _Optional[bool] = ...) -> None: ...

class CreatePersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class UpdatePersonRequest(_message.Message):
    __slots__ = ("person", "update_mask")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    person: Person
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdatePersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class SetPasswordRequest(_message.Message):
    __slots__ = ("person_id", "password", "must_change")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    MUST_CHANGE_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    password: str
    must_change: bool
    def __init__(self, person_id: _Optional[str] = ..., password: _Optional[str] = ..., must_change: _Optional[bool] = ...) -> None: ...

class SetPasswordResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class ChangePasswordRequest(_message.Message):
    __slots__ = ("current_password", "new_password")
    CURRENT_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    current_password: str
    new_password: str
    def __init__(self, current_password: _Optional[str] = ..., new_password: _Optional[str] = ...) -> None: ...

class ChangePasswordResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class DeactivatePersonRequest(_message.Message):
    __slots__ = ("person_id",)
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    def __init__(self, person_id: _Optional[str] = ...) -> None: ...

class DeactivatePersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class FindPersonRequest(_message.Message):
    __slots__ = ("username", "external_subject", "email")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    username: str
    external_subject: str
    email: str
    def __init__(self, username: _Optional[str] = ..., external_subject: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class FindPersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class CreateDelegationRequest(_message.Message):
    __slots__ = ("delegation",)
    DELEGATION_FIELD_NUMBER: _ClassVar[int]
    delegation: Delegation
    def __init__(self, delegation: _Optional[_Union[Delegation, _Mapping]] = ...) -> None: ...

class CreateDelegationResponse(_message.Message):
    __slots__ = ("delegation",)
    DELEGATION_FIELD_NUMBER: _ClassVar[int]
    delegation: Delegation
    def __init__(self, delegation: _Optional[_Union[Delegation, _Mapping]] = ...) -> None: ...

class RevokeDelegationRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeDelegationResponse(_message.Message):
    __slots__ = ("delegation",)
    DELEGATION_FIELD_NUMBER: _ClassVar[int]
    delegation: Delegation
    def __init__(self, delegation: _Optional[_Union[Delegation, _Mapping]] = ...) -> None: ...

class ListDelegationsRequest(_message.Message):
    __slots__ = ("person_id", "active_at", "page_size", "page_token")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_AT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    active_at: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, person_id: _Optional[str] = ..., active_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDelegationsResponse(_message.Message):
    __slots__ = ("delegations", "next_page_token")
    DELEGATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    delegations: _containers.RepeatedCompositeFieldContainer[Delegation]
    next_page_token: str
    def __init__(self, delegations: _Optional[_Iterable[_Union[Delegation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SetSignatureImageRequest(_message.Message):
    __slots__ = ("person_id", "png")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    PNG_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    png: bytes
    def __init__(self, person_id: _Optional[str] = ..., png: _Optional[bytes] = ...) -> None: ...

class SetSignatureImageResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class SetSealImageRequest(_message.Message):
    __slots__ = ("png",)
    PNG_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    def __init__(self, png: _Optional[bytes] = ...) -> None: ...

class SetSealImageResponse(_message.Message):
    __slots__ = ("agency",)
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    agency: Agency
    def __init__(self, agency: _Optional[_Union[Agency, _Mapping]] = ...) -> None: ...

class ImportPeopleRequest(_message.Message):
    __slots__ = ("format", "content", "dry_run")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    format: ImportFormat
    content: bytes
    dry_run: bool
    def __init__(self, format: _Optional[_Union[ImportFormat, str]] = ..., content: _Optional[bytes] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ImportProblem(_message.Message):
    __slots__ = ("line", "field", "message")
    LINE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    line: int
    field: str
    message: str
    def __init__(self, line: _Optional[int] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ImportPeopleResponse(_message.Message):
    __slots__ = ("problems", "rows", "imported", "dry_run")
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    problems: _containers.RepeatedCompositeFieldContainer[ImportProblem]
    rows: int
    imported: int
    dry_run: bool
    def __init__(self, problems: _Optional[_Iterable[_Union[ImportProblem, _Mapping]]] = ..., rows: _Optional[int] = ..., imported: _Optional[int] = ..., dry_run: _Optional[bool] = ...) -> None: ...
