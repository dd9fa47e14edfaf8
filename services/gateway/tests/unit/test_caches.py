"""What the gateway remembers per person (the delegations they hold, the person an identity
provider's subject maps to) expires, and stays bounded however many people call."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.adapters import oidc
from vanban.gateway.adapters.grpc.delegations import DelegationCache
from vanban.gateway.adapters.grpc.upstreams import Upstreams
from vanban.platform.caller import Delegation

STARTS = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
ENDS = datetime(2026, 11, 15, 1, 0, tzinfo=UTC)


def stamp(value: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(value)
    return result


class FakeDirectory:
    """Answers every person with one delegation to them from `chu-tich`, counting the asks."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def ListDelegations(
        self, request: directory_pb2.ListDelegationsRequest, **_: object
    ) -> directory_pb2.ListDelegationsResponse:
        self.asked.append(request.person_id)
        return directory_pb2.ListDelegationsResponse(
            delegations=[
                directory_pb2.Delegation(
                    id=f"d-{request.person_id}",
                    from_person_id="chu-tich",
                    to_person_id=request.person_id,
                    scope=["assign", "sign"],
                    starts_at=stamp(STARTS),
                    ends_at=stamp(ENDS),
                ),
                # Revoked, and one to someone else: neither is held.
                directory_pb2.Delegation(
                    id="d-revoked",
                    from_person_id="chu-tich",
                    to_person_id=request.person_id,
                    scope=["sign"],
                    starts_at=stamp(STARTS),
                    ends_at=stamp(ENDS),
                    revoked_at=stamp(STARTS),
                ),
                directory_pb2.Delegation(
                    id="d-other",
                    from_person_id=request.person_id,
                    to_person_id="pho-chu-tich",
                    scope=["sign"],
                    starts_at=stamp(STARTS),
                    ends_at=stamp(ENDS),
                ),
            ]
        )

    async def FindPerson(
        self, request: directory_pb2.FindPersonRequest, **_: object
    ) -> directory_pb2.FindPersonResponse:
        self.asked.append(request.external_subject)
        return directory_pb2.FindPersonResponse(
            person=directory_pb2.Person(
                id=f"person-{request.external_subject}",
                external_subject=request.external_subject,
                active=True,
            )
        )


def upstreams(directory: FakeDirectory) -> Upstreams:
    # What the caches read of the upstreams: the directory's two calls, metadata and timeout.
    fake = SimpleNamespace(directory=directory, service_metadata=lambda: (), timeout=1.0)
    return fake  # type: ignore[return-value]  # the parts the caches use


async def test_held_delegations_are_typed_values_of_the_person() -> None:
    cache = DelegationCache(upstreams(FakeDirectory()))

    assert await cache.held_by("pho") == (
        Delegation(
            id="d-pho",
            delegator_id="chu-tich",
            scopes=frozenset({"assign", "sign"}),
            valid_from=STARTS,
            valid_until=ENDS,
        ),
    )


async def test_the_delegation_cache_remembers_at_most_maxsize_people() -> None:
    directory = FakeDirectory()
    cache = DelegationCache(upstreams(directory), ttl=60, maxsize=3)
    for person in range(10):
        await cache.held_by(f"p{person}")
    directory.asked.clear()

    await cache.held_by("p9")
    await cache.held_by("p7")
    assert directory.asked == []
    await cache.held_by("p0")
    assert directory.asked == ["p0"]


async def test_the_delegation_cache_asks_again_after_its_ttl() -> None:
    directory = FakeDirectory()
    cache = DelegationCache(upstreams(directory), ttl=0.05)
    await cache.held_by("pho")
    await cache.held_by("pho")
    assert directory.asked == ["pho"]

    await asyncio.sleep(0.06)
    await cache.held_by("pho")
    assert directory.asked == ["pho", "pho"]


class _OneKey:
    def __init__(self, key: object) -> None:
        self.key = key

    def get_signing_key_from_jwt(self, token: str) -> _OneKey:
        return self


async def test_identities_mapped_to_people_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oidc, "_MAPPING_MAXSIZE", 3)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = oidc.OidcVerifier(
        issuer="https://idp.example/realms/demo",
        audience="vanban-gateway",
        jwks_url="https://idp.example/realms/demo/certs",
        username_claim=None,
    )
    monkeypatch.setattr(verifier, "_jwks", _OneKey(key.public_key()))
    now = int(time.time())

    def token(subject: str) -> str:
        claims = {"iss": verifier.issuer, "aud": "vanban-gateway", "sub": subject}
        return jwt.encode({**claims, "iat": now, "exp": now + 300}, key, algorithm="RS256")

    directory = FakeDirectory()
    for subject in range(10):
        person = await verifier.person(token(f"s{subject}"), upstreams(directory))
        assert person.id == f"person-s{subject}"
    directory.asked.clear()

    await verifier.person(token("s9"), upstreams(directory))
    assert directory.asked == []
    await verifier.person(token("s0"), upstreams(directory))
    assert directory.asked == ["s0"]
