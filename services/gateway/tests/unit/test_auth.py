"""Access tokens a person receives at sign-in, and the key that signs them."""

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vanban.gateway.api.auth import ACCESS_KEY_FILE, AccessTokens, load_or_create_access_key
from vanban.platform.caller import Caller
from vanban.platform.clearance import Clearance
from vanban.platform.errors import UnauthenticatedError

AGENCY = "000.00.00.H99"


def make_caller(**overrides: object) -> Caller:
    values: dict[str, Any] = {
        "agency_code": AGENCY,
        "subject": "person-7",
        "roles": frozenset({"clerk", "leader"}),
        "units": ("unit-office",),
        "clearance": Clearance.SECRET,
    }
    values.update(overrides)
    return Caller(**values)


def make_tokens(
    key: Ed25519PrivateKey | None = None, *, agency_code: str = AGENCY, ttl_seconds: int = 900
) -> AccessTokens:
    return AccessTokens(
        key or Ed25519PrivateKey.generate(), agency_code=agency_code, ttl_seconds=ttl_seconds
    )


def refusal_reason(tokens: AccessTokens, token: str) -> str:
    with pytest.raises(UnauthenticatedError) as caught:
        tokens.verify(token)
    return caught.value.reason


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _unb64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_an_issued_token_verifies_back_to_the_same_caller() -> None:
    tokens = make_tokens()
    caller = make_caller()

    verified = tokens.verify(tokens.issue(caller, name="Nguyễn Văn An"))

    assert verified.subject == "person-7"
    assert verified.agency_code == AGENCY
    assert verified.roles == frozenset({"clerk", "leader"})
    assert verified.units == ("unit-office",)
    assert verified.clearance is Clearance.SECRET
    assert verified.is_service is False


def test_tokens_for_different_people_verify_to_different_people() -> None:
    tokens = make_tokens()
    one = tokens.verify(tokens.issue(make_caller(subject="a", roles=frozenset()), name="A"))
    two = tokens.verify(tokens.issue(make_caller(subject="b", clearance=Clearance.NONE), name="B"))

    assert (one.subject, one.roles) == ("a", frozenset())
    assert (two.subject, two.clearance) == ("b", Clearance.NONE)


def test_an_expired_token_is_refused_as_expired() -> None:
    tokens = make_tokens(ttl_seconds=-60)
    token = tokens.issue(make_caller(), name="An")

    assert refusal_reason(tokens, token) == "TOKEN_EXPIRED"


def test_a_token_signed_with_another_key_is_refused() -> None:
    ours, theirs = make_tokens(), make_tokens()
    token = theirs.issue(make_caller(), name="An")

    assert refusal_reason(ours, token) == "TOKEN_INVALID"


def test_a_token_issued_for_another_agency_is_refused_even_with_the_same_key() -> None:
    key = Ed25519PrivateKey.generate()
    ours = make_tokens(key)
    other_agency = make_tokens(key, agency_code="000.00.00.G01")
    token = other_agency.issue(make_caller(agency_code="000.00.00.G01"), name="An")

    assert refusal_reason(ours, token) == "TOKEN_INVALID"


def test_a_token_whose_claims_were_edited_is_refused() -> None:
    tokens = make_tokens()
    header, payload, signature = tokens.issue(make_caller(roles=frozenset()), name="An").split(".")
    claims = json.loads(_b64(payload))
    claims["roles"] = ["admin"]
    forged = ".".join([header, _unb64(json.dumps(claims).encode()), signature])

    assert refusal_reason(tokens, forged) == "TOKEN_INVALID"


def test_a_token_with_a_damaged_signature_is_refused() -> None:
    tokens = make_tokens()
    header, payload, signature = tokens.issue(make_caller(), name="An").split(".")
    raw = bytearray(_b64(signature))
    raw[0] ^= 0x01
    damaged = ".".join([header, payload, _unb64(bytes(raw))])

    assert refusal_reason(tokens, damaged) == "TOKEN_INVALID"


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_refused_as_invalid(garbage: str) -> None:
    assert refusal_reason(make_tokens(), garbage) == "TOKEN_INVALID"


def test_the_access_key_is_created_private_to_its_owner(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"

    load_or_create_access_key(keys_dir)

    key_file = keys_dir / ACCESS_KEY_FILE
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def test_the_access_key_is_the_same_on_the_next_start(tmp_path: Path) -> None:
    first = load_or_create_access_key(tmp_path)
    second = load_or_create_access_key(tmp_path)

    assert _raw(second) == _raw(first)
    # A token issued before a restart is still accepted after it.
    token = make_tokens(first).issue(make_caller(), name="An")
    assert make_tokens(second).verify(token).subject == "person-7"
