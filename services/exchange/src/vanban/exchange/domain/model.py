"""The exchange's words (DOMAIN.md, "Exchange between agencies"): the states of the inbox and of
transmissions, and what each business status says (the codes are edXML's, `edxml.StatusCode`)."""

from __future__ import annotations

from enum import StrEnum

from vanban.exchange.domain.edxml import StatusCode


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


# What the receiver's status says in Vietnamese when no other description is given.
DESCRIPTIONS = {
    StatusCode.ARRIVED: "Văn bản đã đến, chờ văn thư tiếp nhận",
    StatusCode.ACCEPTED: "Văn bản đã được tiếp nhận và vào sổ văn bản đến",
    StatusCode.ASSIGNED: "Văn bản đã được phân công xử lý",
    StatusCode.IN_PROGRESS: "Văn bản đang được xử lý",
    StatusCode.COMPLETED: "Văn bản đã được xử lý xong",
}
