"""A dossier as an E-ARK-style SIP, zipped:

    <id>/METS.xml                                  root METS: every file with its SHA-256
    <id>/metadata/descriptive/dossier.xml          the appendix VI metadata (`metadata`)
    <id>/representations/rep1/data/documents/...   the files as registered

The layout and the root METS follow the E-ARK Common Specification (CSIP) closely enough for
an archive to take the package apart; they do not claim CSIP conformance: there is no METS per
representation, no schemas folder, no PREMIS, and the descriptive metadata is our own schema
rather than EAD or Dublin Core. No validator of the specification has been run on it.

Files stream from the reader straight into the zip (no second copy on disk); the zip is
published under its name only once complete.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from vanban.archive.adapters.export.fetch import Fetcher, published
from vanban.archive.adapters.export.metadata import dossier_xml
from vanban.archive.adapters.export.model import (
    DossierMetadata,
    ExportDocument,
    Progress,
    Reader,
)
from vanban.archive.adapters.export.names import PayloadFile, package_name, payload_files
from vanban.archive.adapters.export.text import one_line, xml_text
from vanban.archive.adapters.export.zipping import add_bytes, entry_info, open_zip

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
DESCRIPTIVE_PATH = "metadata/descriptive/dossier.xml"
REPRESENTATION = "representations/rep1"
SOFTWARE = "Vanban archive"

_M = f"{{{METS_NS}}}"
_X = f"{{{XLINK_NS}}}"
_C = f"{{{CSIP_NS}}}"


async def build_eark(
    meta: DossierMetadata,
    documents: Iterable[ExportDocument],
    *,
    read: Reader,
    workdir: Path,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Path:
    """Builds `workdir/<file code>-sip.zip` and returns its path. Each file is checked against
    its registered SHA-256 and size as it streams (FixityMismatchError, and no zip, when it
    differs). `now` (default: the local time) dates the METS and every zip entry."""
    when = now if now is not None else datetime.now().astimezone()
    ordered = sorted(documents, key=lambda d: d.position)
    files = payload_files(ordered)
    name = package_name(meta)
    descriptive = dossier_xml(meta, ordered)
    mets = mets_xml(meta, files, descriptive=descriptive, package_id=name, created=when)
    fetcher = Fetcher(read, total=len(files), progress=progress)
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    final = workdir / f"{name}-sip.zip"
    async with published(final) as partial:
        archive = await asyncio.to_thread(open_zip, partial)
        try:
            await asyncio.to_thread(add_bytes, archive, f"{name}/METS.xml", mets, when=when)
            await asyncio.to_thread(
                add_bytes, archive, f"{name}/{DESCRIPTIVE_PATH}", descriptive, when=when
            )
            for item in files:
                arcname = f"{name}/{REPRESENTATION}/data/{item.path}"
                info = entry_info(arcname, size=item.file.size, when=when)
                sink = await asyncio.to_thread(archive.open, info, "w")
                try:
                    await fetcher.copy(item.file, sink)
                finally:
                    await asyncio.to_thread(sink.close)
        finally:
            await asyncio.to_thread(archive.close)
    return final


def mets_xml(
    meta: DossierMetadata,
    files: Sequence[PayloadFile],
    *,
    descriptive: bytes,
    package_id: str,
    created: datetime,
) -> bytes:
    """The root METS document of the package."""
    stamp = created.replace(microsecond=0).isoformat()
    root = etree.Element(_M + "mets", nsmap={"mets": METS_NS, "xlink": XLINK_NS, "csip": CSIP_NS})
    root.set("OBJID", package_id)
    root.set("LABEL", xml_text(one_line(meta.title)))
    root.set("TYPE", "OTHER")
    root.set(_C + "OTHERTYPE", "Dossier")

    header = _sub(root, "metsHdr", CREATEDATE=stamp, RECORDSTATUS="NEW")
    header.set(_C + "OAISPACKAGETYPE", "SIP")
    software = _sub(header, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    _sub(software, "name").text = SOFTWARE
    agency = _sub(header, "agent", ROLE="CREATOR", TYPE="ORGANIZATION")
    _sub(agency, "name").text = xml_text(one_line(meta.agency_name))
    _sub(agency, "note").text = xml_text(one_line(meta.agency_code))
    alternative = _sub(header, "altRecordID", TYPE="DOSSIER-ID")
    alternative.text = xml_text(meta.dossier_id)
    file_code = _sub(header, "altRecordID", TYPE="FILE-CODE")
    file_code.text = xml_text(meta.file_code)

    dmd = _sub(root, "dmdSec", ID="dmd-dossier", CREATED=stamp)
    _sub(
        dmd,
        "mdRef",
        LOCTYPE="URL",
        MDTYPE="OTHER",
        OTHERMDTYPE="VANBAN-DOSSIER",
        MIMETYPE="application/xml",
        SIZE=str(len(descriptive)),
        CREATED=stamp,
        CHECKSUM=hashlib.sha256(descriptive).hexdigest(),
        CHECKSUMTYPE="SHA-256",
        **{_X + "type": "simple", _X + "href": DESCRIPTIVE_PATH},
    )

    file_sec = _sub(root, "fileSec", ID="file-sec")
    group = _sub(file_sec, "fileGrp", ID="file-grp-rep1", USE="Representations/rep1")
    ids: dict[int, str] = {}
    for number, item in enumerate(files, start=1):
        file_id = f"file-{number:05d}"
        ids[id(item)] = file_id
        entry = _sub(
            group,
            "file",
            ID=file_id,
            MIMETYPE=xml_text(one_line(item.file.content_type)) or "application/octet-stream",
            SIZE=str(item.file.size),
            CREATED=stamp,
            CHECKSUM=item.file.sha256,
            CHECKSUMTYPE="SHA-256",
        )
        _sub(
            entry,
            "FLocat",
            LOCTYPE="URL",
            **{_X + "type": "simple", _X + "href": f"{REPRESENTATION}/data/{item.path}"},
        )

    struct = _sub(root, "structMap", ID="struct-map", TYPE="PHYSICAL", LABEL="CSIP")
    top = _sub(struct, "div", ID="div-root", LABEL=package_id)
    _sub(top, "div", ID="div-metadata", LABEL="Metadata", DMDID="dmd-dossier")
    representation = _sub(top, "div", ID="div-rep1", LABEL="Representations/rep1")
    seen: dict[int, Any] = {}
    for item in files:
        document = item.document
        div = seen.get(id(document))
        if div is None:
            div = _sub(
                representation,
                "div",
                ID=f"div-document-{len(seen) + 1:05d}",
                ORDER=str(document.position),
                LABEL=xml_text(one_line(document.subject)) or str(document.position),
            )
            seen[id(document)] = div
        _sub(div, "fptr", FILEID=ids[id(item)])
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _sub(parent: Any, tag: str, **attributes: str) -> Any:
    element = etree.SubElement(parent, _M + tag)
    for key, value in attributes.items():
        element.set(key, value)
    return element
