import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vanban.contracts.workflow.v1 import workflow_pb2 as _workflow_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IncomingDocumentAssigned(_message.Message):
    __slots__ = ("assignment", "occurred_at")
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    assignment: _workflow_pb2.Assignment
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, assignment: _Optional[_Union[_workflow_pb2.Assignment, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
