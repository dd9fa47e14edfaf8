"""Proto <-> domain conversion for the archive contracts."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.archive.domain.model import ObjectHeader, StoredObject
from vanban.contracts.archive.v1 import archive_pb2 as pb


def header_from_pb(header: pb.ObjectHeader) -> ObjectHeader:
    return ObjectHeader(
        content_type=header.content_type,
        file_name=header.file_name,
        declared_size=header.declared_size,
    )


def object_to_pb(obj: StoredObject) -> pb.ObjectInfo:
    created_at = Timestamp()
    created_at.FromDatetime(obj.created_at)
    return pb.ObjectInfo(
        sha256=obj.sha256, size=obj.size, content_type=obj.content_type, created_at=created_at
    )
