"""Parts shared by incoming and outgoing documents: signer, relations, recipients, files, the
text extraction's progress, and text limited as the documents contract declares."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from google.protobuf.descriptor import Descriptor
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.options.v1 import options_pb2

CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Priority = Literal["normal", "urgent", "very_urgent", "flash"]
Competence = Literal["tm", "q", "kt", "tl", "tuq"]
RelationKind = Literal["response_for", "amends", "replaces", "recalls"]
Status = Literal["registered", "draft", "issued", "cancelled", "recalled"]
RELATIONS_MAX = 20
RECIPIENTS_MAX = 500


def contract_rules(message: Descriptor, field: str) -> options_pb2.TextRules:
    """The rules the documents contract declares for a field of one of its requests."""
    return message.fields_by_name[field].GetOptions().Extensions[options_pb2.text]


def contract_text(message: Descriptor, field: str, description: str | None = None) -> Any:
    """A text field limited as the contract declares, so that what documents would refuse is
    refused here before any file is stored."""
    rules = contract_rules(message, field)
    if rules.required:
        return Field(min_length=1, max_length=rules.max_length or None, description=description)
    return Field("", max_length=rules.max_length or None, description=description)


def contract_formats(message: Descriptor) -> dict[str, tuple[re.Pattern[str], str]]:
    return {
        name: (re.compile(rules.pattern), rules.pattern_description)
        for name in message.fields_by_name
        if (rules := contract_rules(message, name)).pattern
    }


class Strict(BaseModel):
    """A body part from outside: unknown fields refused, text trimmed, no control characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _printable(cls, value: object) -> object:
        if isinstance(value, str) and CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value


_ORGAN_ID = contract_formats(docs.Recipient.DESCRIPTOR)["organ_id"]


def _organ_id(value: str) -> str:
    if value and not _ORGAN_ID[0].fullmatch(value):
        raise ValueError(f"must be {_ORGAN_ID[1]}")
    return value


class SignerIn(Strict):
    competence: Competence | None = Field(
        None, description="Thẩm quyền ký: TM., Q., KT., TL. or TUQ.; none when the head signs"
    )
    position: str = contract_text(docs.Signer.DESCRIPTOR, "position", "Chức vụ, e.g. Chủ tịch")
    full_name: str = contract_text(docs.Signer.DESCRIPTOR, "full_name")


class SignerOut(BaseModel):
    competence: Competence | None
    position: str
    full_name: str


class RelationIn(Strict):
    """Another document: of this registry (`document_id`), or named as edXML ResponseFor names
    one (its identifier, or organ and số/ký hiệu)."""

    kind: RelationKind
    document_id: str = Field("", max_length=36)
    identifier: str = contract_text(docs.Relation.DESCRIPTOR, "identifier")
    organ_id: str = contract_text(docs.Relation.DESCRIPTOR, "organ_id")
    code: str = contract_text(docs.Relation.DESCRIPTOR, "code", "Số/ký hiệu, e.g. 05/QĐ-UBND")
    issued_date: date | None = Field(None, strict=True)

    _check_organ = field_validator("organ_id")(_organ_id)


class RelationOut(BaseModel):
    kind: RelationKind
    document_id: str | None
    identifier: str | None
    organ_id: str | None
    code: str | None
    issued_date: date | None


class RecipientIn(Strict):
    organ_id: str = contract_text(
        docs.Recipient.DESCRIPTOR, "organ_id", "Mã định danh of the recipient"
    )
    organ_name: str = contract_text(docs.Recipient.DESCRIPTOR, "organ_name")

    _check_organ = field_validator("organ_id")(_organ_id)


class RecipientOut(BaseModel):
    organ_id: str
    organ_name: str | None


class FileOut(BaseModel):
    sha256: str
    size: int
    content_type: str
    file_name: str


class ArchiveOut(BaseModel):
    """Where the agency archive holds the document: set once a dossier holding it was handed
    over (the document is read-only from then on), and when a disposition destroyed it."""

    dossier_id: str = Field(description="The dossier (hồ sơ) whose handover made it read-only")
    archived_at: datetime
    destroyed_at: datetime | None = Field(
        description="When a disposition destroyed it: its files are gone, this record stays"
    )
    disposition_id: str | None


class DigitizationOut(BaseModel):
    """Text extraction of the main file (text layer or OCR), run after registration."""

    state: Literal["queued", "running", "done", "failed"]
    pages_total: int
    pages_done: int
    warnings: list[str] = Field(description="Where the file misses the digitization standard")
    error: str | None
