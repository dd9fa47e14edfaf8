"""Incoming documents between the REST API and the documents contract."""

from __future__ import annotations

import json
from datetime import date

from pydantic import ValidationError

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.convert.common import enum_names, enum_values, from_message
from vanban.gateway.api.schemas.incoming_documents import (
    FileOut,
    IncomingDocumentOut,
    IncomingMetadataIn,
)
from vanban.platform.convert import from_timestamp
from vanban.platform.errors import FieldViolation, InvalidArgumentError, invalid_fields

PRIORITY_NAME = enum_names(docs.Priority)
SECRECY_NAME = enum_names(docs.Secrecy)
PRIORITY = enum_values(docs.Priority)
SECRECY = enum_values(docs.Secrecy)


def register_request(
    meta: IncomingMetadataIn, file: docs.FileRef
) -> docs.RegisterIncomingDocumentRequest:
    return docs.RegisterIncomingDocumentRequest(
        issuer_code=meta.issuer_code,
        issuer_name=meta.issuer_name,
        code_number=meta.code_number,
        code_notation=meta.code_notation,
        issued_date=meta.issued_date.isoformat(),
        document_type=meta.document_type,
        subject=meta.subject,
        priority=PRIORITY[meta.priority],
        secrecy=SECRECY[meta.secrecy],
        file=file,
    )


def incoming_out(document: docs.IncomingDocument) -> IncomingDocumentOut:
    return from_message(
        IncomingDocumentOut,
        document,
        arrived_at=from_timestamp(document.arrived_at),
        priority=PRIORITY_NAME.get(document.priority, "normal"),
        secrecy=SECRECY_NAME.get(document.secrecy, "none"),
        file=from_message(FileOut, document.file),
    )


def parse_metadata(raw: str, *, today: date) -> IncomingMetadataIn:
    """The `metadata` part of a registration, checked as documents would check it."""
    try:
        meta = IncomingMetadataIn.model_validate_json(raw)
    except ValidationError as exc:
        violations = tuple(
            FieldViolation(
                field="metadata" + "".join(f".{p}" for p in e["loc"]) if e["loc"] else "metadata",
                description=e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        )
        try:
            json.loads(raw)
        except ValueError:
            violations = (FieldViolation(field="metadata", description="must be a JSON object"),)
        raise InvalidArgumentError(
            "; ".join(f"{v.field}: {v.description}" for v in violations),
            reason="INVALID_METADATA",
            violations=violations,
        ) from None
    if meta.issued_date > today:
        # Checked here too, so that a refused registration never uploads its file.
        raise invalid_fields(
            {"metadata.issued_date": "cannot be later than today"}, reason="INVALID_METADATA"
        )
    return meta
