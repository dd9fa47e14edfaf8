"""Which signature the agency's seal goes on: the last sound leader's, in a file nothing broke."""

from __future__ import annotations

from vanban.signing.domain.model import SignatureCheck, ValidationResult
from vanban.signing.service import _valid_leader


def check(name: str, **overrides: object) -> SignatureCheck:
    values: dict[str, object] = {
        "field_name": name,
        "intact": True,
        "valid": True,
        "trusted": True,
        "ok": True,
        "box": (300.0, 100.0, 470.0, 185.0),
        "page": 0,
    }
    values.update(overrides)
    return SignatureCheck(**values)  # type: ignore[arg-type]


def result(*signatures: SignatureCheck) -> ValidationResult:
    return ValidationResult(file_sha256="ab" * 32, file_size=1000, signatures=signatures)


def test_a_sound_leader_signature_is_the_one() -> None:
    leader = check("LanhDao")
    assert _valid_leader(result(leader)) is leader


def test_the_last_leader_signature_is_the_one() -> None:
    first, second = check("LanhDao-1"), check("LanhDao-2", box=(10.0, 10.0, 100.0, 60.0))
    assert _valid_leader(result(first, second)) is second


def test_no_signature_no_leader() -> None:
    assert _valid_leader(result()) is None


def test_an_untrusted_leader_signature_is_no_leader_signature() -> None:
    assert _valid_leader(result(check("LanhDao", trusted=False, ok=False))) is None


def test_an_agency_signature_is_not_a_leaders() -> None:
    assert _valid_leader(result(check("CoQuan", organisation=True))) is None


def test_a_broken_file_gets_no_seal_even_with_a_good_leader_signature() -> None:
    good = check("LanhDao")
    for broken in (
        check("Other", intact=False, ok=False),
        check("Other", valid=False, ok=False),
        check("Other", error="cannot be read", ok=False),
    ):
        assert _valid_leader(result(good, broken)) is None
    # Bytes after the end of the file: nothing signed covers them.
    assert _valid_leader(result(check("LanhDao", trailing_data=True, ok=False))) is None


def test_a_leader_signature_changed_after_signing_is_refused() -> None:
    modified = check("LanhDao", modification_level="OTHER", docmdp_ok=False, ok=False)
    assert _valid_leader(result(modified)) is None
