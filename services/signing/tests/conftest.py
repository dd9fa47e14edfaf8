"""A real SoftHSM2 token for the signing tests, made once per test session.

SoftHSM reads SOFTHSM2_CONF when its module is first loaded in a process, so the variable is set
here, before any test opens the token. The tests of one pytest process share the token (its keys
carry labels unique to each test where it matters)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vanban.signing.adapters import softhsm
from vanban.signing.adapters.token import Token, TokenConfig

TOKEN_LABEL = "vanban-test"


@pytest.fixture(scope="session")
def token_config() -> TokenConfig:
    existing = os.environ.get(softhsm.CONF_ENV)
    pin_file = Path(existing).parent / "test-pin" if existing else None
    if existing and pin_file is not None and pin_file.exists():
        # A second fixture user in the same process (the module is loaded once with this conf).
        return TokenConfig(softhsm.SOFTHSM_MODULE, TOKEN_LABEL, pin_file.read_text())
    directory = Path(tempfile.mkdtemp(prefix="vanban-softhsm-"))
    conf = softhsm.write_conf(directory)
    pin = secrets.token_hex(8)
    softhsm.init_token(conf, label=TOKEN_LABEL, pin=pin, so_pin=secrets.token_hex(8))
    (directory / "test-pin").write_text(pin)
    (directory / "test-pin").chmod(0o600)
    os.environ[softhsm.CONF_ENV] = str(conf)
    return TokenConfig(softhsm.SOFTHSM_MODULE, TOKEN_LABEL, pin)


@pytest.fixture(scope="session")
def token(token_config: TokenConfig) -> Iterator[Token]:
    opened = Token.open(token_config)
    yield opened
    opened.close()
