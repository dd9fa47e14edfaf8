"""What of a person and of a delegation each caller sees: the directory decides, per caller.

Clearance, e-mail, OIDC subject and password state are for administrators, platform services
and the person themself; a delegation's reasons for its two people and administrators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.directory.tests.integration.support import call
from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.platform.testing import TokenMint


def at(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


async def find(directory: str, mint: TokenMint, username: str) -> pb.Person:
    answer = await call(
        directory, "FindPerson", pb.FindPersonRequest(username=username), mint.service("gateway")
    )
    return answer.person


@pytest.fixture(scope="module")
async def secret_holder(directory: str, mint: TokenMint) -> pb.Person:
    """A person with everything private filled in, created by an administrator."""
    admin = await find(directory, mint, "quantri")
    created = await call(
        directory,
        "CreatePerson",
        pb.CreatePersonRequest(
            person=pb.Person(
                username="cobaomat",
                full_name="Cán bộ bảo mật",
                roles=[pb.ROLE_SPECIALIST],
                clearance=pb.CLEARANCE_TOP_SECRET,
                email="cobaomat@demo.gov.vn",
                external_subject="oidc|cobaomat",
            ),
            password="mat-khau-tam-thoi",
            password_must_change=True,
        ),
        mint.person(admin.id, roles=("admin",)),
    )
    return created.person


def hidden(person: pb.Person) -> bool:
    return (
        person.redacted
        and person.clearance == pb.CLEARANCE_UNSPECIFIED
        and not person.email
        and not person.external_subject
        and not person.password_must_change
    )


def shown(person: pb.Person) -> bool:
    return (
        not person.redacted
        and person.clearance == pb.CLEARANCE_TOP_SECRET
        and person.email == "cobaomat@demo.gov.vn"
        and person.external_subject == "oidc|cobaomat"
        and person.password_must_change
    )


async def test_a_clerk_reads_names_and_roles_but_no_private_details_of_others(
    directory: str, mint: TokenMint, secret_holder: pb.Person
) -> None:
    clerk = await find(directory, mint, "vanthu")
    token = mint.person(clerk.id, roles=("clerk",), clearance="confidential")

    listed = await call(directory, "ListPeople", pb.ListPeopleRequest(page_size=500), token)
    others = [p for p in listed.people if p.id != clerk.id]
    assert others and all(hidden(p) for p in others)
    [holder] = [p for p in listed.people if p.id == secret_holder.id]
    assert holder.full_name == "Cán bộ bảo mật" and list(holder.roles) == [pb.ROLE_SPECIALIST]

    got = await call(directory, "GetPerson", pb.GetPersonRequest(id=secret_holder.id), token)
    assert hidden(got.person)

    # Their own entry is whole: people see what the directory holds about them.
    [me] = [p for p in listed.people if p.id == clerk.id]
    assert not me.redacted and me.clearance == pb.CLEARANCE_CONFIDENTIAL


async def test_the_person_themself_an_admin_and_a_service_see_everything(
    directory: str, mint: TokenMint, secret_holder: pb.Person
) -> None:
    admin = await find(directory, mint, "quantri")
    readers = {
        "self": mint.person(secret_holder.id, roles=("specialist",), clearance="top_secret"),
        "admin": mint.person(admin.id, roles=("admin",)),
        "service": mint.service("workflow"),
    }
    for who, token in readers.items():
        got = await call(directory, "GetPerson", pb.GetPersonRequest(id=secret_holder.id), token)
        assert shown(got.person), who
        listed = await call(directory, "ListPeople", pb.ListPeopleRequest(page_size=500), token)
        [holder] = [p for p in listed.people if p.id == secret_holder.id]
        assert shown(holder), who


async def test_a_delegations_reasons_are_for_its_two_people_and_admins(
    directory: str, mint: TokenMint
) -> None:
    leader = await find(directory, mint, "lanhdao")
    deputy = await find(directory, mint, "truongphong")
    clerk = await find(directory, mint, "vanthu")
    admin = await find(directory, mint, "quantri")
    leader_token = mint.person(leader.id, roles=("agency_leader",))
    now = datetime.now(UTC)
    created = await call(
        directory,
        "CreateDelegation",
        pb.CreateDelegationRequest(
            delegation=pb.Delegation(
                from_person_id=leader.id,
                to_person_id=deputy.id,
                scope=["forward"],
                starts_at=at(now),
                ends_at=at(now + timedelta(days=3)),
                reason="Nghỉ ốm, điều trị tại bệnh viện",
            )
        ),
        leader_token,
    )
    assert created.delegation.reason == "Nghỉ ốm, điều trị tại bệnh viện"
    revoked = await call(
        directory,
        "RevokeDelegation",
        pb.RevokeDelegationRequest(id=created.delegation.id, reason="Đã khỏi bệnh"),
        leader_token,
    )
    assert revoked.delegation.revoke_reason == "Đã khỏi bệnh"

    async def seen_by(token: str) -> pb.Delegation:
        listed = await call(
            directory,
            "ListDelegations",
            pb.ListDelegationsRequest(person_id=leader.id, page_size=100),
            token,
        )
        [found] = [d for d in listed.delegations if d.id == created.delegation.id]
        return found

    third = await seen_by(mint.person(clerk.id, roles=("clerk",)))
    assert third.redacted and not third.reason and not third.revoke_reason
    assert third.from_person_id == leader.id and list(third.scope) == ["forward"]
    everyone = await call(
        directory,
        "ListDelegations",
        pb.ListDelegationsRequest(page_size=500),
        mint.person(clerk.id, roles=("clerk",)),
    )
    assert all(not d.reason and d.redacted for d in everyone.delegations)

    for token in (
        leader_token,
        mint.person(deputy.id, roles=("unit_head",)),
        mint.person(admin.id, roles=("admin",)),
    ):
        visible = await seen_by(token)
        assert not visible.redacted
        assert visible.reason == "Nghỉ ốm, điều trị tại bệnh viện"
        assert visible.revoke_reason == "Đã khỏi bệnh"
