"""Names of the files inside an export.

A clerk's file name may be empty, repeat across documents, hold slashes, "..", control
characters or thousands of characters; it is never used as a path. Each file gets a name made
of the document's position, the file's place in the document and a tame form of what the clerk
typed (`documents/003-01-Quyet_dinh_so_12.pdf`): unique, sortable in the dossier's order, the
same for the same input, and safe on every file system and zip tool (ASCII letters, digits,
".", "_" and "-"). The original name is kept in the metadata.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from vanban.archive.adapters.export.model import DossierMetadata, ExportDocument, ExportFile

DOCUMENTS_DIR = "documents"
STEM_MAX = 80
PACKAGE_NAME_MAX = 100
FALLBACK_STEM = "file"

# Extensions for files uploaded without one; fixed here rather than read from the host's
# mimetypes tables so that every machine names the same file alike.
_EXTENSIONS = {
    "application/pdf": "pdf",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/plain": "txt",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tif",
    "application/zip": "zip",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")
_EXTENSION = re.compile(r"^(?P<stem>.*)\.(?P<ext>[A-Za-z0-9]{1,10})\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class PayloadFile:
    """One file of one document and the path it takes in an export, relative to the folder
    that holds the payload (`data/` of a bag, `representations/rep1/data/` of a SIP)."""

    document: ExportDocument
    file: ExportFile
    index: int
    path: str


def ascii_name(text: str) -> str:
    """`text` in ASCII letters, digits, ".", "_" and "-": Vietnamese letters lose their marks
    ("Quyết định" -> "Quyet_dinh"), anything else becomes "_"; may be empty."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    tamed = _DOTS.sub(".", _UNSAFE.sub("_", bare))
    return tamed.strip("._-")


def safe_file_name(name: str, *, content_type: str, limit: int = STEM_MAX) -> str:
    """A file name (no folder) safe on any file system, keeping a short extension, or one
    taken from `content_type` when there is none."""
    # Only the last path segment can be a name; the clerk's folders are noise here.
    base = re.split(r"[/\\]", name)[-1].strip()
    stem, extension = base, ""
    match = _EXTENSION.match(base)
    if match:
        stem, extension = match["stem"], match["ext"].lower()
    if not extension:
        media_type = content_type.split(";", 1)[0].strip().lower()
        extension = _EXTENSIONS.get(media_type, "")
    stem = ascii_name(stem)[:limit].rstrip("._-") or FALLBACK_STEM
    return f"{stem}.{extension}" if extension else stem


def payload_files(documents: Iterable[ExportDocument]) -> tuple[PayloadFile, ...]:
    """Every file of `documents` in the dossier's order, each with a unique path under
    `documents/`; the same documents always give the same paths."""
    ordered = sorted(documents, key=lambda d: d.position)
    width = max(3, *(len(str(d.position)) for d in ordered)) if ordered else 3
    taken: set[str] = set()
    result: list[PayloadFile] = []
    for document in ordered:
        index_width = max(2, len(str(len(document.files))))
        for index, file in enumerate(document.files, start=1):
            name = safe_file_name(file.name, content_type=file.content_type)
            prefix = f"{document.position:0{width}d}-{index:0{index_width}d}"
            candidate = f"{prefix}-{name}"
            stem, dot, extension = name.rpartition(".") if "." in name else (name, "", "")
            copy = 1
            # Two documents may share a position; case-insensitive file systems (Windows,
            # macOS) would also merge names differing only in case.
            while candidate.lower() in taken:
                copy += 1
                candidate = f"{prefix}-{stem}-{copy}{dot}{extension}"
            taken.add(candidate.lower())
            result.append(
                PayloadFile(
                    document=document,
                    file=file,
                    index=index,
                    path=f"{DOCUMENTS_DIR}/{candidate}",
                )
            )
    return tuple(result)


def package_name(meta: DossierMetadata) -> str:
    """The top folder and file name stem of an export: the file code in safe characters."""
    for candidate in (meta.file_code, meta.dossier_id):
        name = ascii_name(candidate)[:PACKAGE_NAME_MAX].rstrip("._-")
        if name:
            return name
    return "dossier"
