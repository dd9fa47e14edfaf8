"""Zip files written the same way every time: entries in the order given, one timestamp for
all, fixed permissions; text deflated, everything else (PDFs, images: compressed already)
stored."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

_DEFLATED_SUFFIXES = (".xml", ".txt", ".csv", ".json")
COPY_CHUNK = 1024 * 1024


def entry_info(arcname: str, *, size: int, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=_dos_time(when))
    info.external_attr = 0o100644 << 16
    info.create_system = 3  # Unix, so that the permissions above are read
    info.file_size = size
    if arcname.lower().endswith(_DEFLATED_SUFFIXES):
        info.compress_type = zipfile.ZIP_DEFLATED
    else:
        info.compress_type = zipfile.ZIP_STORED
    return info


def open_zip(out: BinaryIO | Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(out, "w", allowZip64=True)


def add_bytes(archive: zipfile.ZipFile, arcname: str, data: bytes, *, when: datetime) -> None:
    info = entry_info(arcname, size=len(data), when=when)
    with archive.open(info, "w") as sink:
        sink.write(data)


def add_file(archive: zipfile.ZipFile, arcname: str, path: Path, *, when: datetime) -> None:
    size = path.stat().st_size
    info = entry_info(arcname, size=size, when=when)
    # The size is on the entry beforehand: zipfile then writes ZIP64 records when needed.
    with path.open("rb") as source, archive.open(info, "w") as sink:
        shutil.copyfileobj(source, sink, COPY_CHUNK)


def zip_tree(root: Path, *, top: str, out: Path, when: datetime) -> None:
    """Every file under `root` into `out`, below one folder `top`, in path order."""
    files: Iterable[Path] = sorted(p for p in root.rglob("*") if p.is_file())
    with open_zip(out) as archive:
        for path in files:
            add_file(archive, f"{top}/{path.relative_to(root).as_posix()}", path, when=when)


def _dos_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    # A zip timestamp has no zone and cannot go before 1980.
    year = max(1980, min(when.year, 2107))
    return (year, when.month, when.day, when.hour, when.minute, when.second)
