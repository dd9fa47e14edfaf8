"""Delegations (ủy quyền) through gRPC with real caller tokens, PostgreSQL and NATS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.directory.tests.integration.support import call, failure, published
from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.contracts.directory.v1 import events_pb2
from vanban.launcher.infra import NatsServer
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import TokenMint


def at(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


async def person_id(directory: str, mint: TokenMint, username: str) -> str:
    found = await call(
        directory, "FindPerson", pb.FindPersonRequest(username=username), mint.service("gateway")
    )
    return str(found.person.id)


async def test_a_leader_delegates_signing_to_a_deputy_and_takes_it_back(
    directory: str, mint: TokenMint, nats_server: NatsServer
) -> None:
    leader_id = await person_id(directory, mint, "lanhdao")
    deputy_id = await person_id(directory, mint, "truongphong")
    leader = mint.person(leader_id, roles=("agency_leader",))
    deputy = mint.person(deputy_id, roles=("unit_head",))
    now = datetime.now(UTC)

    def delegation(**overrides: object) -> pb.Delegation:
        fields: dict[str, Any] = {
            "from_person_id": leader_id,
            "to_person_id": deputy_id,
            "scope": ["sign", "approve"],
            "starts_at": at(now - timedelta(minutes=1)),
            "ends_at": at(now + timedelta(days=7)),
            "reason": "Chủ tịch đi công tác",
        }
        fields.update(overrides)
        return pb.Delegation(**fields)

    created = await call(
        directory,
        "CreateDelegation",
        pb.CreateDelegationRequest(delegation=delegation()),
        leader,
    )
    made = created.delegation
    assert made.id and list(made.scope) == ["approve", "sign"] and made.created_by == leader_id
    assert not made.HasField("revoked_at")

    overlapping = await failure(
        directory,
        "CreateDelegation",
        pb.CreateDelegationRequest(
            delegation=delegation(
                scope=["sign"],
                starts_at=at(now + timedelta(days=3)),
                ends_at=at(now + timedelta(days=10)),
            )
        ),
        leader,
    )
    assert overlapping.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert remote_error(overlapping).reason == "OVERLAPPING_DELEGATION"

    for bad, field in (
        (delegation(to_person_id=leader_id, scope=["assign"]), "to_person_id"),
        (delegation(ends_at=at(now - timedelta(days=1)), scope=["assign"]), "ends_at"),
        (delegation(reason="", scope=["assign"]), "reason"),
    ):
        error = await failure(
            directory, "CreateDelegation", pb.CreateDelegationRequest(delegation=bad), leader
        )
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in remote_error(error).violations] == [field]

    # The deputy can neither delegate the leader's powers nor revoke the leader's delegation.
    forged = await failure(
        directory,
        "CreateDelegation",
        pb.CreateDelegationRequest(delegation=delegation(scope=["assign"])),
        deputy,
    )
    assert forged.code() is grpc.StatusCode.PERMISSION_DENIED
    taken = await failure(
        directory, "RevokeDelegation", pb.RevokeDelegationRequest(id=made.id), deputy
    )
    assert taken.code() is grpc.StatusCode.PERMISSION_DENIED

    active_now = await call(
        directory,
        "ListDelegations",
        pb.ListDelegationsRequest(person_id=deputy_id, active_at=at(now)),
        deputy,
    )
    assert [d.id for d in active_now.delegations] == [made.id]
    later = await call(
        directory,
        "ListDelegations",
        pb.ListDelegationsRequest(person_id=deputy_id, active_at=at(now + timedelta(days=8))),
        deputy,
    )
    assert list(later.delegations) == []

    revoked = await call(
        directory,
        "RevokeDelegation",
        pb.RevokeDelegationRequest(id=made.id, reason="Đã về cơ quan"),
        leader,
    )
    assert revoked.delegation.HasField("revoked_at") and revoked.delegation.revoked_by == leader_id
    after = await call(
        directory,
        "ListDelegations",
        pb.ListDelegationsRequest(person_id=leader_id, active_at=at(datetime.now(UTC))),
        leader,
    )
    assert list(after.delegations) == []
    # Before the revocation it was in force, and the record still says so.
    history = await call(
        directory,
        "ListDelegations",
        pb.ListDelegationsRequest(person_id=leader_id, active_at=at(now)),
        leader,
    )
    assert [d.id for d in history.delegations] == [made.id]

    # An administrator may delegate for the leader.
    by_admin = await call(
        directory,
        "CreateDelegation",
        pb.CreateDelegationRequest(delegation=delegation(scope=["assign"])),
        mint.person("admin-1", roles=("admin",)),
    )
    assert by_admin.delegation.created_by == "admin-1"

    [created_event, *_] = await published(
        nats_server.url, "vanban.directory.delegation.created", at_least=2
    )
    assert events_pb2.DelegationCreated.FromString(created_event.data).delegation.id == made.id
    [revoked_event] = await published(
        nats_server.url, "vanban.directory.delegation.revoked", at_least=1
    )
    event = events_pb2.DelegationRevoked.FromString(revoked_event.data)
    assert event.delegation.id == made.id and event.delegation.revoke_reason == "Đã về cơ quan"
