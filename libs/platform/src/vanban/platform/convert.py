"""Values every service converts alike between its domain and the contracts: timestamps, and the
secrecy and clearance enums as the one scale of `vanban.platform.clearance`."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.documents.v1 import documents_pb2
from vanban.platform.clearance import Clearance, Secrecy


def to_timestamp(value: datetime | None = None) -> Timestamp:
    """`value` (an aware datetime; now when omitted) as a protobuf Timestamp."""
    stamp = Timestamp()
    stamp.FromDatetime(value if value is not None else datetime.now(UTC))
    return stamp


def from_timestamp(value: Timestamp) -> datetime:
    """The Timestamp as an aware UTC datetime."""
    return value.ToDatetime(tzinfo=UTC)


def optional_datetime(message: Message, field: str) -> datetime | None:
    """The timestamp field as an aware UTC datetime, or None when it is not set."""
    if not message.HasField(field):
        return None
    value: Timestamp = getattr(message, field)
    return from_timestamp(value)


SECRECY_TO_PB = {
    Secrecy.NONE: documents_pb2.SECRECY_NONE,
    Secrecy.CONFIDENTIAL: documents_pb2.SECRECY_CONFIDENTIAL,
    Secrecy.SECRET: documents_pb2.SECRECY_SECRET,
    Secrecy.TOP_SECRET: documents_pb2.SECRECY_TOP_SECRET,
}
CLEARANCE_TO_PB = {
    Clearance.NONE: directory_pb2.CLEARANCE_NONE,
    Clearance.CONFIDENTIAL: directory_pb2.CLEARANCE_CONFIDENTIAL,
    Clearance.SECRET: directory_pb2.CLEARANCE_SECRET,
    Clearance.TOP_SECRET: directory_pb2.CLEARANCE_TOP_SECRET,
}
# Unspecified is the lowest: nothing is classified, and nobody cleared, by omission.
_SECRECY_FROM_PB: dict[int, Secrecy] = {
    documents_pb2.SECRECY_UNSPECIFIED: Secrecy.NONE,
    **{value: level for level, value in SECRECY_TO_PB.items()},
}
_CLEARANCE_FROM_PB: dict[int, Clearance] = {
    directory_pb2.CLEARANCE_UNSPECIFIED: Clearance.NONE,
    **{value: level for level, value in CLEARANCE_TO_PB.items()},
}


def secrecy_from_pb(value: int) -> Secrecy | None:
    """A document's `documents.v1.Secrecy`; None for a value this platform does not know (a
    newer producer's level), for the reader to fail closed on."""
    return _SECRECY_FROM_PB.get(value)


def clearance_from_pb(value: int) -> Clearance | None:
    """A person's `directory.v1.Clearance`; None for a value this platform does not know."""
    return _CLEARANCE_FROM_PB.get(value)
