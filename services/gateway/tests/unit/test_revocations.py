"""Ended sessions: the tokens of a changed person or a signed-out session stop working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vanban.gateway.api.auth import AccessTokens, SessionGrant
from vanban.gateway.domain.revocations import Revocation, Revocations
from vanban.platform.caller import Caller
from vanban.platform.errors import UnauthenticatedError

AGENCY = "000.00.00.H99"
T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
KEEP = timedelta(minutes=16)


def tokens_with(revocations: Revocations) -> AccessTokens:
    return AccessTokens(
        Ed25519PrivateKey.generate(),
        agency_code=AGENCY,
        ttl_seconds=900,
        revocations=revocations,
    )


def token_of(tokens: AccessTokens, person: str, *, version: int, family: str = "fam-1") -> str:
    return tokens.issue(
        Caller(agency_code=AGENCY, subject=person),
        name="An",
        session=SessionGrant(session_version=version, family_id=family),
    )


def refused(tokens: AccessTokens, token: str) -> str:
    with pytest.raises(UnauthenticatedError) as caught:
        tokens.verify(token)
    return caught.value.reason


def test_a_newer_session_version_voids_older_tokens_of_that_person_only() -> None:
    revocations = Revocations(keep=KEEP)
    tokens = tokens_with(revocations)
    old = token_of(tokens, "p1", version=3)
    other = token_of(tokens, "p2", version=1)

    assert revocations.apply(Revocation(at=T0, person_id="p1", min_version=4))

    assert refused(tokens, old) == "SESSION_ENDED"
    assert tokens.verify(token_of(tokens, "p1", version=4)).subject == "p1"
    assert tokens.verify(other).subject == "p2"


def test_an_older_or_repeated_fact_changes_nothing() -> None:
    revocations = Revocations(keep=KEEP)
    assert revocations.apply(Revocation(at=T0, person_id="p1", min_version=5))
    assert not revocations.apply(Revocation(at=T0, person_id="p1", min_version=5))
    assert not revocations.apply(Revocation(at=T0, person_id="p1", min_version=2))
    assert revocations.min_version("p1") == 5


def test_a_signed_out_session_voids_its_tokens_but_not_the_persons_other_sessions() -> None:
    revocations = Revocations(keep=KEEP)
    tokens = tokens_with(revocations)
    phone = token_of(tokens, "p1", version=1, family="phone")
    laptop = token_of(tokens, "p1", version=1, family="laptop")

    revocations.apply(Revocation(at=T0, family_id="phone"))

    assert refused(tokens, phone) == "SESSION_ENDED"
    assert tokens.verify(laptop).subject == "p1"


def test_a_token_without_a_version_counts_as_the_oldest() -> None:
    revocations = Revocations(keep=KEEP)
    tokens = tokens_with(revocations)
    legacy = tokens.issue(Caller(agency_code=AGENCY, subject="p1"), name="An")
    assert tokens.verify(legacy).subject == "p1"
    revocations.apply(Revocation(at=T0, person_id="p1", min_version=1))
    assert refused(tokens, legacy) == "SESSION_ENDED"


def test_facts_are_forgotten_once_no_token_they_void_can_be_alive() -> None:
    revocations = Revocations(keep=KEEP)
    revocations.apply(Revocation(at=T0, person_id="p1", min_version=4))
    revocations.apply(Revocation(at=T0, family_id="fam"))
    revocations.forget_before(T0 + KEEP - timedelta(seconds=1))
    assert revocations.min_version("p1") == 4
    revocations.forget_before(T0 + KEEP + timedelta(seconds=1))
    assert revocations.min_version("p1") == 0
    revocations.check(person_id="p1", version=0, family_id="fam")  # nothing left to refuse


def test_a_token_carries_whether_the_password_must_change() -> None:
    tokens = tokens_with(Revocations(keep=KEEP))
    token = tokens.issue(
        Caller(agency_code=AGENCY, subject="p1"),
        name="An",
        session=SessionGrant(session_version=2, family_id="f", must_change_password=True),
    )
    grant = tokens.verify_grant(token)
    assert grant.session == SessionGrant(
        session_version=2, family_id="f", must_change_password=True
    )
