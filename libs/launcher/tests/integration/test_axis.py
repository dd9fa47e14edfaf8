"""The exchange axis: packages go from one agency's exchange to another's inbox, once, and no
agency reads another's inbox.

Real nats-servers configured by `AxisServer`, reached through the exchange service's own
transport (`NatsAxis`) with each agency's own credentials, as `vanban up` runs them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import APIError

from vanban.exchange.adapters.axis import (
    AXIS_UNAVAILABLE,
    INBOX_FULL,
    NO_INBOX,
    REFUSED,
    NatsAxis,
)
from vanban.exchange.adapters.transport import Arrival, TransportError
from vanban.launcher.infra.axis import MAX_PACKAGE_BYTES, AxisAgency, AxisServer
from vanban.launcher.infra.nats import NatsUser
from vanban.launcher.platform import AgencySpec, Platform
from vanban.platform.axis_names import (
    INBOX_CONSUMER,
    agency_token,
    inbox_pull_subject,
    inbox_stream,
    inbox_subject,
)

A, B, C = "000.00.00.H98", "000.00.00.H99", "000.00.00.H97"
ACK_WAIT = 1.0

OpenAxis = Callable[..., Awaitable[NatsAxis]]
T = TypeVar("T")


@pytest.fixture(scope="module")
def agencies() -> dict[str, AxisAgency]:
    return {code: AxisAgency(code) for code in (A, B, C)}


@pytest.fixture(scope="module")
def axis(
    tmp_path_factory: pytest.TempPathFactory, agencies: dict[str, AxisAgency]
) -> Iterator[AxisServer]:
    # A short ack wait, so that redelivery shows within the test.
    with AxisServer(
        tmp_path_factory.mktemp("axis") / "data", agencies.values(), ack_wait=ACK_WAIT
    ) as server:
        yield server


@pytest.fixture
async def open_axis() -> AsyncIterator[OpenAxis]:
    """Starts agencies' transports; closes them after the test."""
    opened: list[NatsAxis] = []

    async def open_(url: str, code: str, **options: float) -> NatsAxis:
        transport = NatsAxis(url, code, **options)
        opened.append(transport)
        await transport.start()
        return transport

    yield open_
    for transport in opened:
        await transport.close()


@pytest.fixture
async def admin(axis: AxisServer) -> AsyncIterator[Client]:
    nc = await nats.connect(axis.url)
    yield nc
    await nc.close()


async def inbox_consumer(admin: Client, code: str) -> ConsumerInfo:
    return await admin.jetstream().consumer_info(inbox_stream(code), INBOX_CONSUMER)


async def fetch_one(transport: NatsAxis, *, wait: float = 3.0) -> Arrival:
    arrivals = await transport.fetch(batch=10, wait=wait)
    assert len(arrivals) == 1, arrivals
    return arrivals[0]


async def expect_unavailable(transport: NatsAxis) -> None:
    with pytest.raises(TransportError) as down:
        await transport.send(B, b"now?", message_id="unavailable")
    assert down.value.reason == AXIS_UNAVAILABLE


