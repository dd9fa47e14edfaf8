"""Delegations (ủy quyền) reach the caller token only while they are in force."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.support import Gateway, eventually
from vanban.contracts.directory.v1 import directory_pb2, directory_pb2_grpc
from vanban.launcher.platform import Platform
from vanban.platform.testing import TokenMint, channel, metadata


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def me(gateway: Gateway, username: str) -> dict[str, Any]:
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

    def held() -> list[dict[str, Any]]:
        return me(gateway, "chuyenvien")["acting_for"]

    delegations = eventually(held, timeout=40)
    assert [d["id"] for d in delegations] == [current]
    assert delegations[0]["from_person_id"] == leader
    assert sorted(delegations[0]["scope"]) == ["approve", "sign"]
    assert me(gateway, "lanhdao")["acting_for"] == []


def test_a_deputy_assigns_for_the_leader_inside_the_delegation_and_not_outside(
    platform: Platform, gateway: Gateway, clerk_token: str
) -> None:
    agency = platform.agencies[0]
    mint = TokenMint(agency.keys_dir, agency.spec.code)

    async def find(username: str) -> str:
        async with channel(agency.address("directory")) as ch:
            answer = await directory_pb2_grpc.DirectoryServiceStub(ch).FindPerson(
                directory_pb2.FindPersonRequest(username=username),
                metadata=metadata(mint.service("e2e")),
            )
        return answer.person.id

    leader, deputy = asyncio.run(find("lanhdao")), asyncio.run(find("truongphong"))
    document = gateway.register(clerk_token).json()["id"]
    specialist = gateway.token("chuyenvien")

    def specialist_sees_assignment() -> int:
        return gateway.http.get(
            f"/v1/incoming-documents/{document}/assignment",
            headers={"Authorization": f"Bearer {specialist}"},
        ).status_code

    # Before any assignment a specialist may not open the document, nor its assignment.
    assert specialist_sees_assignment() == 404
    body = {
        "lead_unit": "VP",
        "opinion": "Giao Văn phòng chủ trì, báo cáo trước ngày 30.",
        "on_behalf_of": leader,
    }

    def assign(username: str, payload: dict[str, str]) -> httpx.Response:
        return gateway.http.post(
            f"/v1/incoming-documents/{document}/assignment",
            json=payload,
            headers={"Authorization": f"Bearer {gateway.token(username)}"},
        )

    # Without a delegation in force the unit head may not assign for the leader...
    refused = assign("truongphong", body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "DELEGATION_REQUIRED"
    # ...nor may the specialist, whose assign delegation (from the first test) starts in 10 days.
    assert assign("chuyenvien", body).json()["code"] == "DELEGATION_REQUIRED"
    # ...nor in their own name.
    assert (
        assign("truongphong", {k: v for k, v in body.items() if k != "on_behalf_of"}).json()["code"]
        == "ROLE_REQUIRED"
    )

    now = datetime.now(UTC)

    async def delegate() -> None:
        async with channel(agency.address("directory")) as ch:
            await directory_pb2_grpc.DirectoryServiceStub(ch).CreateDelegation(
                directory_pb2.CreateDelegationRequest(
                    delegation=directory_pb2.Delegation(
                        from_person_id=leader,
                        to_person_id=deputy,
                        scope=["assign"],
                        starts_at=at(now - timedelta(minutes=5)),
                        ends_at=at(now + timedelta(days=1)),
                        reason="Ủy quyền phân công văn bản trong thời gian Chủ tịch đi công tác",
                    )
                ),
                metadata=metadata(mint.person(leader, roles=("agency_leader",))),
            )

    asyncio.run(delegate())
    # The gateway sees new delegations once its cache expires (2 s in these tests).
    accepted = eventually(
        lambda: (r := assign("truongphong", body)).status_code == 201 and r, timeout=40
    )
    assert accepted, assign("truongphong", body).text
    assignment = accepted.json()
    assert assignment["assigned_by"] == deputy
    assert assignment["on_behalf_of"] == leader

    async def audit_entry() -> tuple[str, str]:
        engine = create_async_engine(platform.postgres.dsn(agency.database_name("workflow")))
        try:
            async with engine.connect() as connection:
                row = (
                    await connection.execute(
                        text(
                            "select actor, on_behalf_of from audit_log "
                            "where action = 'incoming.assign' and resource = :resource"
                        ),
                        {"resource": f"incoming-documents/{document}"},
                    )
                ).one()
        finally:
            await engine.dispose()
        return row.actor, row.on_behalf_of

    assert asyncio.run(audit_entry()) == (deputy, leader)
    # The leader assigns in their own name; everyone who may open the document sees the result.
    own = assign("lanhdao", {k: v for k, v in body.items() if k != "on_behalf_of"})
    assert own.status_code == 201
    assert own.json()["on_behalf_of"] is None
    current = gateway.http.get(
        f"/v1/incoming-documents/{document}/assignment",
        headers={"Authorization": f"Bearer {clerk_token}"},
    )
    assert current.json()["id"] == own.json()["id"]
    # Once it is assigned to Văn phòng, the unit's specialist may open it (its reach now names
    # the unit) and sees its assignment.
    assert eventually(lambda: specialist_sees_assignment() == 200)
