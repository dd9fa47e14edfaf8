"""A registered incoming document, published as the documents service publishes it, becomes one
notice in every clerk's inbox, read through notify's gRPC API; the directory is real."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from nats.js.api import PubAck
from sqlalchemy import func, select

from vanban.contracts.directory.v1 import directory_pb2 as dpb
from vanban.contracts.directory.v1 import directory_pb2_grpc
from vanban.contracts.documents.v1 import documents_pb2 as docpb
from vanban.contracts.documents.v1 import events_pb2 as docevents
from vanban.contracts.notify.v1 import events_pb2 as notify_events
from vanban.contracts.notify.v1 import notify_pb2 as pb
from vanban.contracts.notify.v1 import notify_pb2_grpc
from vanban.notify.adapters.db.tables import notifications, platform_tables
from vanban.notify.adapters.directory import DirectoryPeople
from vanban.notify.adapters.events.incoming import DURABLE, SUBJECT, IncomingRegisteredHandler
from vanban.notify.settings import NotifySettings
from vanban.platform.db import UnitOfWork, create_engine, session_factory
from vanban.platform.events.consumer import EventContext
from vanban.platform.events.nats import ensure_service_stream, stream_name
from vanban.platform.grpc.client import open_channel
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import DEMO_AGENCY, TokenMint, channel, metadata

T = TypeVar("T")


class DirectoryService(Protocol):
    """The `directory` fixture: the real directory, which a test may stop and start again."""

    address: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def make_registered(**overrides: object) -> docevents.IncomingDocumentRegistered:
    document = docpb.IncomingDocument(
        id=str(uuid.uuid4()),
        arrival_number=12,
        arrival_year=2026,
        issuer_code="000.00.00.G22",
        issuer_name="Văn phòng Chính phủ",
        code_number="7816",
        code_notation="VPCP-TTĐT",
        issued_date="2026-03-01",
        document_type="Công văn",
        subject="V/v triển khai gửi, nhận văn bản điện tử",
        priority=docpb.PRIORITY_NORMAL,
        secrecy=docpb.SECRECY_NONE,
        registered_by="clerk",
    )
    for name, value in overrides.items():
        setattr(document, name, value)
    occurred_at = Timestamp()
    occurred_at.GetCurrentTime()
    return docevents.IncomingDocumentRegistered(
        document=document, agency_code=DEMO_AGENCY, occurred_at=occurred_at
    )


async def publish(
    js: JetStreamContext, event: docevents.IncomingDocumentRegistered, *, event_id: str
) -> PubAck:
    return await js.publish(
        SUBJECT,
        event.SerializeToString(),
        headers={
            "Nats-Msg-Id": event_id,
            "ce-type": event.DESCRIPTOR.full_name,
            "ce-source": f"/agencies/{DEMO_AGENCY}/documents",
        },
    )


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, within: float = 20.0
) -> T:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if done(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r} after {within} s")
        await asyncio.sleep(0.1)


async def inbox(address: str, token: str, *, page_size: int = 0) -> list[pb.Notification]:
    """Every notice of the token's person, walking all pages."""
    notifications: list[pb.Notification] = []
    page_token = ""
    async with channel(address) as ch:
        stub = notify_pb2_grpc.NotifyServiceStub(ch)
        while True:
            answer = await stub.ListNotifications(
                pb.ListNotificationsRequest(page_size=page_size, page_token=page_token),
                metadata=metadata(token),
                timeout=10,
            )
            notifications.extend(answer.notifications)
            page_token = answer.next_page_token
            if not page_token:
                return notifications


async def consumer_idle(js: JetStreamContext) -> bool:
    info = await js.consumer_info(stream_name("documents"), DURABLE)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def person(
    directory: DirectoryService, mint: TokenMint, role: dpb.Role.ValueType
) -> dpb.Person:
    async with channel(directory.address) as ch:
        answer = await directory_pb2_grpc.DirectoryServiceStub(ch).ListPeople(
            dpb.ListPeopleRequest(role=role), metadata=metadata(mint.service()), timeout=10
        )
    [found] = answer.people
    return found


@pytest.fixture(scope="module")
async def clerk_token(directory: DirectoryService, mint: TokenMint) -> str:
    clerk = await person(directory, mint, dpb.ROLE_CLERK)
    return mint.person(clerk.id, roles=("clerk",), units=clerk.unit_codes)


@pytest.fixture(scope="module")
async def clerk_id(directory: DirectoryService, mint: TokenMint) -> str:
    return (await person(directory, mint, dpb.ROLE_CLERK)).id


def about(notifications: list[pb.Notification], document_id: str) -> list[pb.Notification]:
    return [n for n in notifications if n.resource == f"incoming-documents/{document_id}"]


