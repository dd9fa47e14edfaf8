"""OCR by Debian's tesseract (`tesseract-ocr`, `tesseract-ocr-vie`) as a subprocess: the page
image on stdin, the text on stdout, no shell, a time limit, stderr kept for the error."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import dataclass

from vanban.documents.adapters.pdf.reader import RenderedPage

STDERR_KEPT = 500  # characters of tesseract's stderr kept in an error


class OcrError(Exception):
    """Tesseract is missing, failed or ran out of time; the message says which, for the job's
    `error` column."""


@dataclass(frozen=True, slots=True)
class Tesseract:
    languages: str = "vie+eng"
    timeout_seconds: float = 180.0
    # OpenMP threads per page (OMP_THREAD_LIMIT); None leaves tesseract's default (all cores).
    threads: int | None = None
    executable: str = "tesseract"

    def available(self) -> bool:
        return shutil.which(self.executable) is not None

    async def read(self, page: RenderedPage) -> str:
        """The text tesseract reads on the page."""
        env = dict(os.environ)
        if self.threads is not None:
            env["OMP_THREAD_LIMIT"] = str(self.threads)
        argv = [
            self.executable,
            "stdin",
            "stdout",
            "-l",
            self.languages,
            "--dpi",
            str(page.dpi),
        ]
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
        except FileNotFoundError:
            raise OcrError(
                f"{self.executable} is not installed (Debian packages tesseract-ocr and "
                "tesseract-ocr-vie)"
            ) from None
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(page.pgm), timeout=self.timeout_seconds
            )
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise OcrError(
                f"tesseract took longer than {self.timeout_seconds:.0f} s on one page"
            ) from None
        except BaseException:
            # Cancelled (the worker is stopping): no tesseract is left running.
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            detail = stderr.decode("utf-8", "replace").strip()[-STDERR_KEPT:]
            raise OcrError(f"tesseract exited with status {process.returncode}: {detail}")
        return stdout.decode("utf-8", "replace")
