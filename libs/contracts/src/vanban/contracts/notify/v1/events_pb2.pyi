from vanban.contracts.notify.v1 import notify_pb2 as _notify_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationRecorded(_message.Message):
    __slots__ = ("notification",)
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    notification: _notify_pb2.Notification
    def __init__(self, notification: _Optional[_Union[_notify_pb2.Notification, _Mapping]] = ...) -> None: ...