def mentions(notifications: list[pb.Notification], *, document_id: str) -> bool:
    return bool(about(notifications, document_id))


async def test_a_registered_document_gives_the_clerk_one_notice(
    notify: str, js: JetStreamContext, clerk_token: str, clerk_id: str
) -> None:
    event = make_registered(arrival_number=12, arrival_year=2026)
    await publish(js, event, event_id=str(uuid.uuid4()))

    notices = await eventually(
        lambda: inbox(notify, clerk_token), lambda ns: bool(about(ns, event.document.id))
    )

    [notice] = about(notices, event.document.id)
    assert notice.title == "Văn bản đến mới: số đến 12/2026"
    assert notice.body == (
        "Văn phòng Chính phủ — 7816/VPCP-TTĐT: V/v triển khai gửi, nhận văn bản điện tử"
    )
    assert notice.kind == pb.NOTIFICATION_KIND_INCOMING_REGISTERED
    assert notice.recipient_id == clerk_id
    assert not notice.read
    # The notice is announced as a fact for the others (e.g. the gateway's live push).
    sub = await js.pull_subscribe(
        "vanban.notify.notification.recorded", stream=stream_name("notify")
    )
    messages = await eventually(lambda: sub.fetch(10, timeout=2), lambda ms: bool(ms))
    recorded = [notify_events.NotificationRecorded.FromString(m.data) for m in messages]
    assert notice.id in {r.notification.id for r in recorded}


async def test_publishing_the_same_event_twice_gives_one_notice(
    notify: str, js: JetStreamContext, clerk_token: str
) -> None:
    event = make_registered(arrival_number=13)
    event_id = str(uuid.uuid4())
    await publish(js, event, event_id=event_id)
    again = await publish(js, event, event_id=event_id)
    assert again.duplicate  # JetStream itself drops the copy inside its duplicate window

    await eventually(
        lambda: inbox(notify, clerk_token), lambda ns: bool(about(ns, event.document.id))
    )
    await eventually(lambda: consumer_idle(js), bool)
    assert len(about(await inbox(notify, clerk_token), event.document.id)) == 1


async def test_an_event_delivered_again_after_the_duplicate_window_gives_no_second_notice(
    notify: str, js: JetStreamContext, clerk_token: str
) -> None:
    event = make_registered(arrival_number=14)
    event_id = str(uuid.uuid4())
    await publish(js, event, event_id=event_id)
    await eventually(
        lambda: inbox(notify, clerk_token), lambda ns: bool(about(ns, event.document.id))
    )
    # Let the stream forget the id, so the copy is stored and delivered like a redelivery.
    info = await js.stream_info(stream_name("documents"))
    config = info.config
    config.duplicate_window = 0.5
    await js.update_stream(config)
    try:
        await asyncio.sleep(1.0)
        copy = await publish(js, event, event_id=event_id)
        assert not copy.duplicate
        # The copy was delivered and acknowledged, as a duplicate (the consumer's state is
        # read until its ack has landed: a busy machine shows it a moment later).
        await eventually(
            lambda: js.consumer_info(stream_name("documents"), DURABLE),
            lambda info: info.ack_floor.stream_seq >= copy.seq and info.num_ack_pending == 0,
        )
    finally:
        await ensure_service_stream(js, "documents")

    assert len(about(await inbox(notify, clerk_token), event.document.id)) == 1


async def test_nobody_else_sees_the_clerks_notices(
    notify: str,
    js: JetStreamContext,
    clerk_token: str,
    directory: DirectoryService,
    mint: TokenMint,
) -> None:
    event = make_registered(arrival_number=15)
    await publish(js, event, event_id=str(uuid.uuid4()))
    await eventually(
        lambda: inbox(notify, clerk_token), lambda ns: bool(about(ns, event.document.id))
    )
    leader = await person(directory, mint, dpb.ROLE_AGENCY_LEADER)
    assert await inbox(notify, mint.person(leader.id, roles=("agency_leader",))) == []

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inbox(notify, mint.service("gateway"))
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert remote_error(raised.value).reason == "NOT_A_PERSON"


async def test_the_inbox_pages_newest_first(
    notify: str, js: JetStreamContext, clerk_token: str
) -> None:
    events = [make_registered(arrival_number=100 + i) for i in range(3)]
    for event in events:
        await publish(js, event, event_id=str(uuid.uuid4()))
        # One at a time, so their order of arrival is their order in the inbox.
        await eventually(
            lambda: inbox(notify, clerk_token),
            # Bound to this event's document (a lambda would close over the loop variable).
            functools.partial(mentions, document_id=event.document.id),
        )
    paged = await inbox(notify, clerk_token, page_size=2)
    assert paged == await inbox(notify, clerk_token)
    assert len({n.id for n in paged}) == len(paged)
    created = [(n.created_at.ToDatetime(), n.id) for n in paged]
    assert created == sorted(created, reverse=True)
    assert [n.title for n in paged[:3]] == [
        "Văn bản đến mới: số đến 102/2026",
        "Văn bản đến mới: số đến 101/2026",
        "Văn bản đến mới: số đến 100/2026",
    ]


