"""The dossier's metadata as XML: the fields of appendix VI for the dossier and for each of its
documents, plus what an export adds (the files, their SHA-256 and their paths in the export).

Element names are those of the appendix; the namespace is ours, versioned in its name. Dates
are ISO 8601; an unknown date leaves its element out. Text the XML cannot carry (control
characters) is replaced by U+FFFD.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree

from vanban.archive.adapters.export.model import DossierMetadata, ExportDocument
from vanban.archive.adapters.export.names import PayloadFile, payload_files
from vanban.archive.adapters.export.text import iso_date, xml_text

NAMESPACE = "urn:vanban:archive:dossier:1"
_NS = f"{{{NAMESPACE}}}"


def _add(parent: Any, tag: str, text: str | int | None, **attributes: str) -> Any:
    element = etree.SubElement(parent, _NS + tag)
    for key, value in attributes.items():
        element.set(key, xml_text(value))
    if text is not None:
        element.text = xml_text(str(text))
    return element


def dossier_xml(meta: DossierMetadata, documents: Iterable[ExportDocument]) -> bytes:
    """The metadata of the dossier and its documents, UTF-8 with an XML declaration."""
    ordered = sorted(documents, key=lambda d: d.position)
    by_document: dict[int, list[PayloadFile]] = {}
    for item in payload_files(ordered):
        by_document.setdefault(id(item.document), []).append(item)

    root = etree.Element(_NS + "Dossier", nsmap={None: NAMESPACE})
    root.set("id", xml_text(meta.dossier_id))
    _add(root, "OrganId", meta.agency_code)
    _add(root, "OrganName", meta.agency_name)
    _add(root, "FileCode", meta.file_code)
    _add(root, "Year", meta.year)
    _add(root, "Title", meta.title)
    _add(root, "Maintenance", meta.maintenance.label, code=meta.maintenance.code)
    _add(root, "Rights", meta.rights.label, code=meta.rights.code)
    _add(root, "Creator", meta.creator)
    _add(root, "Language", meta.language)
    if meta.start_date is not None:
        _add(root, "StartDate", iso_date(meta.start_date))
    if meta.end_date is not None:
        _add(root, "EndDate", iso_date(meta.end_date))
    _add(root, "DocTotal", meta.doc_total)
    _add(root, "PageTotal", meta.page_total)
    _add(root, "Description", meta.description)

    container = _add(root, "Documents", None)
    for document in ordered:
        element = _add(container, "Document", None, id=document.document_id, kind=document.kind)
        _add(element, "DocOrdinal", document.position)
        _add(element, "Identifier", document.identifier)
        _add(element, "TypeName", document.document_type)
        _add(element, "CodeNumber", document.code_number)
        _add(element, "CodeNotation", document.code_notation)
        if document.issued_date is not None:
            _add(element, "IssuedDate", iso_date(document.issued_date))
        _add(element, "OrganName", document.issuer_name)
        _add(element, "Subject", document.subject)
        _add(element, "PageAmount", document.page_amount)
        _add(element, "Secrecy", document.secrecy)
        listing = _add(element, "Files", None)
        for item in by_document.get(id(document), []):
            file_element = _add(listing, "File", None)
            _add(file_element, "Path", item.path)
            _add(file_element, "FileName", item.file.name)
            _add(file_element, "ContentType", item.file.content_type)
            _add(file_element, "Size", item.file.size)
            _add(file_element, "Sha256", item.file.sha256)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