async def eventually(attempt: Callable[[], Awaitable[T]], *, within: float = 10.0) -> T:
    """The first result of `attempt` that is not a TransportError, retried for `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            return await attempt()
        except TransportError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)


# Names


def test_an_agency_code_maps_to_one_token_and_nothing_else_is_a_code() -> None:
    assert agency_token("000.00.00.H98") == "000_00_00_H98"
    assert inbox_subject("000.00.00.H98") == "axis.inbox.000_00_00_H98"
    assert inbox_stream("000.00.00.H98") == "INBOX_000_00_00_H98"
    for not_a_code in ("", "h98", "H98.>", "*", "000 00", "000.00.00.H98X", "A_B", ".H98"):
        with pytest.raises(ValueError, match="not an agency code"):
            inbox_subject(not_a_code)


# One axis, three agencies


async def test_a_package_reaches_its_recipient_once(
    axis: AxisServer, open_axis: OpenAxis, admin: Client
) -> None:
    sender = await open_axis(axis.agency_url(A), A)
    recipient = await open_axis(axis.agency_url(B), B)
    package = bytes(range(256)) * 400 + "Công văn số 12/UBND".encode()

    receipt = await sender.send(B, package, message_id="pkg-1:H99")
    stream, sequence = receipt.reference.split("#")
    assert (stream, receipt.duplicate) == ("INBOX_000_00_00_H99", False)
    # The same message id again (a sender's retry) is not stored twice.
    again = await sender.send(B, package, message_id="pkg-1:H99")
    assert again.duplicate and again.reference == receipt.reference

    arrival = await fetch_one(recipient)
    assert arrival.data == package
    assert arrival.message_id == "pkg-1:H99"
    assert arrival.delivery_count == 1
    assert arrival.reference == f"{stream}#{sequence}"  # type: ignore[attr-defined]
    await arrival.ack()
    # Confirmed: nothing pending or waiting for an ack when ack() has returned.
    consumer = await inbox_consumer(admin, B)
    assert (consumer.num_pending, consumer.num_ack_pending) == (0, 0)
    assert await recipient.fetch(batch=10, wait=0) == []
    # The sender's own inbox got nothing.
    assert await sender.fetch(batch=10, wait=0) == []


async def test_a_fetch_takes_a_batch_and_waits_no_longer_than_its_timeout(
    axis: AxisServer, open_axis: OpenAxis
) -> None:
    sender = await open_axis(axis.agency_url(C), C)
    recipient = await open_axis(axis.agency_url(A), A)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await recipient.fetch(batch=5, wait=0.3) == []
    assert 0.25 < loop.time() - started < 1.0
    for n in range(3):
        await sender.send(A, f"package {n}".encode(), message_id=f"batch-{n}")
    arrivals = await recipient.fetch(batch=5, wait=3)
    assert [arrival.data for arrival in arrivals] == [b"package 0", b"package 1", b"package 2"]
    for arrival in arrivals:
        await arrival.ack()


async def test_an_agency_cannot_read_or_settle_another_agencys_inbox(
    axis: AxisServer, open_axis: OpenAxis, admin: Client, agencies: dict[str, AxisAgency]
) -> None:
    """A holds valid credentials for the axis, and tries every way in to B's inbox."""
    sender = await open_axis(axis.agency_url(C), C)
    recipient = await open_axis(axis.agency_url(B), B)
    intruder = await nats.connect(axis.agency_url(A))
    try:
        # Listening to everything A's account can see while C writes to B and B reads: nothing.
        overheard: list[Msg] = []
        listening = [await intruder.subscribe(">", cb=_keep(overheard))]
        await intruder.flush()
        await sender.send(B, b"for B only", message_id="secret-1")
        arrival = await fetch_one(recipient)
        assert arrival.data == b"for B only"
        await intruder.flush()
        assert overheard == []
        for subscription in listening:
            await subscription.unsubscribe()

        # Pulling from B's consumer, as B's transport does: nobody answers A.
        pull = json.dumps({"batch": 10, "expires": 1_000_000_000}).encode()
        with pytest.raises(nats.errors.NoRespondersError):
            await intruder.request(inbox_pull_subject(B), pull, timeout=2)
        # Settling B's arrival, even with its ack subject in hand: nobody answers either.
        with pytest.raises(nats.errors.NoRespondersError):
            await intruder.request(arrival._ack_subject, b"+ACK", timeout=2)  # type: ignore[attr-defined]
        assert (await inbox_consumer(admin, B)).num_ack_pending == 1
        # A's account has no JetStream API at all: no stream or consumer to see, make or wipe.
        js = intruder.jetstream(timeout=2)
        attempts: list[Callable[[], Awaitable[object]]] = [
            lambda: js.stream_info(inbox_stream(B)),
            lambda: js.consumer_info(inbox_stream(B), INBOX_CONSUMER),
            lambda: js.delete_stream(inbox_stream(B)),
            lambda: js.purge_stream(inbox_stream(B)),
            lambda: js.add_consumer(
                inbox_stream(B),
                ConsumerConfig(deliver_subject="stolen", deliver_policy=DeliverPolicy.ALL),
            ),
        ]
        for attempt in attempts:
            with pytest.raises(APIError, match="JetStream not enabled for account"):
                await attempt()
        # B's password is B's alone: A's user name with it, or B's with A's, gets no connection.
        for user, password in ((A, agencies[B].password), (B, agencies[A].password)):
            with pytest.raises(nats.errors.Error):
                await nats.connect(
                    f"nats://{user}:{password}@127.0.0.1:{axis.port}",
                    allow_reconnect=False,
                    connect_timeout=2,
                )
    finally:
        await intruder.close()
    # B's package is intact, and B settles it.
    await arrival.ack()
    consumer = await inbox_consumer(admin, B)
    assert (consumer.num_pending, consumer.num_ack_pending) == (0, 0)


