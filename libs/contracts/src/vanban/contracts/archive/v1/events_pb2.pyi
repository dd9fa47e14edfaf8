from vanban.contracts.archive.v1 import archive_pb2 as _archive_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ObjectStored(_message.Message):
    __slots__ = ("object",)
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    object: _archive_pb2.ObjectInfo
    def __init__(self, object: _Optional[_Union[_archive_pb2.ObjectInfo, _Mapping]] = ...) -> None: ...
