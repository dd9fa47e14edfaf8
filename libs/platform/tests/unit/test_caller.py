"""Who may do what, and which caller tokens a service accepts."""

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vanban.platform.caller import (
    Caller,
    CallerTokenIssuer,
    CallerTokenVerifier,
    Delegation,
    ensure_keypair,
)
from vanban.platform.clearance import Clearance
from vanban.platform.errors import ErrorCode, PermissionDeniedError, UnauthenticatedError

AGENCY = "000.00.00.H99"


def make_caller(**overrides: object) -> Caller:
    values: dict[str, Any] = {
        "agency_code": AGENCY,
        "subject": "person-1",
        "roles": frozenset({"clerk"}),
        "units": ("unit-a",),
        "clearance": Clearance.SECRET,
    }
    values.update(overrides)
    return Caller(**values)


def test_a_person_with_one_of_the_roles_may_act() -> None:
    make_caller(roles=frozenset({"specialist", "clerk"})).require_role("leader", "clerk")


def test_a_person_without_any_of_the_roles_is_refused_with_the_roles_named() -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        make_caller(roles=frozenset({"specialist"})).require_role("leader", "clerk")

    assert caught.value.code is ErrorCode.PERMISSION_DENIED
    assert caught.value.reason == "ROLE_REQUIRED"
    assert caught.value.metadata == {"roles": "clerk,leader"}
    assert "clerk, leader" in caught.value.message


def test_a_person_with_no_roles_is_refused() -> None:
    with pytest.raises(PermissionDeniedError):
        make_caller(roles=frozenset()).require_role("clerk")


def test_a_service_identity_acts_for_any_role_but_is_not_a_person() -> None:
    service = Caller(agency_code=AGENCY, subject="service:workflow", is_service=True)

    service.require_role("clerk")
    service.require_service()
    with pytest.raises(PermissionDeniedError) as caught:
        _ = service.person_id
    assert caught.value.reason == "NOT_A_PERSON"


def test_a_person_may_not_call_service_only_operations() -> None:
    person = make_caller()
    assert person.person_id == "person-1"
    with pytest.raises(PermissionDeniedError) as caught:
        person.require_service()
    assert caught.value.reason == "SERVICE_ONLY"


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def verifier(key: Ed25519PrivateKey, agency: str = AGENCY) -> CallerTokenVerifier:
    return CallerTokenVerifier(key.public_key(), agency_code=agency)


def test_a_token_carries_the_whole_caller(key: Ed25519PrivateKey) -> None:
    caller = make_caller(
        roles=frozenset({"clerk", "leader"}),
        units=("unit-a", "unit-b"),
        delegations=(
            Delegation(
                id="d-1",
                delegator_id="person-9",
                scopes=frozenset({"sign", "approve"}),
                valid_from=datetime(2026, 11, 1, tzinfo=UTC),
                valid_until=datetime(2026, 11, 15, tzinfo=UTC),
            ),
        ),
    )

    assert verifier(key).verify(CallerTokenIssuer(key).issue(caller)) == caller


def test_an_expired_token_is_refused(key: Ed25519PrivateKey) -> None:
    token = CallerTokenIssuer(key, ttl_seconds=-60).issue(make_caller())

    with pytest.raises(UnauthenticatedError) as caught:
        verifier(key).verify(token)
    assert caught.value.reason == "CALLER_EXPIRED"


def test_a_token_of_another_agency_is_refused(key: Ed25519PrivateKey) -> None:
    token = CallerTokenIssuer(key).issue(make_caller(agency_code="000.00.00.G22"))

    with pytest.raises(UnauthenticatedError) as caught:
        verifier(key).verify(token)
    assert caught.value.reason == "CALLER_WRONG_AGENCY"


def test_a_token_signed_by_another_key_is_refused(key: Ed25519PrivateKey) -> None:
    token = CallerTokenIssuer(Ed25519PrivateKey.generate()).issue(make_caller())

    with pytest.raises(UnauthenticatedError) as caught:
        verifier(key).verify(token)
    assert caught.value.reason == "CALLER_INVALID"


def test_a_token_whose_claims_were_edited_is_refused(key: Ed25519PrivateKey) -> None:
    token = CallerTokenIssuer(key).issue(make_caller(clearance=Clearance.NONE))
    header, _payload, signature = token.split(".")
    forged_claims = jwt.decode(token, options={"verify_signature": False})
    forged_claims["clearance"] = "top_secret"
    forged_payload = (
        base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    )

    with pytest.raises(UnauthenticatedError) as caught:
        verifier(key).verify(f"{header}.{forged_payload}.{signature}")
    assert caught.value.reason == "CALLER_INVALID"


