"""An agency system's endpoint hears of registered documents as signed CloudEvents: every one,
once, through an outage, verified with the snippet of docs/webhooks.md; and deliveries never go
where they must not. Real notify, directory, NATS, PostgreSQL and an HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiohttp import web
from nats.js import JetStreamContext

from vanban.contracts.documents.v1 import documents_pb2 as docpb
from vanban.contracts.notify.v1 import notify_pb2 as pb
from vanban.contracts.notify.v1 import notify_pb2_grpc
from vanban.launcher.infra import NatsServer
from vanban.launcher.infra.ports import free_port
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.notify.adapters.webhooks.guard import DnsUrlGuard
from vanban.notify.app import build as build_notify
from vanban.notify.domain.webhooks import signature
from vanban.notify.settings import NotifySettings
from vanban.platform.errors import InvalidArgumentError
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import TokenMint, channel, metadata, running

from ..conftest import settings_for
from .test_incoming_notifications import DirectoryService, eventually, make_registered, publish

DOCS = Path(__file__).parents[4] / "docs" / "webhooks.md"


def documented_verify() -> Callable[..., bool]:
    """`verify` exactly as docs/webhooks.md gives it to the agencies' developers."""
    text = DOCS.read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    namespace: dict[str, Any] = {}
    # Our own documentation, run as the agencies will run it.
    exec(compile(code, str(DOCS), "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


class Receiver:
    """An agency system's endpoint on a fixed port, which a test may take down and bring back;
    it may take its time to answer, or answer with another status."""

    def __init__(self, *, delay: float = 0.0, status: int = 204, location: str = "") -> None:
        self.port = free_port()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.delay = delay
        self.status = status
        self.location = location
        self.in_flight = 0
        self.most_in_flight = 0
        self._runner: web.AppRunner | None = None

    def ids(self) -> list[str]:
        return [json.loads(body)["id"] for _, body in self.received]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/vanban"

    async def _hook(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            body = await request.read()
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        self.received.append((dict(request.headers), body))
        headers = {"Location": self.location} if self.location else None
        return web.Response(status=self.status, headers=headers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/vanban", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture(scope="module")
def notify_settings(
    make_database: DatabaseFactory,
    nats_server: NatsServer,
    mint: TokenMint,
    directory: DirectoryService,
) -> NotifySettings:
    # As `vanban up` runs it: loopback endpoints allowed; retries quick, for the test's sake.
    return settings_for(
        make_database("notify_webhooks"),
        nats_server,
        mint,
        directory.address,
        webhook_allow_http=True,
        webhook_allow_private=True,
        webhook_retry_first_seconds=0.2,
        webhook_retry_longest_seconds=1.0,
        webhook_poll_seconds=0.1,
        # An endpoint failing this long is disabled (a day in production).
        webhook_give_up_after_seconds=8.0,
        webhook_timeout_seconds=2.0,
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


async def call(address: str, token: str, method: str, request: Any) -> Any:
    async with channel(address) as ch:
        stub = notify_pb2_grpc.WebhookServiceStub(ch)
        return await getattr(stub, method)(request, metadata=metadata(token), timeout=10)


def admin(mint: TokenMint) -> str:
    return mint.person("admin-1", roles=("admin",))


async def test_fifty_registrations_arrive_signed_once_each_through_an_outage(
    notify: str, js: JetStreamContext, mint: TokenMint, receiver: Receiver
) -> None:
    created = await call(
        notify,
        admin(mint),
        "CreateWebhook",
        pb.CreateWebhookRequest(
            url=receiver.url, event_types=["incoming_document.registered"], description="QLVB"
        ),
    )
    secret = created.secret
    assert secret.startswith("whsec_")
    events = [make_registered(arrival_number=100 + i) for i in range(50)]
    secret_document = make_registered(arrival_number=7, secrecy=docpb.SECRECY_SECRET)
    ids = [str(uuid.uuid4()) for _ in events]
    for event, event_id in zip(events[:20], ids[:20], strict=True):
        await publish(js, event, event_id=event_id)
    await eventually(lambda: asyncio.sleep(0, len(receiver.received)), lambda n: n >= 20)
    # The endpoint goes down while registrations go on.
    await receiver.stop()
    for event, event_id in zip(events[20:], ids[20:], strict=True):
        await publish(js, event, event_id=event_id)
    await publish(js, secret_document, event_id=str(uuid.uuid4()))

    async def webhook() -> pb.Webhook:
        answer = await call(
            notify, admin(mint), "GetWebhook", pb.GetWebhookRequest(id=created.webhook.id)
        )
        return answer.webhook

    failing = await eventually(webhook, lambda w: w.HasField("failing_since") and w.pending > 0)
    assert failing.state == pb.WEBHOOK_STATE_ENABLED
    await asyncio.sleep(1.5)
    await receiver.start()
    await eventually(lambda: asyncio.sleep(0, len(receiver.received)), lambda n: n >= 50, within=60)
    await asyncio.sleep(1.0)

    verify = documented_verify()
    bodies = []
    for headers, body in receiver.received:
        assert headers["Content-Type"].startswith("application/cloudevents+json")
        assert headers["Vanban-Webhook-Id"] == created.webhook.id
        assert verify(secret, headers["Vanban-Signature"], body)
        assert not verify("whsec_someone-else", headers["Vanban-Signature"], body)
        assert not verify(secret, headers["Vanban-Signature"], body + b" ")
        bodies.append(json.loads(body))
    # Every registration once, in the order they came; never the secret one.
    assert [b["id"] for b in bodies] == ids
    assert [b["data"]["arrival_number"] for b in bodies] == [100 + i for i in range(50)]
    first = bodies[0]
    assert first["specversion"] == "1.0"
    assert first["type"] == "vn.gov.vanban.incoming_document.registered"
    assert first["subject"] == f"incoming-documents/{events[0].document.id}"
    assert first["data"]["subject"] == events[0].document.subject

    healthy = await webhook()
    assert not healthy.HasField("failing_since") and healthy.pending == 0
    listed = await call(
        notify,
        admin(mint),
        "ListWebhookDeliveries",
        pb.ListWebhookDeliveriesRequest(webhook_id=created.webhook.id, page_size=200),
    )
    assert len(listed.deliveries) == 50
    assert all(d.state == pb.DELIVERY_STATE_DELIVERED for d in listed.deliveries)
    retried = [d for d in listed.deliveries if d.attempt_count > 1]
    assert retried, "the outage left no failed attempt on record"
    failed_attempt = retried[0].attempts[-1]
    assert failed_attempt.status_code == 0 and failed_attempt.error

    # A replay sends the same event again, under the same id.
    replayed = await call(
        notify,
        admin(mint),
        "ReplayWebhookDelivery",
        pb.ReplayWebhookDeliveryRequest(
            webhook_id=created.webhook.id, delivery_id=listed.deliveries[0].id
        ),
    )
    assert replayed.delivery.state == pb.DELIVERY_STATE_PENDING
    await eventually(lambda: asyncio.sleep(0, len(receiver.received)), lambda n: n == 51)
    assert json.loads(receiver.received[-1][1])["id"] == listed.deliveries[0].event_id


async def test_only_an_administrator_manages_webhooks(notify: str, mint: TokenMint) -> None:
    clerk = mint.person("clerk-9", roles=("clerk",))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(notify, clerk, "ListWebhooks", pb.ListWebhooksRequest())
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(
            notify,
            clerk,
            "CreateWebhook",
            pb.CreateWebhookRequest(
                url="https://example.gov.vn/hook", event_types=["incoming_document.registered"]
            ),
        )
    assert remote_error(refused.value).reason == "ROLE_REQUIRED"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.gov.vn/hook", "INVALID_WEBHOOK_URL"),
        ("https://user:pw@example.gov.vn/hook", "INVALID_WEBHOOK_URL"),
        ("https://example.gov.vn/hook#x", "INVALID_WEBHOOK_URL"),
        ("https://", "INVALID_WEBHOOK_URL"),
        ("https://" + "a" * 2100 + ".vn/", "INVALID_WEBHOOK_URL"),
        ("https://bücher.de/hook", "INVALID_WEBHOOK_URL"),
        ("https://example.gov.vn/ hook", "INVALID_WEBHOOK_URL"),
    ],
)
async def test_a_url_that_is_no_endpoint_is_refused(
    notify: str, mint: TokenMint, url: str, reason: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(
            notify,
            admin(mint),
            "CreateWebhook",
            pb.CreateWebhookRequest(url=url, event_types=["incoming_document.registered"]),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert remote_error(refused.value).reason == reason


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "http://203.0.113.9/hook",
    ],
)
async def test_deliveries_never_go_to_private_addresses_or_plain_http_unless_allowed(
    url: str,
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        await DnsUrlGuard().check(url)
    assert refused.value.reason == "WEBHOOK_URL_NOT_ALLOWED"
    if url.startswith("https://"):
        # Development may allow them.
        await DnsUrlGuard(allow_private=True).check(url)


async def test_a_public_https_address_is_allowed() -> None:
    await DnsUrlGuard().check("https://8.8.8.8/hook")


async def test_a_platform_that_does_not_allow_it_refuses_a_private_endpoint(
    notify_settings: NotifySettings, mint: TokenMint
) -> None:
    """Production settings (the defaults): the URL is refused before anything is stored."""
    strict = notify_settings.model_copy(
        update={"webhook_allow_http": False, "webhook_allow_private": False, "grpc_port": 0}
    )
    async with running(build_notify(strict)) as address:
        for url in ("https://127.0.0.1:9/hook", "https://localhost/hook", "http://8.8.8.8/hook"):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(
                    address,
                    admin(mint),
                    "CreateWebhook",
                    pb.CreateWebhookRequest(url=url, event_types=["incoming_document.registered"]),
                )
            assert remote_error(refused.value).reason == "WEBHOOK_URL_NOT_ALLOWED"
        listed = await call(address, admin(mint), "ListWebhooks", pb.ListWebhooksRequest())
    assert [w.url for w in listed.webhooks if "127.0.0.1:9" in w.url or "localhost" in w.url] == []


async def subscribe(notify: str, mint: TokenMint, url: str) -> pb.CreateWebhookResponse:
    created: pb.CreateWebhookResponse = await call(
        notify,
        admin(mint),
        "CreateWebhook",
        pb.CreateWebhookRequest(url=url, event_types=["incoming_document.registered"]),
    )
    return created


async def forget(notify: str, mint: TokenMint, webhook_id: str) -> None:
    await call(notify, admin(mint), "DeleteWebhook", pb.DeleteWebhookRequest(id=webhook_id))


@pytest.fixture
async def second_notify(notify: str, notify_settings: NotifySettings) -> AsyncIterator[str]:
    """Another replica of notify on the same database and NATS."""
    async with running(build_notify(notify_settings.model_copy(update={"grpc_port": 0}))) as a:
        yield a


async def test_two_replicas_send_to_one_endpoint_one_at_a_time_each_once(
    notify: str, second_notify: str, js: JetStreamContext, mint: TokenMint
) -> None:
    receiver = Receiver(delay=0.2)
    await receiver.start()
    created = await subscribe(notify, mint, f"http://127.0.0.1:{receiver.port}/hooks/vanban")
    try:
        ids = [str(uuid.uuid4()) for _ in range(25)]
        for number, event_id in enumerate(ids):
            await publish(js, make_registered(arrival_number=500 + number), event_id=event_id)
        await eventually(lambda: asyncio.sleep(0, len(receiver.received)), lambda n: n >= 25)
        await asyncio.sleep(1.0)
    finally:
        await forget(notify, mint, created.webhook.id)
        await receiver.stop()
    assert receiver.most_in_flight == 1
    # Each once. (Two replicas handle events side by side: two recorded at the same moment
    # may swap; one replica keeps their order, as the outage test shows.)
    assert sorted(receiver.ids()) == sorted(ids)


async def test_a_slow_endpoint_delays_no_other(
    notify: str, js: JetStreamContext, mint: TokenMint
) -> None:
    # The slow one answers after the attempt's 2 s are up: every attempt fails, slowly.
    slow, quick = Receiver(delay=5.0), Receiver()
    for receiver in (slow, quick):
        await receiver.start()
    hooks = [
        await subscribe(notify, mint, f"http://127.0.0.1:{r.port}/hooks/vanban")
        for r in (slow, quick)
    ]
    try:
        ids = [str(uuid.uuid4()) for _ in range(5)]
        for number, event_id in enumerate(ids):
            await publish(js, make_registered(arrival_number=600 + number), event_id=event_id)
        await eventually(lambda: asyncio.sleep(0, quick.ids()), lambda got: got == ids, within=10)
        # Meanwhile the slow one took the first delivery and has not answered it.
        assert slow.received == []
        listed = await call(
            notify,
            admin(mint),
            "ListWebhookDeliveries",
            pb.ListWebhookDeliveriesRequest(webhook_id=hooks[0].webhook.id, page_size=10),
        )
        await asyncio.sleep(2.5)
        listed = await call(
            notify,
            admin(mint),
            "ListWebhookDeliveries",
            pb.ListWebhookDeliveriesRequest(webhook_id=hooks[0].webhook.id, page_size=10),
        )
        attempts = [a for d in listed.deliveries for a in d.attempts]
        assert attempts and attempts[0].error == "no answer within 2 s"
    finally:
        for hook in hooks:
            await forget(notify, mint, hook.webhook.id)
        for receiver in (slow, quick):
            await receiver.stop()


async def test_a_redirect_is_not_followed(
    notify: str, js: JetStreamContext, mint: TokenMint
) -> None:
    elsewhere = Receiver()
    await elsewhere.start()
    redirecting = Receiver(status=307, location=f"http://127.0.0.1:{elsewhere.port}/hooks/vanban")
    await redirecting.start()
    created = await subscribe(notify, mint, f"http://127.0.0.1:{redirecting.port}/hooks/vanban")
    try:
        await publish(js, make_registered(arrival_number=700), event_id=str(uuid.uuid4()))

        async def tried() -> list[pb.WebhookDelivery]:
            listed = await call(
                notify,
                admin(mint),
                "ListWebhookDeliveries",
                pb.ListWebhookDeliveriesRequest(webhook_id=created.webhook.id),
            )
            return [d for d in listed.deliveries if d.attempts]

        [delivery] = await eventually(tried, bool)
        assert delivery.state == pb.DELIVERY_STATE_PENDING
        assert delivery.attempts[-1].status_code == 307
        assert elsewhere.received == []
    finally:
        await forget(notify, mint, created.webhook.id)
        for receiver in (elsewhere, redirecting):
            await receiver.stop()


async def test_an_endpoint_failing_too_long_is_disabled_keeps_its_deliveries_and_resumes(
    notify: str, js: JetStreamContext, mint: TokenMint
) -> None:
    receiver = Receiver()  # not started: nobody answers on its port
    created = await subscribe(notify, mint, f"http://127.0.0.1:{receiver.port}/hooks/vanban")
    webhook_id = created.webhook.id

    async def webhook() -> pb.Webhook:
        answer = await call(notify, admin(mint), "GetWebhook", pb.GetWebhookRequest(id=webhook_id))
        return answer.webhook

    try:
        first = str(uuid.uuid4())
        await publish(js, make_registered(arrival_number=800), event_id=first)
        disabled = await eventually(
            webhook, lambda w: w.state == pb.WEBHOOK_STATE_DISABLED, within=40
        )
        assert disabled.disabled_reason.startswith("disabled by the platform: no successful")
        assert disabled.pending == 1
        # What comes while it is disabled waits too.
        second = str(uuid.uuid4())
        await publish(js, make_registered(arrival_number=801), event_id=second)
        await eventually(webhook, lambda w: w.pending == 2)
        await receiver.start()
        enabled = await call(
            notify,
            admin(mint),
            "UpdateWebhook",
            pb.UpdateWebhookRequest(id=webhook_id, enabled=True),
        )
        assert enabled.webhook.state == pb.WEBHOOK_STATE_ENABLED
        assert enabled.webhook.disabled_reason == ""
        await eventually(
            lambda: asyncio.sleep(0, receiver.ids()), lambda got: got == [first, second]
        )
        # An administrator disables it: nothing more is sent until enabled.
        await call(
            notify,
            admin(mint),
            "UpdateWebhook",
            pb.UpdateWebhookRequest(id=webhook_id, enabled=False),
        )
        await publish(js, make_registered(arrival_number=802), event_id=str(uuid.uuid4()))
        await eventually(webhook, lambda w: w.pending == 1)
        await asyncio.sleep(1.0)
        assert len(receiver.received) == 2
    finally:
        await forget(notify, mint, webhook_id)
        await receiver.stop()
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await webhook()
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


def test_the_documented_check_refuses_an_old_or_forged_signature() -> None:
    verify = documented_verify()
    body = b'{"id":"1"}'
    old = signature("whsec_k", int(time.time()) - 600, body)
    assert not verify("whsec_k", old, body)
    assert verify("whsec_k", signature("whsec_k", int(time.time()), body), body)
    for header in ("t=1,v1=é", "t=" + "9" * 400 + ",v1=00", "", "v1=00", "t=x"):
        assert not verify("whsec_k", header, body)
