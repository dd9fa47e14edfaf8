from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
TEXT_FIELD_NUMBER: _ClassVar[int]
text: _descriptor.FieldDescriptor

class TextRules(_message.Message):
    __slots__ = ("required", "max_length", "pattern", "pattern_description")
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    PATTERN_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    required: bool
    max_length: int
    pattern: str
    pattern_description: str
    def __init__(self, required: _Optional[bool] = ..., max_length: _Optional[int] = ..., pattern: _Optional[str] = ..., pattern_description: _Optional[str] = ...) -> None: ...
