import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vanban.contracts.directory.v1 import directory_pb2 as _directory_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PersonUpserted(_message.Message):
    __slots__ = ("person", "occurred_at")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    person: _directory_pb2.Person
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, person: _Optional[_Union[_directory_pb2.Person, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AgencyUpdated(_message.Message):
    __slots__ = ("agency", "occurred_at")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    agency: _directory_pb2.Agency
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, agency: _Optional[_Union[_directory_pb2.Agency, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UnitUpserted(_message.Message):
    __slots__ = ("unit", "occurred_at")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    unit: _directory_pb2.Unit
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, unit: _Optional[_Union[_directory_pb2.Unit, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UnitDeleted(_message.Message):
    __slots__ = ("unit", "occurred_at")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    unit: _directory_pb2.Unit
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, unit: _Optional[_Union[_directory_pb2.Unit, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PersonDeactivated(_message.Message):
    __slots__ = ("person", "occurred_at")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    person: _directory_pb2.Person
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, person: _Optional[_Union[_directory_pb2.Person, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DelegationCreated(_message.Message):
    __slots__ = ("delegation", "occurred_at")
    DELEGATION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    delegation: _directory_pb2.Delegation
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, delegation: _Optional[_Union[_directory_pb2.Delegation, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DelegationRevoked(_message.Message):
    __slots__ = ("delegation", "occurred_at")
    DELEGATION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    delegation: _directory_pb2.Delegation
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, delegation: _Optional[_Union[_directory_pb2.Delegation, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
