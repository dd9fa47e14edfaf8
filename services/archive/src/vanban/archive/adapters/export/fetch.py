"""Registered bytes to disk, checked as they arrive, and the places a build writes to.

Every file is streamed chunk by chunk (never whole in memory); its SHA-256 and size are
compared with the registered ones whatever the reader already checked, so that an export
never carries bytes other than those registered. A build works in a staging folder of its
own and publishes its result by one rename: a failed or cancelled build leaves nothing
behind that could be taken for an export.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from vanban.archive.adapters.export.model import ExportFile, Progress, Reader
from vanban.archive.domain.model import FixityCheck


class Fetcher:
    """Copies registered files for one build and reports (files done, files total)."""

    def __init__(self, read: Reader, *, total: int, progress: Progress | None) -> None:
        self._read = read
        self._total = total
        self._done = 0
        self._progress = progress
        self._report()

    async def copy(self, file: ExportFile, sink: IO[bytes]) -> None:
        """Writes the file's bytes to `sink`; FixityMismatchError when they are not the
        registered ones (the sink then holds a part of them: the caller discards it)."""
        check = FixityCheck(sha256=file.sha256, size=file.size)
        stream = self._read(file.sha256)
        try:
            async for chunk in stream:
                await asyncio.to_thread(_absorb, check, sink, chunk)
        finally:
            # Releases the store's connection when the copy stops early.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        check.verify()
        self._done += 1
        self._report()

    async def copy_to(self, file: ExportFile, path: Path) -> None:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        sink = await asyncio.to_thread(path.open, "wb")
        try:
            await self.copy(file, sink)
        finally:
            await asyncio.to_thread(sink.close)

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(self._done, self._total)


def _absorb(check: FixityCheck, sink: IO[bytes], chunk: bytes) -> None:
    check.feed(chunk)
    sink.write(chunk)


@contextlib.asynccontextmanager
async def staging(workdir: Path, prefix: str) -> AsyncIterator[Path]:
    """A fresh folder under `workdir` for one build, removed when the build ends."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    path = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=prefix, dir=workdir))
    try:
        yield path
    finally:
        await asyncio.to_thread(shutil.rmtree, path, ignore_errors=True)


@contextlib.asynccontextmanager
async def published(final: Path) -> AsyncIterator[Path]:
    """A path to write the result to; renamed to `final` when the block ends without an
    error, removed otherwise."""
    # Unique: two builds of one dossier into one folder must not write into each other.
    partial = final.with_name(f".{final.name}.{secrets.token_hex(6)}.part")
    try:
        yield partial
        await asyncio.to_thread(os.replace, partial, final)
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
