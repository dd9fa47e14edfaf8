import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vanban.contracts.options.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_NORMAL: _ClassVar[Priority]
    PRIORITY_URGENT: _ClassVar[Priority]
    PRIORITY_VERY_URGENT: _ClassVar[Priority]
    PRIORITY_FLASH: _ClassVar[Priority]

class Secrecy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SECRECY_UNSPECIFIED: _ClassVar[Secrecy]
    SECRECY_NONE: _ClassVar[Secrecy]
    SECRECY_CONFIDENTIAL: _ClassVar[Secrecy]
    SECRECY_SECRET: _ClassVar[Secrecy]
    SECRECY_TOP_SECRET: _ClassVar[Secrecy]
PRIORITY_UNSPECIFIED: Priority
PRIORITY_NORMAL: Priority
PRIORITY_URGENT: Priority
PRIORITY_VERY_URGENT: Priority
PRIORITY_FLASH: Priority
SECRECY_UNSPECIFIED: Secrecy
SECRECY_NONE: Secrecy
SECRECY_CONFIDENTIAL: Secrecy
SECRECY_SECRET: Secrecy
SECRECY_TOP_SECRET: Secrecy

class FileRef(_message.Message):
    __slots__ = ("sha256", "size", "content_type", "file_name")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    size: int
    content_type: str
    file_name: str
    def __init__(self, sha256: _Optional[str] = ..., size: _Optional[int] = ..., content_type: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class IncomingDocument(_message.Message):
    __slots__ = ("id", "arrival_number", "arrival_year", "arrived_at", "issuer_code", "issuer_name", "code_number", "code_notation", "issued_date", "document_type", "subject", "priority", "secrecy", "file", "registered_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_YEAR_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ISSUER_CODE_FIELD_NUMBER: _ClassVar[int]
    ISSUER_NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CODE_NOTATION_FIELD_NUMBER: _ClassVar[int]
    ISSUED_DATE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SECRECY_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    arrival_number: int
    arrival_year: int
    arrived_at: _timestamp_pb2.Timestamp
    issuer_code: str
    issuer_name: str
    code_number: str
    code_notation: str
    issued_date: str
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    file: FileRef
    registered_by: str
    def __init__(self, id: _Optional[str] = ..., arrival_number: _Optional[int] = ..., arrival_year: _Optional[int] = ..., arrived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., issuer_code: _Optional[str] = ..., issuer_name: _Optional[str] = ..., code_number: _Optional[str] = ..., code_notation: _Optional[str] = ..., issued_date: _Optional[str] = ..., document_type: _Optional[str] = ..., subject: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., secrecy: _Optional[_Union[Secrecy, str]] = ..., file: _Optional[_Union[FileRef, _Mapping]] = ..., registered_by: _Optional[str] = ...) -> None: ...

class RegisterIncomingDocumentRequest(_message.Message):
    __slots__ = ("issuer_code", "issuer_name", "code_number", "code_notation", "issued_date", "document_type", "subject", "priority", "secrecy", "file")
    ISSUER_CODE_FIELD_NUMBER: _ClassVar[int]
    ISSUER_NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CODE_NOTATION_FIELD_NUMBER: _ClassVar[int]
    ISSUED_DATE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SECRECY_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    issuer_code: str
    issuer_name: str
    code_number: str
    code_notation: str
    issued_date: str
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    file: FileRef
    def __init__(self, issuer_code: _Optional[str] = ..., issuer_name: _Optional[str] = ..., code_number: _Optional[str] = ..., code_notation: _Optional[str] = ..., issued_date: _Optional[str] = ..., document_type: _Optional[str] = ..., subject: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., secrecy: _Optional[_Union[Secrecy, str]] = ..., file: _Optional[_Union[FileRef, _Mapping]] = ...) -> None: ...

class RegisterIncomingDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: IncomingDocument
    def __init__(self, document: _Optional[_Union[IncomingDocument, _Mapping]] = ...) -> None: ...

class GetIncomingDocumentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetIncomingDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: IncomingDocument
    def __init__(self, document: _Optional[_Union[IncomingDocument, _Mapping]] = ...) -> None: ...
