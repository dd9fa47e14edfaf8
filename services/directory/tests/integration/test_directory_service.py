from __future__ import annotations

import asyncio

import grpc
import pytest
from nats.aio.client import Client

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.contracts.directory.v1 import directory_pb2_grpc, events_pb2
from vanban.directory.domain.model import Agency
from vanban.launcher.infra import NatsServer
from vanban.platform.errors import ErrorCode
from vanban.platform.events.nats import stream_name
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import TokenMint, channel, metadata


async def _call(address: str, method: str, request: object, token: str | None) -> object:
    async with channel(address) as ch:
        stub = directory_pb2_grpc.DirectoryServiceStub(ch)
        return await getattr(stub, method)(
            request, metadata=metadata(token) if token else None, timeout=10
        )


async def _failure(address: str, method: str, request: object, token: str | None):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _call(address, method, request, token)
    return raised.value


async def test_the_gateway_signs_in_a_clerk(
    directory: str, mint: TokenMint, agency: Agency, demo_password: str
) -> None:
    answer = await _call(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="vanthu", password=demo_password),
        mint.service("gateway"),
    )
    assert isinstance(answer, pb.AuthenticateResponse)
    assert answer.person.username == "vanthu"
    assert answer.person.full_name == "Nguyễn Thị Văn Thư"
    assert list(answer.person.roles) == [pb.ROLE_CLERK]
    assert list(answer.person.unit_codes) == ["VP"]
    assert answer.person.active
    assert answer.agency == pb.Agency(
        code=agency.code, name=agency.name, abbreviation=agency.abbreviation
    )


async def test_wrong_password_and_unknown_user_get_the_same_error(
    directory: str, mint: TokenMint, demo_password: str
) -> None:
    token = mint.service("gateway")
    wrong = await _failure(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="vanthu", password="vanban-demO"),
        token,
    )
    unknown = await _failure(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="khongtontai", password=demo_password),
        token,
    )
    assert wrong.code() is grpc.StatusCode.UNAUTHENTICATED
    assert (wrong.code(), wrong.details(), remote_error(wrong)) == (
        unknown.code(),
        unknown.details(),
        remote_error(unknown),
    )
    assert remote_error(wrong).reason == "BAD_CREDENTIALS"


async def test_a_person_cannot_call_authenticate(
    directory: str, mint: TokenMint, demo_password: str
) -> None:
    error = await _failure(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="vanthu", password=demo_password),
        mint.person("someone", roles=("admin",)),
    )
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert remote_error(error).reason == "SERVICE_ONLY"


async def test_a_call_without_a_caller_token_is_unauthenticated(
    directory: str, demo_password: str
) -> None:
    for method, request in (
        ("Authenticate", pb.AuthenticateRequest(username="vanthu", password=demo_password)),
        ("ListPeople", pb.ListPeopleRequest()),
    ):
        error = await _failure(directory, method, request, None)
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED
        assert remote_error(error).reason == "CALLER_MISSING"


async def test_list_people_with_the_clerk_role_gives_exactly_the_clerk(
    directory: str, mint: TokenMint
) -> None:
    answer = await _call(
        directory, "ListPeople", pb.ListPeopleRequest(role=pb.ROLE_CLERK), mint.service("notify")
    )
    assert isinstance(answer, pb.ListPeopleResponse)
    assert [p.username for p in answer.people] == ["vanthu"]
    assert answer.next_page_token == ""


async def test_list_people_pages_through_everyone(directory: str, mint: TokenMint) -> None:
    token = mint.person("reader", roles=("specialist",))
    seen: list[str] = []
    page_token = ""
    while True:
        answer = await _call(
            directory, "ListPeople", pb.ListPeopleRequest(page_size=3, page_token=page_token), token
        )
        assert isinstance(answer, pb.ListPeopleResponse)
        assert len(answer.people) <= 3
        seen.extend(p.username for p in answer.people)
        page_token = answer.next_page_token
        if not page_token:
            break
    assert seen == ["chuyenvien", "lanhdao", "luutru", "quantri", "truongphong", "vanthu"]
    error = await _failure(
        directory, "ListPeople", pb.ListPeopleRequest(page_token="rubbish"), token
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_any_person_reads_the_agency_and_a_person(
    directory: str, mint: TokenMint, agency: Agency
) -> None:
    token = mint.person("reader", roles=("specialist",))
    answer = await _call(directory, "GetAgency", pb.GetAgencyRequest(), token)
    assert isinstance(answer, pb.GetAgencyResponse)
    assert (answer.agency.code, answer.agency.abbreviation) == (agency.code, "UBND")
    leaders = await _call(
        directory, "ListPeople", pb.ListPeopleRequest(role=pb.ROLE_AGENCY_LEADER), token
    )
    assert isinstance(leaders, pb.ListPeopleResponse)
    [leader] = leaders.people
    found = await _call(directory, "GetPerson", pb.GetPersonRequest(id=leader.id), token)
    assert isinstance(found, pb.GetPersonResponse)
    assert found.person == leader
    assert found.person.position_title == "Chủ tịch"
    missing = await _failure(
        directory, "GetPerson", pb.GetPersonRequest(id="no-such-person"), token
    )
    assert missing.code() is grpc.StatusCode.NOT_FOUND
    assert remote_error(missing).code is ErrorCode.NOT_FOUND


async def test_the_people_created_by_the_bootstrap_are_published(
    directory: str, nats_server: NatsServer
) -> None:
    nc = Client()
    await nc.connect(nats_server.url)
    try:
        js = nc.jetstream()
        for _ in range(100):
            info = await js.stream_info(stream_name("directory"))
            if info.state.messages >= 7:
                break
            await asyncio.sleep(0.1)
        sub = await js.pull_subscribe("vanban.directory.person.upserted", stream="VANBAN_DIRECTORY")
        messages = await sub.fetch(10, timeout=5)
        usernames = sorted(
            events_pb2.PersonUpserted.FromString(m.data).person.username for m in messages
        )
        assert usernames == ["chuyenvien", "lanhdao", "luutru", "quantri", "truongphong", "vanthu"]
        assert all(m.headers and m.headers.get("Nats-Msg-Id") for m in messages)
    finally:
        await nc.close()
