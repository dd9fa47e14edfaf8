"""A dossier as a BagIt bag (RFC 8493, made by the `bagit` library), zipped with the bag as its
one top-level folder:

    <file code>/bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
    <file code>/data/metadata/dossier.xml
    <file code>/data/documents/001-01-<name>.pdf ...

`bagit.make_bag` changes the working directory of the whole process while it runs (os.chdir),
which would upset every other thread of the service (and a second bag made at the same time):
it runs in a short-lived Python process of its own instead of a thread.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from vanban.archive.adapters.export.fetch import Fetcher, published, staging
from vanban.archive.adapters.export.metadata import dossier_xml
from vanban.archive.adapters.export.model import DossierMetadata, ExportDocument, Progress, Reader
from vanban.archive.adapters.export.names import package_name, payload_files
from vanban.archive.adapters.export.text import one_line
from vanban.archive.adapters.export.zipping import zip_tree
from vanban.archive.domain.errors import FixityMismatchError

METADATA_PATH = "metadata/dossier.xml"
MANIFEST = "manifest-sha256.txt"
_MAKE_BAG = (
    "import json, sys\n"
    "import bagit\n"
    "bagit.make_bag(sys.argv[1], bag_info=json.load(sys.stdin), checksums=['sha256'])\n"
)


class BagCreationError(RuntimeError):
    """The `bagit` process failed; the message ends with what it wrote to stderr."""


def bag_info(meta: DossierMetadata, *, now: datetime) -> dict[str, str]:
    """The bag-info.txt fields: the reserved ones of RFC 8493 that apply, and the agency code."""
    return {
        "Source-Organization": one_line(meta.agency_name),
        "Agency-Identifier": one_line(meta.agency_code),
        "External-Identifier": one_line(meta.file_code),
        "External-Description": one_line(meta.title),
        "Internal-Sender-Identifier": one_line(meta.dossier_id),
        "Bagging-Date": now.date().isoformat(),
    }


async def build_bagit(
    meta: DossierMetadata,
    documents: Iterable[ExportDocument],
    *,
    read: Reader,
    workdir: Path,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Path:
    """Builds `workdir/<file code>-bagit.zip` and returns its path.

    Each file is streamed from `read` into the bag and checked against its registered SHA-256
    and size; once the bag is made, the SHA-256 bagit wrote in its manifest for each payload
    file is checked against the registered one as well. Any mismatch raises
    FixityMismatchError and leaves no zip behind. `now` (default: the local time) is the
    Bagging-Date and the timestamp of every zip entry: the same input and `now` give the
    same zip.
    """
    when = now if now is not None else datetime.now().astimezone()
    ordered = sorted(documents, key=lambda d: d.position)
    files = payload_files(ordered)
    xml = dossier_xml(meta, ordered)
    name = package_name(meta)
    fetcher = Fetcher(read, total=len(files), progress=progress)
    async with staging(workdir, ".bag-") as stage:
        bag_dir = stage / name
        metadata_file = bag_dir / METADATA_PATH
        await asyncio.to_thread(metadata_file.parent.mkdir, parents=True)
        await asyncio.to_thread(metadata_file.write_bytes, xml)
        for item in files:
            await fetcher.copy_to(item.file, bag_dir / item.path)
        await _make_bag(bag_dir, bag_info(meta, now=when))

        manifest = await asyncio.to_thread(read_manifest, bag_dir / MANIFEST)
        expected = {f"data/{item.path}": item.file.sha256 for item in files}
        for path, sha256 in expected.items():
            if manifest.get(path) != sha256:
                raise FixityMismatchError(
                    "the bag's manifest does not give a file its registered SHA-256",
                    metadata={
                        "path": path,
                        "sha256": sha256,
                        "manifest_sha256": manifest.get(path, ""),
                    },
                )
        unexpected = set(manifest) - set(expected) - {f"data/{METADATA_PATH}"}
        if unexpected:
            raise FixityMismatchError(
                "the bag holds payload files that were not registered",
                metadata={"paths": ", ".join(sorted(unexpected))},
            )

        final = workdir / f"{name}-bagit.zip"
        async with published(final) as partial:
            await asyncio.to_thread(zip_tree, bag_dir, top=name, out=partial, when=when)
    return final


def read_manifest(path: Path) -> dict[str, str]:
    """Payload path -> checksum, from a bag's manifest (`<checksum>  <path>` lines; CR and LF
    in paths are written %0D and %0A)."""
    entries: dict[str, str] = {}
    with path.open(encoding="utf-8") as manifest:
        for line in manifest:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            checksum, _, name = line.partition(" ")
            name = name.lstrip(" ").replace("%0A", "\n").replace("%0D", "\r")
            entries[name] = checksum.lower()
    return entries


async def _make_bag(bag_dir: Path, info: dict[str, str]) -> None:
    # -I: neither the environment nor the working directory decide what the child imports.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-c",
        _MAKE_BAG,
        str(bag_dir),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        cwd=bag_dir.parent,
    )
    try:
        _, stderr = await process.communicate(json.dumps(info).encode())
    except BaseException:
        # Cancelled: the bag is abandoned, and so is the process making it.
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace")[-2000:]
        raise BagCreationError(f"bagit exited with status {process.returncode}: {tail}")
