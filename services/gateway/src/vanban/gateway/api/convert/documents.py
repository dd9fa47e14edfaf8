"""Parts shared by incoming and outgoing documents, between the REST API and the contract."""

from __future__ import annotations

import json
from datetime import date
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.convert.common import enum_names, enum_values, from_message
from vanban.gateway.api.schemas.documents import (
    ArchiveOut,
    DigitizationOut,
    FileOut,
    RelationIn,
    RelationOut,
    SignerIn,
    SignerOut,
)
from vanban.platform.convert import from_timestamp
from vanban.platform.errors import FieldViolation, InvalidArgumentError

PRIORITY_NAME = enum_names(docs.Priority)
SECRECY_NAME = enum_names(docs.Secrecy)
STATUS_NAME = enum_names(docs.DocumentStatus)
COMPETENCE_NAME = enum_names(docs.SignerCompetence)
RELATION_NAME = enum_names(docs.RelationKind)
STATE_NAME = enum_names(docs.Digitization.State)
PRIORITY = enum_values(docs.Priority)
SECRECY = enum_values(docs.Secrecy)
COMPETENCE = enum_values(docs.SignerCompetence)
RELATION = enum_values(docs.RelationKind)

Part = TypeVar("Part", bound=BaseModel)


def parse_part(model: type[Part], raw: str, *, part: str = "metadata") -> Part:
    """A JSON part of a multipart body, its problems named `<part>.<field>`."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        violations = tuple(
            FieldViolation(
                field=part + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in e["loc"]),
                description=e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        )
        try:
            json.loads(raw)
        except ValueError:
            violations = (FieldViolation(field=part, description="must be a JSON object"),)
        raise InvalidArgumentError(
            "; ".join(f"{v.field}: {v.description}" for v in violations),
            reason="INVALID_METADATA",
            violations=violations,
        ) from None


def signer_pb(signer: SignerIn | None) -> docs.Signer | None:
    if signer is None:
        return None
    return docs.Signer(
        competence=COMPETENCE[signer.competence]
        if signer.competence
        else docs.SIGNER_COMPETENCE_UNSPECIFIED,
        position=signer.position,
        full_name=signer.full_name,
    )


def relation_pb(relation: RelationIn) -> docs.Relation:
    return docs.Relation(
        kind=RELATION[relation.kind],
        document_id=relation.document_id,
        identifier=relation.identifier,
        organ_id=relation.organ_id,
        code=relation.code,
        issued_date=relation.issued_date.isoformat() if relation.issued_date else "",
    )


def file_out(file: docs.FileRef) -> FileOut:
    return from_message(FileOut, file)


def signer_out(signer: docs.Signer) -> SignerOut | None:
    if not (signer.competence or signer.position or signer.full_name):
        return None
    return SignerOut(
        competence=COMPETENCE_NAME.get(signer.competence),
        position=signer.position,
        full_name=signer.full_name,
    )


def relation_out(relation: docs.Relation) -> RelationOut:
    return RelationOut(
        kind=RELATION_NAME[relation.kind],
        document_id=relation.document_id or None,
        identifier=relation.identifier or None,
        organ_id=relation.organ_id or None,
        code=relation.code or None,
        issued_date=date.fromisoformat(relation.issued_date) if relation.issued_date else None,
    )


def digitization_out(message: docs.Digitization) -> DigitizationOut | None:
    if message.state == docs.Digitization.STATE_UNSPECIFIED:
        return None
    return DigitizationOut(
        state=STATE_NAME[message.state],
        pages_total=message.pages_total,
        pages_done=message.pages_done,
        warnings=list(message.warnings),
        error=message.error or None,
    )


def archive_out(document: docs.IncomingDocument | docs.OutgoingDocument) -> ArchiveOut | None:
    if not document.HasField("archive"):
        return None
    record = document.archive
    return ArchiveOut(
        dossier_id=record.dossier_id,
        archived_at=from_timestamp(record.archived_at),
        destroyed_at=from_timestamp(record.destroyed_at)
        if record.HasField("destroyed_at")
        else None,
        disposition_id=record.disposition_id or None,
    )


def optional_date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None
