"""Uploads wait in a spool file while they arrive, so that nothing reaches the store unmeasured."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from vanban.archive.domain.model import ContentMeter


class Spool:
    """One temporary file for one upload; removed when the upload ends, stored or not."""

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory
        self._file: BinaryIO | None = None
        self.path: Path | None = None

    async def __aenter__(self) -> Spool:
        if self._directory is not None:
            self._directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self._directory)
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        return self

    async def write(self, meter: ContentMeter, chunk: bytes) -> None:
        """Measures the chunk (which may refuse it) and then appends it to the file."""
        await asyncio.to_thread(self._absorb, meter, chunk)

    def _absorb(self, meter: ContentMeter, chunk: bytes) -> None:
        meter.feed(chunk)
        assert self._file is not None
        self._file.write(chunk)

    async def seal(self) -> Path:
        """Flushes the file; the path stays valid until the spool is left."""
        assert self._file is not None and self.path is not None
        await asyncio.to_thread(self._file.close)
        return self.path

    async def __aexit__(self, *exc_info: object) -> None:
        # Runs on success, on a refused upload and on a cancelled call alike.
        if self._file is not None:
            self._file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
