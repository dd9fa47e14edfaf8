"""An agency system's endpoint hears of registered documents as signed CloudEvents: every one,
once, through an outage, verified with the snippet of docs/webhooks.md; and deliveries never go
where they must not. Real notify, directory, NATS, PostgreSQL and an HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import re
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
from vanban.notify.settings import NotifySettings
from vanban.platform.errors import InvalidArgumentError
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import DEMO_AGENCY, TokenMint, channel, metadata, running

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
    """An agency system's endpoint on a fixed port, which a test may take down and bring back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/vanban"

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

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
    return NotifySettings(
        agency_code=DEMO_AGENCY,
        keys_dir=mint.keys_dir,
        nats_url=nats_server.url,
        database_url=make_database("notify_webhooks"),
        peers={"directory": directory.address},
        shutdown_grace=2.0,
        webhook_allow_http=True,
        webhook_allow_private=True,
        webhook_retry_first_seconds=0.2,
        webhook_retry_longest_seconds=1.0,
        webhook_poll_seconds=0.1,
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
