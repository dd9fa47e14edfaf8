"""Trust roots kept outside the database: every CA certificate in a directory of PEM files.

In production the directory holds the national roots (the Government CA of Ban Cơ yếu Chính
phủ, mounted from a ConfigMap); in the embedded default the launcher puts there the development
CA of every agency it runs, so that one agency's signatures (a package over the axis, a signed
PDF) are trusted by the others. The directory is read again when its files change.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from vanban.signing.domain.certificates import is_ca

logger = logging.getLogger(__name__)

# A trust directory is a handful of roots; more is a mistake worth refusing to read.
MAX_FILES = 1000
MAX_FILE_BYTES = 1024 * 1024


class TrustDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[tuple[str, int, int], ...] | None = None
        self._roots: list[x509.Certificate] = []

    def roots(self) -> list[x509.Certificate]:
        """The CA certificates of the directory's `*.pem` files (the others are skipped with a
        warning), read again when a file was added, removed or changed."""
        files = self._files()
        state = tuple((f.name, *_stamp(f)) for f in files)
        if state != self._seen:
            self._roots = [root for f in files for root in _read_roots(f)]
            self._seen = state
        return list(self._roots)

    def _files(self) -> list[Path]:
        try:
            files = sorted(self.path.glob("*.pem"))
        except OSError:
            return []
        if len(files) > MAX_FILES:
            logger.warning(
                "the trust directory has too many files; only the first are read",
                extra={"path": str(self.path), "max_files": MAX_FILES},
            )
        return files[:MAX_FILES]


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _read_roots(path: Path) -> list[x509.Certificate]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        logger.warning(
            "a trust directory file is not read", extra={"path": str(path), "error": str(exc)}
        )
        return []
    return [c for c in certificates if is_ca(c)]


def export_certificate(certificate: x509.Certificate, path: Path) -> None:
    """Writes `certificate` as PEM to `path` atomically (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_bytes(certificate.public_bytes(Encoding.PEM))
    os.replace(temporary, path)
