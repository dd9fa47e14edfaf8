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
from cryptography import x509
from pkcs11 import Attribute, ObjectClass

from vanban.signing.adapters import softhsm
from vanban.signing.adapters.ca import CA_KEY_LABEL, DevelopmentCa
from vanban.signing.adapters.token import Token, TokenConfig

TOKEN_LABEL = "vanban-test"
AGENCY_NAME = "Ủy ban nhân dân tỉnh Demo"
AGENCY_CODE = "000.00.00.H99"


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


@pytest.fixture(scope="session")
def dev_ca(token: Token) -> DevelopmentCa:
    """The development CA (its key label is fixed), made once per session. Should something
    else of the session have made it already, its root is read back from the token."""
    if not token.has_key(CA_KEY_LABEL):
        return DevelopmentCa.create(token, agency_name=AGENCY_NAME, agency_code=AGENCY_CODE)
    stored = next(
        token.session.get_objects(
            {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: CA_KEY_LABEL}
        )
    )
    return DevelopmentCa(token, x509.load_der_x509_certificate(bytes(stored[Attribute.VALUE])))
