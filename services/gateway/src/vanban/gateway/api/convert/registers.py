"""Registers and document types: documents' messages to API bodies."""

from __future__ import annotations

from typing import Literal

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.schemas.registers import DocumentTypeOut, RegisterOut
from vanban.platform.convert import secrecy_from_pb

_DIRECTIONS: dict[int, Literal["incoming", "outgoing"]] = {
    docs.DIRECTION_INCOMING: "incoming",
    docs.DIRECTION_OUTGOING: "outgoing",
}


def register_out(register: docs.NumberingRegister) -> RegisterOut:
    return RegisterOut(
        id=register.id,
        name=register.name,
        direction=_DIRECTIONS[register.direction],
        secrecy_levels=[
            level.value
            for value in register.secrecy_levels
            if (level := secrecy_from_pb(value)) is not None
        ],
        document_types=list(register.document_types),
    )


def document_type_out(document_type: docs.DocumentType) -> DocumentTypeOut:
    return DocumentTypeOut(name=document_type.name, abbreviation=document_type.abbreviation or None)
