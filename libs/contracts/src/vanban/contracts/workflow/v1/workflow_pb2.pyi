import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Assignment(_message.Message):
    __slots__ = ("id", "document_id", "lead_unit", "coordinating_units", "informed_units", "opinion", "deadline", "assigned_by", "on_behalf_of", "assigned_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_UNIT_FIELD_NUMBER: _ClassVar[int]
    COORDINATING_UNITS_FIELD_NUMBER: _ClassVar[int]
    INFORMED_UNITS_FIELD_NUMBER: _ClassVar[int]
    OPINION_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_BY_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    document_id: str
    lead_unit: str
    coordinating_units: _containers.RepeatedScalarFieldContainer[str]
    informed_units: _containers.RepeatedScalarFieldContainer[str]
    opinion: str
    deadline: str
    assigned_by: str
    on_behalf_of: str
    assigned_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., document_id: _Optional[str] = ..., lead_unit: _Optional[str] = ..., coordinating_units: _Optional[_Iterable[str]] = ..., informed_units: _Optional[_Iterable[str]] = ..., opinion: _Optional[str] = ..., deadline: _Optional[str] = ..., assigned_by: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., assigned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AssignIncomingDocumentRequest(_message.Message):
    __slots__ = ("document_id", "lead_unit", "coordinating_units", "informed_units", "opinion", "deadline", "on_behalf_of")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_UNIT_FIELD_NUMBER: _ClassVar[int]
    COORDINATING_UNITS_FIELD_NUMBER: _ClassVar[int]
    INFORMED_UNITS_FIELD_NUMBER: _ClassVar[int]
    OPINION_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    lead_unit: str
    coordinating_units: _containers.RepeatedScalarFieldContainer[str]
    informed_units: _containers.RepeatedScalarFieldContainer[str]
    opinion: str
    deadline: str
    on_behalf_of: str
    def __init__(self, document_id: _Optional[str] = ..., lead_unit: _Optional[str] = ..., coordinating_units: _Optional[_Iterable[str]] = ..., informed_units: _Optional[_Iterable[str]] = ..., opinion: _Optional[str] = ..., deadline: _Optional[str] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class AssignIncomingDocumentResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: Assignment
    def __init__(self, assignment: _Optional[_Union[Assignment, _Mapping]] = ...) -> None: ...

class GetAssignmentRequest(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class GetAssignmentResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: Assignment
    def __init__(self, assignment: _Optional[_Union[Assignment, _Mapping]] = ...) -> None: ...
