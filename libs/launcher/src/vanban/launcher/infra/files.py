"""Files that hold secrets or logs: created private (0600), written atomically.

Every other local user of the machine must not read passwords, keys, state or logs (logs can
carry document numbers and people's names), so nothing here relies on the caller's umask.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path
from typing import IO, Any

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path, *, mode: int = PRIVATE_DIR) -> Path:
    """Create ``path`` (and missing parents) and set its mode, whatever it was before."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by its owner only, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


def open_private_log(path: Path) -> IO[bytes]:
    """Open ``path`` for appending, creating it 0600; an older, wider log is narrowed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return os.fdopen(fd, "ab")


def new_password() -> str:
    # URL-safe, so it can sit in a DSN or a NATS URL without quoting.
    return secrets.token_urlsafe(24)


class SecretStore:
    """Generated credentials kept in one 0600 JSON file, made once and reused on every start.

    Values are addressed by a path of keys (``("postgres", "roles", "h99_documents")``) and
    generated the first time they are asked for, so a restart finds the same passwords the
    servers were configured with.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict):
            raise ValueError(f"{self.path} is not a JSON object")
        # A copy restored from a backup may have come back with the umask's mode.
        self.path.chmod(PRIVATE_FILE)
        return data

    def get(self, *keys: str, generate: Any = new_password) -> Any:
        """The value at ``keys``; made with ``generate()`` and saved if it is not there yet."""
        with self._lock:
            node = self._data
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            if keys[-1] not in node:
                node[keys[-1]] = generate()
                write_private(self.path, json.dumps(self._data, indent=2, sort_keys=True))
            return node[keys[-1]]
