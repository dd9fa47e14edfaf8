import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vanban.contracts.documents.v1 import documents_pb2 as _documents_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IncomingDocumentRegistered(_message.Message):
    __slots__ = ("document", "agency_code", "occurred_at")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    AGENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    document: _documents_pb2.IncomingDocument
    agency_code: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, document: _Optional[_Union[_documents_pb2.IncomingDocument, _Mapping]] = ..., agency_code: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
