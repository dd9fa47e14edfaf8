"""The token keeps its keys: nothing lets a private key out, and a wrong PIN is a clean refusal."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pkcs11 import Attribute, KeyType, ObjectClass

from vanban.signing.adapters import softhsm
from vanban.signing.adapters.token import Token, TokenConfig


def test_a_private_key_cannot_leave_the_token(token: Token) -> None:
    label = f"leak-{uuid.uuid4().hex[:8]}"
    public = token.generate_rsa(label, bits=2048)
    private = token.private_key_handle(label)

    assert private[Attribute.SENSITIVE] is True
    assert private[Attribute.EXTRACTABLE] is False
    assert private[Attribute.NEVER_EXTRACTABLE] is True
    with pytest.raises(pkcs11.exceptions.AttributeSensitive):
        private[Attribute.PRIVATE_EXPONENT]
    with pytest.raises(pkcs11.exceptions.AttributeSensitive):
        private[Attribute.PRIME_1]
    # Wrapped under another key of the token: refused as well.
    wrapping = token.session.generate_key(
        KeyType.AES, 256, label=f"wrap-{label}", store=False, capabilities=pkcs11.MechanismFlag.WRAP
    )
    with pytest.raises(pkcs11.exceptions.KeyUnextractable):
        wrapping.wrap_key(private)
    # And the flags cannot be turned back.
    with pytest.raises(pkcs11.exceptions.AttributeReadOnly):
        private[Attribute.EXTRACTABLE] = True
    with pytest.raises(pkcs11.exceptions.AttributeReadOnly):
        private[Attribute.SENSITIVE] = False

    # What does leave it is a signature that its public key verifies.
    signature = token.key(label).sign(b"van ban", padding.PKCS1v15(), hashes.SHA256())
    public.verify(signature, b"van ban", padding.PKCS1v15(), hashes.SHA256())
    keys = list(token.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
    assert any(k.label == label for k in keys)


def test_a_key_label_is_made_once(token: Token) -> None:
    label = f"once-{uuid.uuid4().hex[:8]}"
    token.generate_rsa(label, bits=2048)
    with pytest.raises(Exception, match="already holds a key") as refused:
        token.generate_rsa(label, bits=2048)
    assert getattr(refused.value, "reason", "") == "KEY_EXISTS"


OPEN_WITH = """
import sys
from pathlib import Path
from vanban.signing.adapters.token import Token, TokenConfig, TokenError
try:
    Token.open(TokenConfig(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
except TokenError as exc:
    print(exc.reason, exc.message)
    raise SystemExit(3)
print("OPENED")
"""


def _open_elsewhere(
    config: TokenConfig, pin: str, label: str | None = None
) -> subprocess.CompletedProcess[str]:
    # In another process: login state is per process, and this one is logged in already.
    return subprocess.run(
        [sys.executable, "-c", OPEN_WITH, str(config.module), label or config.label, pin],
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_wrong_pin_is_refused_cleanly(token_config: TokenConfig) -> None:
    wrong = _open_elsewhere(token_config, "not-the-pin")
    assert wrong.returncode == 3, wrong.stderr
    assert wrong.stdout.startswith("TOKEN_PIN_INCORRECT")
    assert "Traceback" not in wrong.stderr
    right = _open_elsewhere(token_config, token_config.pin)
    assert (right.returncode, right.stdout.strip()) == (0, "OPENED"), right.stderr


def test_an_unknown_token_is_named(token_config: TokenConfig) -> None:
    missing = _open_elsewhere(token_config, token_config.pin, label="no-such-token")
    assert missing.returncode == 3
    assert missing.stdout.startswith("TOKEN_NOT_FOUND")
    assert os.environ[softhsm.CONF_ENV]
