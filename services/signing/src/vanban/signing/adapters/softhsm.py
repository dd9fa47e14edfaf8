"""A SoftHSM2 token for the embedded default and the tests (ADR 0011, 1).

python-pkcs11 cannot initialise a token (C_InitToken), so `softhsm2-util` does it in a
subprocess. SoftHSM reads its configuration from SOFTHSM2_CONF when the module is first loaded
in a process: whoever uses the token sets it in the environment before that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

from vanban.platform.command import Command

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
CONF_ENV = "SOFTHSM2_CONF"


def softhsm_util() -> str:
    found = shutil.which("softhsm2-util")
    if found is None:
        raise RuntimeError("softhsm2-util is not installed (Debian package softhsm2)")
    return found


def write_conf(directory: Path) -> Path:
    """`directory`/softhsm2.conf (0600) keeping the tokens in `directory`/tokens (0700).

    `directory` is made private too when it is ours; a volume mounted there (a Kubernetes
    PersistentVolume, owned by root and given to the pod's fsGroup) keeps the mode its owner
    gave it, which only root may change: what it holds is private either way."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True, mode=0o700)
    if directory.stat().st_uid == os.geteuid():
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


def _init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, required=True, help="where the token is kept")
    parser.add_argument("--label", default="vanban", help="the token's label")


def _init(args: argparse.Namespace) -> int:
    """Prints the configuration file to set as SOFTHSM2_CONF; PINs come from the environment
    (VANBAN_SIGNING_TOKEN_PIN, VANBAN_SIGNING_TOKEN_SO_PIN), never from the command line of a
    caller that others can read."""
    pin = os.environ.get("VANBAN_SIGNING_TOKEN_PIN", "")
    so_pin = os.environ.get("VANBAN_SIGNING_TOKEN_SO_PIN", "")
    if not pin or not so_pin:
        print("VANBAN_SIGNING_TOKEN_PIN and VANBAN_SIGNING_TOKEN_SO_PIN must be set")
        return 2
    conf = write_conf(args.dir)
    made = init_token(conf, label=args.label, pin=pin, so_pin=so_pin)
    print(f"{'initialised' if made else 'kept'} token {args.label!r}: SOFTHSM2_CONF={conf}")
    return 0


# `python -m vanban.signing init-softhsm --dir D`: the embedded default's token (the launcher).
INIT_COMMAND = Command(
    name="init-softhsm",
    help="make a SoftHSM2 token for this agency unless it exists (embedded default, tests)",
    run=_init,
    add_arguments=_init_arguments,
)