def _keep(into: list[Msg]) -> Callable[[Msg], Awaitable[None]]:
    async def keep(msg: Msg) -> None:
        into.append(msg)

    return keep


async def test_an_unsettled_arrival_comes_again(
    axis: AxisServer, open_axis: OpenAxis, admin: Client
) -> None:
    sender = await open_axis(axis.agency_url(A), A)
    recipient = await open_axis(axis.agency_url(C), C)
    await sender.send(C, b"read me twice", message_id="redelivered-1")

    first = await fetch_one(recipient)
    assert first.delivery_count == 1
    # Not acked within the ack wait: delivered again, counted.
    assert await recipient.fetch(batch=10, wait=ACK_WAIT / 3) == []
    second = await fetch_one(recipient, wait=ACK_WAIT * 3)
    assert (second.message_id, second.delivery_count) == ("redelivered-1", 2)
    # A nak with a delay: not before the delay, then again.
    await second.nak(delay=0.8)
    assert await recipient.fetch(batch=10, wait=0.3) == []
    third = await fetch_one(recipient, wait=3)
    assert (third.data, third.delivery_count) == (b"read me twice", 3)
    await third.ack()
    consumer = await inbox_consumer(admin, C)
    assert (consumer.num_pending, consumer.num_ack_pending) == (0, 0)


async def test_a_package_over_the_limit_is_refused_and_one_under_it_is_taken(
    axis: AxisServer, open_axis: OpenAxis
) -> None:
    sender = await open_axis(axis.agency_url(A), A)
    recipient = await open_axis(axis.agency_url(B), B)
    # The stream's limit counts the headers too.
    just_under = os.urandom(MAX_PACKAGE_BYTES - 1024)
    await sender.send(B, just_under, message_id="big-ok")
    arrival = await fetch_one(recipient)
    assert arrival.data == just_under
    await arrival.ack()
    # Over the inbox's limit: the stream refuses it and says why.
    with pytest.raises(TransportError, match="message size exceeds maximum allowed") as refused:
        await sender.send(B, b"x" * (MAX_PACKAGE_BYTES + 1), message_id="big-1")
    assert refused.value.reason == REFUSED
    # Over the server's protocol limit too: refused before it is sent, the connection kept.
    with pytest.raises(TransportError, match="larger than the axis takes") as refused:
        await sender.send(B, b"x" * (2 * MAX_PACKAGE_BYTES), message_id="big-2")
    assert refused.value.reason == REFUSED
    assert (await sender.send(B, b"small", message_id="after-big")).duplicate is False
    await (await fetch_one(recipient)).ack()


