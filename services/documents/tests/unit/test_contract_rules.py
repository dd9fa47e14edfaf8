"""The rules the contract declares on RegisterIncomingDocumentRequest (which the gateway checks
before it stores a file) are exactly the rules documents applies: same limits, same format."""

from __future__ import annotations

import re
from datetime import date

import pytest

from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.options.v1 import options_pb2
from vanban.documents.domain import model
from vanban.documents.domain.model import FileRef, IncomingDraft, Priority
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import InvalidArgumentError

FIELDS = documents_pb2.RegisterIncomingDocumentRequest.DESCRIPTOR.fields_by_name
DOMAIN_LIMITS = {
    "issuer_code": model.ISSUER_CODE_MAX,
    "issuer_name": model.ISSUER_NAME_MAX,
    "code_number": model.CODE_NUMBER_MAX,
    "code_notation": model.CODE_NOTATION_MAX,
    "document_type": model.TYPE_NAME_MAX,
    "subject": model.SUBJECT_MAX,
    "identifier": model.IDENTIFIER_MAX,
    "description": model.DESCRIPTION_MAX,
}
OPTIONAL = {"identifier", "description"}


def rules(field: str) -> options_pb2.TextRules:
    return FIELDS[field].GetOptions().Extensions[options_pb2.text]


def test_every_text_field_declares_the_domains_limit() -> None:
    declared = {
        name: rules(name).max_length
        for name, field in FIELDS.items()
        if field.GetOptions().HasExtension(options_pb2.text)
    }
    assert declared == DOMAIN_LIMITS
    assert {name for name in declared if not rules(name).required} == OPTIONAL


def test_the_issuer_code_format_is_the_domains() -> None:
    assert rules("issuer_code").pattern == model.ISSUER_CODE_PATTERN


def test_the_so_format_is_the_domains() -> None:
    assert rules("code_number").pattern == model.CODE_NUMBER_PATTERN


def draft(issuer_code: str) -> IncomingDraft:
    return IncomingDraft(
        issuer_code=issuer_code,
        issuer_name="Văn phòng Chính phủ",
        code_number="05",
        code_notation="QĐ-VPCP",
        issued_date="2026-01-05",
        document_type="Quyết định",
        subject="V/v kiểm tra",
        priority=Priority.NORMAL,
        secrecy=Secrecy.NONE,
        file=FileRef(sha256="a" * 64, size=1, content_type="application/pdf", file_name="a.pdf"),
    )


@pytest.mark.parametrize(
    "code",
    ["000.00.00.G22", "H41", "000.00.00.H99", "abc", "000-00", " G22 ", "G 22", ".G22", "Ǵ22"],
)
def test_the_declared_pattern_accepts_exactly_what_documents_accepts(code: str) -> None:
    declared = rules("issuer_code")
    trimmed = code.strip()
    contract_ok = bool(re.fullmatch(declared.pattern, trimmed)) and (
        len(trimmed) <= declared.max_length
    )
    try:
        draft(code).validated(arrival_day=date(2026, 1, 6))
        domain_ok = True
    except InvalidArgumentError:
        domain_ok = False
    assert contract_ok == domain_ok