async def test_with_the_directory_down_the_event_is_retried_until_it_is_back(
    notify: str, js: JetStreamContext, clerk_token: str, directory: DirectoryService
) -> None:
    await directory.stop()
    try:
        event = make_registered(arrival_number=16)
        await publish(js, event, event_id=str(uuid.uuid4()))

        async def redelivered() -> int:
            info = await js.consumer_info(stream_name("documents"), DURABLE)
            return info.num_redelivered

        # The handler failed at least once and the message came back for another try.
        await eventually(redelivered, lambda n: n >= 1, within=30)
        assert about(await inbox(notify, clerk_token), event.document.id) == []
    finally:
        await directory.start()

    notices = await eventually(
        lambda: inbox(notify, clerk_token),
        lambda ns: bool(about(ns, event.document.id)),
        within=90,
    )
    assert len(about(notices, event.document.id)) == 1
    await eventually(lambda: consumer_idle(js), bool)


async def test_the_store_refuses_a_second_notice_for_the_same_event_and_person(
    notify: str, notify_settings: NotifySettings, directory: DirectoryService, mint: TokenMint
) -> None:
    """Even a path that skipped the processed-events check cannot notify anyone twice."""
    engine = create_engine(notify_settings.database_url, pool_size=1)
    directory_channel = open_channel(directory.address, fallback_token=lambda: mint.service())
    handler = IncomingRegisteredHandler(people=DirectoryPeople(directory_channel))
    event = make_registered(arrival_number=17)
    context = EventContext(event_id=str(uuid.uuid4()), subject=SUBJECT, delivery=1)
    try:
        for _ in range(2):
            async with UnitOfWork(
                session_factory(engine), tables=platform_tables, source="/test"
            ) as uow:
                await handler(uow, event, context)
                await uow.commit()
        async with engine.connect() as connection:
            stored = (
                await connection.execute(
                    select(func.count())
                    .select_from(notifications)
                    .where(notifications.c.source_event_id == context.event_id)
                )
            ).scalar_one()
    finally:
        await directory_channel.close()
        await engine.dispose()
    assert stored == 1


async def test_a_persons_notices_are_numbered_in_commit_order_without_gaps(
    notify: str,
    notify_settings: NotifySettings,
    directory: DirectoryService,
    mint: TokenMint,
    clerk_id: str,
) -> None:
    """A notice recorded while another for the same person is not yet committed waits for it and
    takes the next number: whoever has seen number n has seen every number below it."""
    engine = create_engine(notify_settings.database_url, pool_size=2)
    directory_channel = open_channel(directory.address, fallback_token=lambda: mint.service())
    handler = IncomingRegisteredHandler(people=DirectoryPeople(directory_channel))
    sessions = session_factory(engine)
    first, second = make_registered(arrival_number=41), make_registered(arrival_number=42)
    first_context = EventContext(event_id=str(uuid.uuid4()), subject=SUBJECT, delivery=1)

    async def record(event: docevents.IncomingDocumentRegistered, context: EventContext) -> None:
        async with UnitOfWork(sessions, tables=platform_tables, source="/test") as uow:
            await handler(uow, event, context)
            await uow.commit()

    try:
        async with UnitOfWork(sessions, tables=platform_tables, source="/test") as uow:
            await handler(uow, first, first_context)
            later = asyncio.create_task(
                record(
                    second, EventContext(event_id=str(uuid.uuid4()), subject=SUBJECT, delivery=1)
                )
            )
            await asyncio.sleep(1.0)
            assert not later.done(), "the second notice was numbered before the first committed"
            await uow.commit()
        await later
        # The first event recorded again takes no number.
        await record(first, first_context)
        async with engine.connect() as connection:
            numbers = {
                row.resource: row.sequence
                for row in await connection.execute(
                    select(notifications.c.resource, notifications.c.sequence).where(
                        notifications.c.recipient_id == clerk_id
                    )
                )
            }
    finally:
        await directory_channel.close()
        await engine.dispose()
    mine = sorted(numbers.values())
    assert mine == list(range(1, len(mine) + 1))
    assert (
        numbers[f"incoming-documents/{second.document.id}"]
        == numbers[f"incoming-documents/{first.document.id}"] + 1
    )
    assert max(mine) == numbers[f"incoming-documents/{second.document.id}"]