async def test_an_inbox_bounds_what_waits_not_what_ever_passed_through(
    tmp_path: Path, open_axis: OpenAxis
) -> None:
    # An inbox of 3 MiB: four packages of 1 MiB taken one after the other all pass (a taken
    # package leaves the inbox), four left waiting do not.
    small = AxisAgency(A), AxisAgency(B)
    with AxisServer(tmp_path / "data", small, inbox_max_bytes=3 * 1024 * 1024) as server:
        sender = await open_axis(server.agency_url(A), A)
        recipient = await open_axis(server.agency_url(B), B)
        package = os.urandom(1024 * 1024)
        for number in range(4):
            await sender.send(B, package, message_id=f"taken-{number}")
            await (await fetch_one(recipient)).ack()
        for number in range(2):
            await sender.send(B, package, message_id=f"waiting-{number}")
        with pytest.raises(TransportError) as full:
            for number in range(2, 4):
                await sender.send(B, package, message_id=f"waiting-{number}")
        assert full.value.reason == INBOX_FULL, str(full.value)


async def test_a_package_for_an_agency_without_an_inbox_is_not_taken(
    axis: AxisServer, open_axis: OpenAxis
) -> None:
    sender = await open_axis(axis.agency_url(A), A)
    with pytest.raises(TransportError, match=r"no inbox of 000\.00\.00\.Z99") as raised:
        await sender.send("000.00.00.Z99", b"nobody", message_id="lost-1")
    assert raised.value.reason == NO_INBOX
    # Not an agency code, so no inbox either: never a wildcard addressing every inbox.
    with pytest.raises(TransportError, match="not an agency code") as raised:
        await sender.send(">", b"everyone", message_id="wild-1")
    assert raised.value.reason == NO_INBOX


