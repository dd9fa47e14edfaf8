"""Delegations (ủy quyền) reach the caller token only while they are in force."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from tests.e2e.support import Gateway, eventually
from vanban.contracts.directory.v1 import directory_pb2, directory_pb2_grpc
from vanban.launcher.platform import Platform
from vanban.platform.testing import TokenMint, channel, metadata


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def me(gateway: Gateway, username: str) -> dict:  # type: ignore[type-arg]
    response = gateway.http.get(
        "/v1/me", headers={"Authorization": f"Bearer {gateway.token(username)}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_deputy_holds_the_leaders_delegation_only_inside_its_dates(
    platform: Platform, gateway: Gateway
) -> None:
    agency = platform.agencies[0]
    mint = TokenMint(agency.keys_dir, agency.spec.code)

    async def person_id(username: str) -> str:
        # Straight from the directory: asking the gateway would start its delegation cache.
        async with channel(agency.address("directory")) as ch:
            answer = await directory_pb2_grpc.DirectoryServiceStub(ch).FindPerson(
                directory_pb2.FindPersonRequest(username=username),
                metadata=metadata(mint.service("e2e")),
            )
        return answer.person.id

    leader, deputy = asyncio.run(person_id("lanhdao")), asyncio.run(person_id("chuyenvien"))
    now = datetime.now(UTC)

    async def delegate(starts: datetime, ends: datetime, scope: list[str]) -> str:
        async with channel(agency.address("directory")) as ch:
            answer = await directory_pb2_grpc.DirectoryServiceStub(ch).CreateDelegation(
                directory_pb2.CreateDelegationRequest(
                    delegation=directory_pb2.Delegation(
                        from_person_id=leader,
                        to_person_id=deputy,
                        scope=scope,
                        starts_at=at(starts),
                        ends_at=at(ends),
                        reason="Chủ tịch đi công tác",
                    )
                ),
                metadata=metadata(mint.person(leader, roles=("agency_leader",))),
            )
        return answer.delegation.id

    current = asyncio.run(
        delegate(now - timedelta(hours=1), now + timedelta(days=2), ["sign", "approve"])
    )
    asyncio.run(delegate(now + timedelta(days=10), now + timedelta(days=12), ["assign"]))

    def held() -> list[dict]:  # type: ignore[type-arg]
        return me(gateway, "chuyenvien")["acting_for"]

    delegations = eventually(held, timeout=40)
    assert [d["id"] for d in delegations] == [current]
    assert delegations[0]["from_person_id"] == leader
    assert sorted(delegations[0]["scope"]) == ["approve", "sign"]
    assert me(gateway, "lanhdao")["acting_for"] == []
