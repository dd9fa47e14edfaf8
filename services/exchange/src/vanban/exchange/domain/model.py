"""The exchange's words (DOMAIN.md, "Exchange between agencies"): business status codes, the
states of the inbox and of transmissions."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """edXML StatusCode (QCVN 102:2016)."""

    ARRIVED = "01"  # đã đến: not yet handled by the clerk
    REJECTED = "02"  # từ chối tiếp nhận, with the reason
    REGISTERED = "03"  # đã tiếp nhận, vào sổ
    ASSIGNED = "04"  # đã phân công
    IN_PROGRESS = "05"  # đang xử lý
    COMPLETED = "06"  # hoàn thành
    RECALL_ASKED = "13"  # the sender asks to take back, update or replace
    RECALL_AGREED = "15"  # the receiver agrees
    RECALL_REFUSED = "16"  # the receiver refuses


class InboxState(StrEnum):
    RECEIVED = "received"
    REGISTERED = "registered"
    REJECTED = "rejected"
    REFUSED = "refused"
    DUPLICATE = "duplicate"


class TransportState(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"


class BusinessDocType:
    """edXML BussinessDocType."""

    NEW = 0
    RECALL = 1
    UPDATE = 2
    REPLACE = 3


# What the receiver's status says in Vietnamese when no other description is given.
DESCRIPTIONS = {
    Status.ARRIVED: "Văn bản đã đến, chờ văn thư tiếp nhận",
    Status.REGISTERED: "Văn bản đã được tiếp nhận và vào sổ văn bản đến",
    Status.ASSIGNED: "Văn bản đã được phân công xử lý",
    Status.IN_PROGRESS: "Văn bản đang được xử lý",
    Status.COMPLETED: "Văn bản đã được xử lý xong",
}