def test_an_unsigned_token_is_refused(key: Ed25519PrivateKey) -> None:
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "vanban",
            "aud": "vanban-services",
            "sub": "person-1",
            "iat": now,
            "exp": now + 60,
            "agency": AGENCY,
            "roles": ["clerk"],
        },
        "",  # no key: pyjwt signs nothing with "none"
        algorithm="none",
    )

    with pytest.raises(UnauthenticatedError) as caught:
        verifier(key).verify(token)
    assert caught.value.reason == "CALLER_INVALID"


def test_keys_are_created_once_and_never_replaced(tmp_path) -> None:
    ensure_keypair(tmp_path)
    token = CallerTokenIssuer.from_keys_dir(tmp_path).issue(make_caller())

    ensure_keypair(tmp_path)

    assert CallerTokenVerifier.from_keys_dir(tmp_path, agency_code=AGENCY).verify(token)
    assert (tmp_path / "caller-signing.key").stat().st_mode & 0o077 == 0


def _deputy(*delegations: Delegation) -> Caller:
    return Caller(
        agency_code="000.00.00.H99",
        subject="pho-chu-tich",
        roles=frozenset({"deputy_agency_leader"}),
        delegations=delegations,
    )


CLAIM = {
    "id": "d-1",
    "from": "chu-tich",
    "scope": "sign,approve",
    "starts_at": "2026-11-01T00:00:00+07:00",
    "ends_at": "2026-11-15T00:00:00+07:00",
}


def test_a_delegation_covers_its_scope_and_dates_only() -> None:
    delegation = Delegation.from_claim(CLAIM)
    assert delegation is not None
    assert delegation.scopes == {"sign", "approve"}
    deputy = _deputy(delegation)
    inside = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
    assert deputy.delegation_from("chu-tich", "sign", now=inside) == delegation
    assert deputy.delegation_from("chu-tich", "approve", now=inside) == delegation
    assert deputy.delegation_from("chu-tich", "assign", now=inside) is None
    assert deputy.delegation_from("someone-else", "sign", now=inside) is None
    assert (
        deputy.delegation_from("chu-tich", "sign", now=datetime(2026, 10, 31, 16, 59, tzinfo=UTC))
        is None
    )
    assert (
        deputy.delegation_from("chu-tich", "sign", now=datetime(2026, 11, 14, 17, 0, tzinfo=UTC))
        is None
    )


def test_a_delegation_keeps_its_claim_shape_on_the_wire() -> None:
    delegation = Delegation.from_claim(CLAIM)
    assert delegation is not None
    assert Delegation.from_claim(delegation.to_claim()) == delegation
    assert delegation.to_claim() == {**CLAIM, "scope": "approve,sign"}


@pytest.mark.parametrize(
    "claim",
    [
        {**CLAIM, "starts_at": "soon"},
        {key: value for key, value in CLAIM.items() if key != "ends_at"},
        # Without an offset nobody knows which moment it means.
        {**CLAIM, "starts_at": "2026-11-01T00:00:00"},
        {**CLAIM, "ends_at": 20261115},
        "d-1",
    ],
)
def test_a_malformed_delegation_grants_nothing(key: Ed25519PrivateKey, claim: object) -> None:
    assert Delegation.from_claim(claim) is None
    good = Delegation.from_claim(CLAIM)
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "vanban",
            "aud": "vanban-services",
            "sub": "pho-chu-tich",
            "iat": now,
            "exp": now + 60,
            "agency": AGENCY,
            "delegations": [claim, CLAIM],
        },
        key,
        algorithm="EdDSA",
    )

    assert verifier(key).verify(token).delegations == (good,)


@pytest.mark.parametrize(
    ("clearance", "secrecy", "covered"),
    [
        ("none", "none", True),
        ("none", "confidential", False),
        ("confidential", "confidential", True),
        ("confidential", "secret", False),
        ("secret", "confidential", True),
        ("top_secret", "top_secret", True),
        ("secret", "top_secret", False),
        # Values nobody knows fail closed: an unknown clearance is none, an unknown secrecy
        # is above every clearance.
        ("general", "none", True),
        ("general", "confidential", False),
        ("top_secret", "cosmic", False),
        ("top_secret", "", False),
    ],
)
def test_clearance_covers_secrecy_in_one_order(clearance: str, secrecy: str, covered: bool) -> None:
    assert make_caller(clearance=Clearance.held(clearance)).cleared_for(secrecy) is covered
    level = Clearance.parse(secrecy)
    if level is not None:
        assert Clearance.held(clearance).covers(level) is covered
        assert make_caller(clearance=Clearance.held(clearance)).cleared_for(level) is covered


def test_a_token_with_a_clearance_this_platform_does_not_know_grants_none(
    key: Ed25519PrivateKey,
) -> None:
    token = CallerTokenIssuer(key).issue(make_caller())
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "clearance": "cosmic"}, key, algorithm="EdDSA")

    assert verifier(key).verify(forged).clearance is Clearance.NONE


def test_a_service_identity_is_cleared_for_everything() -> None:
    service = Caller(agency_code=AGENCY, subject="service:notify", is_service=True)
    assert service.cleared_for("top_secret")