def test_the_axis_configuration_is_private(axis: AxisServer) -> None:
    assert stat.S_IMODE(axis.config_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(axis.data_dir.stat().st_mode) == 0o700


# Crashes and restarts


async def test_packages_survive_a_killed_axis_and_transports_reconnect(
    tmp_path: Path, open_axis: OpenAxis
) -> None:
    server = AxisServer(tmp_path / "data", [AxisAgency(A), AxisAgency(B)])
    # Started before its axis, a transport goes on trying in the background.
    sender = await open_axis(server.agency_url(A), A, start_wait=0.2, send_timeout=1.0)
    await expect_unavailable(sender)
    try:
        await server.astart()
        recipient = await open_axis(server.agency_url(B), B)
        receipt = await eventually(lambda: sender.send(B, b"kept", message_id="kept-1"))

        assert server.pid is not None
        os.killpg(server.pid, signal.SIGKILL)
        await expect_unavailable(sender)
        await server.astart()

        # The same transports, reconnected by themselves, find the package and its id kept.
        arrival = await eventually(lambda: fetch_one(recipient))
        assert (arrival.data, arrival.message_id, arrival.delivery_count) == (b"kept", "kept-1", 1)
        await arrival.ack()
        again = await eventually(lambda: sender.send(B, b"kept", message_id="kept-1"))
        assert again.duplicate and again.reference == receipt.reference
    finally:
        await server.astop()


async def test_an_axis_restarted_with_more_agencies_keeps_its_inboxes_and_adds_theirs(
    tmp_path: Path, open_axis: OpenAxis
) -> None:
    first = [AxisAgency(A), AxisAgency(B)]
    with AxisServer(tmp_path / "data", first) as server:
        sender = await open_axis(server.agency_url(A), A)
        await sender.send(B, b"before", message_id="before-1")
        port, admin_password = server.port, server.admin.password
    newcomer = AxisAgency(C)
    with AxisServer(
        tmp_path / "data", [*first, newcomer], port=port, admin_password=admin_password
    ) as server:
        third = await open_axis(server.agency_url(C), C)
        await third.send(B, b"from the newcomer", message_id="new-1")
        await eventually(lambda: sender.send(C, b"welcome", message_id="welcome-1"))
        recipient = await open_axis(server.agency_url(B), B)
        arrivals = await recipient.fetch(batch=10, wait=3)
        assert [arrival.data for arrival in arrivals] == [b"before", b"from the newcomer"]
        assert (await fetch_one(third)).data == b"welcome"


# The launcher's own axis


async def test_the_platform_gives_each_agencys_exchange_its_own_account_on_one_axis(
    tmp_path: Path, open_axis: OpenAxis
) -> None:
    """`vanban up`'s wiring, without the rest of the platform: only its axis is started."""
    platform = Platform(tmp_path / "data", [AgencySpec(A), AgencySpec(B)], fast=True)
    urls = {
        agency.spec.code: agency.env("exchange")["VANBAN_EXCHANGE_AXIS_URL"]
        for agency in platform.agencies
    }
    # Each from the platform's 0600 secrets, made once: not in the repository, not shared.
    secrets = platform.secrets.path
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    stored = json.loads(secrets.read_text())["axis"]
    assert stored["admin"] not in urls[A] + urls[B]
    assert stored["agencies"][A] in urls[A] and stored["agencies"][B] in urls[B]
    assert platform.axis.data_dir == tmp_path / "data" / "infra" / "axis" / "data"
    async with platform.axis:
        sender = await open_axis(urls[A], A)
        recipient = await open_axis(urls[B], B)
        await sender.send(B, b"via vanban up", message_id="platform-1")
        arrival = await fetch_one(recipient)
        assert arrival.data == b"via vanban up"
        await arrival.ack()


# Leaf nodes: a province's axis joined to the national one


async def test_agencies_on_a_province_axis_and_on_the_national_one_reach_each_other(
    tmp_path: Path, open_axis: OpenAxis
) -> None:
    central, provincial = "000.00.00.G22", "000.01.00.X01"
    national = AxisServer(
        tmp_path / "national" / "data",
        [AxisAgency(central)],
        leaf_users=[NatsUser("leaf-x01")],
    )
    province = AxisServer(
        tmp_path / "province" / "data",
        [AxisAgency(provincial)],
        name="x01",
        leaf_remote=national.leaf_url("leaf-x01"),
    )
    async with national, province:
        g22 = await open_axis(national.agency_url(central), central)
        x01 = await open_axis(province.agency_url(provincial), provincial)
        # Interest crosses the leaf connection a moment after it is made.
        up = await eventually(lambda: x01.send(central, b"up", message_id="up-1"))
        down = await eventually(lambda: g22.send(provincial, b"down", message_id="down-1"))
        # Each inbox stays on its own agency's axis.
        assert up.reference == "INBOX_000_00_00_G22#1"
        assert down.reference == "INBOX_000_01_00_X01#1"
        for transport, expected in ((g22, b"up"), (x01, b"down")):
            arrival = await fetch_one(transport)
            assert arrival.data == expected
            await arrival.ack()
        # The province's agency reaches the national inbox, not the national consumer.
        pull = json.dumps({"batch": 1, "no_wait": True}).encode()
        nc = await nats.connect(province.agency_url(provincial))
        try:
            with pytest.raises(nats.errors.NoRespondersError):
                await nc.request(inbox_pull_subject(central), pull, timeout=2)
        finally:
            await nc.close()
        # Nor does the province's own admin reach the national JetStream API across the leaf.
        nc = await nats.connect(province.url)
        try:
            for subject in (
                f"$JS.national.API.STREAM.INFO.{inbox_stream(central)}",
                f"$JS.national.API.CONSUMER.MSG.NEXT.{inbox_stream(central)}.{INBOX_CONSUMER}",
            ):
                with pytest.raises((nats.errors.NoRespondersError, nats.errors.TimeoutError)):
                    await nc.request(subject, pull, timeout=1)
            # (Its own domain's API answers it, as the control.)
            own = await nc.request(f"$JS.x01.API.STREAM.INFO.{inbox_stream(provincial)}", timeout=2)
            assert json.loads(own.data)["config"]["name"] == inbox_stream(provincial)
        finally:
            await nc.close()
