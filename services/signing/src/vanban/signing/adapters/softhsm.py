"""A SoftHSM2 token for the embedded default and the tests (ADR 0011, 1).

python-pkcs11 cannot initialise a token (C_InitToken), so `softhsm2-util` does it in a
subprocess. SoftHSM reads its configuration from SOFTHSM2_CONF when the module is first loaded
in a process: whoever uses the token sets it in the environment before that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
CONF_ENV = "SOFTHSM2_CONF"


def softhsm_util() -> str:
    found = shutil.which("softhsm2-util")
    if found is None:
        raise RuntimeError("softhsm2-util is not installed (Debian package softhsm2)")
    return found


def write_conf(directory: Path) -> Path:
    """`directory`/softhsm2.conf keeping the tokens in `directory`/tokens (0700)."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    tokens.chmod(0o700)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n",
        encoding="utf-8",
    )
    conf.chmod(0o600)
    return conf


def token_exists(conf: Path, label: str) -> bool:
    result = subprocess.run(
        [softhsm_util(), "--show-slots"],
        env={**os.environ, CONF_ENV: str(conf)},
        capture_output=True,
        text=True,
        check=True,
    )
    return any(line.strip() == f"Label:            {label}" for line in result.stdout.splitlines())


def init_token(conf: Path, *, label: str, pin: str, so_pin: str) -> bool:
    """Initialises a token `label` unless it exists; True when it was made now. PINs are 4-255
    characters (softhsm2-util would prompt for a shorter one)."""
    if not 4 <= len(pin) <= 255 or not 4 <= len(so_pin) <= 255:
        raise ValueError("token PINs must be 4-255 characters")
    if token_exists(conf, label):
        return False
    subprocess.run(
        [
            softhsm_util(),
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            so_pin,
            "--pin",
            pin,
        ],
        env={**os.environ, CONF_ENV: str(conf)},
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return True
