"""The dossier's metadata as XML (appendix VI field names), read back as an archive would."""

from __future__ import annotations

from datetime import date
from typing import Any

from lxml import etree

from vanban.archive.adapters.export.metadata import NAMESPACE, dossier_xml
from vanban.archive.adapters.export.model import (
    Coded,
    DossierMetadata,
    ExportDocument,
    ExportFile,
)

NS = {"d": NAMESPACE}


def make_meta(**overrides: Any) -> DossierMetadata:
    values: dict[str, Any] = {
        "dossier_id": "7f1c2d9e-0000-4000-8000-000000000001",
        "agency_code": "000.00.00.H99",
        "agency_name": "Ủy ban nhân dân tỉnh Hà Tĩnh",
        "year": 2026,
        "file_code": "000.00.00.H99.2026.01.TCCB",
        "title": "Hồ sơ tuyển dụng công chức năm 2026",
        "maintenance": Coded("02", "70 năm"),
        "rights": Coded("02", "Sử dụng có điều kiện"),
        "creator": "Phòng Tổ chức cán bộ",
        "language": "vi",
        "start_date": date(2026, 1, 5),
        "end_date": date(2026, 11, 30),
        "doc_total": 2,
        "page_total": 7,
        "description": "Hồ sơ gồm các quyết định tuyển dụng",
    }
    return DossierMetadata(**(values | overrides))


def make_document(position: int, **overrides: Any) -> ExportDocument:
    values: dict[str, Any] = {
        "position": position,
        "kind": "outgoing",
        "document_id": f"doc-{position}",
        "identifier": f"000.00.00.H99.2026.OUT.{position}",
        "code_number": f"{position:02d}",
        "code_notation": "QĐ-UBND",
        "issued_date": date(2026, 3, position),
        "issuer_name": "Ủy ban nhân dân tỉnh Hà Tĩnh",
        "document_type": "Quyết định",
        "subject": f"Về việc tuyển dụng công chức đợt {position}",
        "page_amount": 3,
        "secrecy": "none",
        "files": (
            ExportFile(
                sha256=f"{position:x}" * 64,
                size=1234,
                content_type="application/pdf",
                name=f"Quyết định {position}.pdf",
            ),
        ),
    }
    return ExportDocument(**(values | overrides))


def parse(xml: bytes) -> Any:
    return etree.fromstring(xml)


def text(root: Any, path: str) -> str:
    found = root.find(path, NS)
    assert found is not None, path
    return str(found.text or "")


def test_the_dossier_fields_carry_their_appendix_vi_names_and_values() -> None:
    root = parse(dossier_xml(make_meta(), [make_document(1)]))

    assert root.tag == f"{{{NAMESPACE}}}Dossier"
    assert root.get("id") == "7f1c2d9e-0000-4000-8000-000000000001"
    assert text(root, "d:FileCode") == "000.00.00.H99.2026.01.TCCB"
    assert text(root, "d:Title") == "Hồ sơ tuyển dụng công chức năm 2026"
    assert text(root, "d:Maintenance") == "70 năm"
    assert root.find("d:Maintenance", NS).get("code") == "02"
    assert text(root, "d:Rights") == "Sử dụng có điều kiện"
    assert root.find("d:Rights", NS).get("code") == "02"
    assert text(root, "d:Creator") == "Phòng Tổ chức cán bộ"
    assert text(root, "d:Language") == "vi"
    assert text(root, "d:StartDate") == "2026-01-05"
    assert text(root, "d:EndDate") == "2026-11-30"
    assert text(root, "d:DocTotal") == "2"
    assert text(root, "d:PageTotal") == "7"
    assert text(root, "d:Description") == "Hồ sơ gồm các quyết định tuyển dụng"
    assert text(root, "d:OrganId") == "000.00.00.H99"


def test_each_document_lists_its_fields_and_files_with_their_hash() -> None:
    root = parse(dossier_xml(make_meta(), [make_document(1)]))

    document = root.find("d:Documents/d:Document", NS)
    assert document.get("kind") == "outgoing"
    assert document.get("id") == "doc-1"
    assert text(document, "d:DocOrdinal") == "1"
    assert text(document, "d:TypeName") == "Quyết định"
    assert text(document, "d:CodeNumber") == "01"
    assert text(document, "d:CodeNotation") == "QĐ-UBND"
    assert text(document, "d:IssuedDate") == "2026-03-01"
    assert text(document, "d:OrganName") == "Ủy ban nhân dân tỉnh Hà Tĩnh"
    assert text(document, "d:Subject") == "Về việc tuyển dụng công chức đợt 1"
    assert text(document, "d:PageAmount") == "3"
    assert text(document, "d:Identifier") == "000.00.00.H99.2026.OUT.1"
    file = document.find("d:Files/d:File", NS)
    assert text(file, "d:FileName") == "Quyết định 1.pdf"
    assert text(file, "d:Path") == "documents/001-01-Quyet_dinh_1.pdf"
    assert text(file, "d:Sha256") == "1" * 64
    assert text(file, "d:Size") == "1234"


def test_documents_follow_the_dossier_order_and_a_document_without_files_stays() -> None:
    documents = [make_document(3), make_document(1), make_document(2, files=())]

    root = parse(dossier_xml(make_meta(), documents))

    ordinals = [e.text for e in root.findall("d:Documents/d:Document/d:DocOrdinal", NS)]
    assert ordinals == ["1", "2", "3"]
    empty = root.findall("d:Documents/d:Document", NS)[1]
    assert empty.findall("d:Files/d:File", NS) == []


def test_an_unknown_date_leaves_its_element_out() -> None:
    root = parse(
        dossier_xml(make_meta(start_date=None, end_date=None), [make_document(1, issued_date=None)])
    )

    assert root.find("d:StartDate", NS) is None
    assert root.find("d:EndDate", NS) is None
    assert root.find("d:Documents/d:Document/d:IssuedDate", NS) is None


def test_hostile_text_is_escaped_and_control_characters_replaced() -> None:
    subject = 'V/v <script>alert("x")</script> & ]]> \x00\x07\x1b end'
    hostile_name = "../../etc/passwd\x00.pdf"
    document = make_document(
        1,
        subject=subject,
        files=(
            ExportFile(sha256="a" * 64, size=1, content_type="application/pdf", name=hostile_name),
        ),
    )

    xml = dossier_xml(make_meta(title="<Title>&amp;", creator="A\x0bB"), [document])
    root = parse(xml)

    assert b"<script>" not in xml
    assert text(root, "d:Title") == "<Title>&amp;"
    assert text(root, "d:Creator") == "A\ufffdB"
    assert (
        text(root, "d:Documents/d:Document/d:Subject")
        == 'V/v <script>alert("x")</script> & ]]> \ufffd\ufffd\ufffd end'
    )
    file = root.find("d:Documents/d:Document/d:Files/d:File", NS)
    assert text(file, "d:FileName") == "../../etc/passwd\ufffd.pdf"
    assert text(file, "d:Path") == "documents/001-01-passwd.pdf"


def test_the_xml_is_utf8_with_a_declaration_and_the_same_every_time() -> None:
    first = dossier_xml(make_meta(), [make_document(1), make_document(2)])

    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "Hà Tĩnh".encode() in first
    assert first == dossier_xml(make_meta(), [make_document(2), make_document(1)])
