"""An agency system hears of every registration made at the gateway as a signed CloudEvent,
once each, through an outage of its own; administrators see and replay the deliveries."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.e2e.support import Gateway, make_pdf, metadata
from vanban.launcher.infra.ports import free_port

DOCS = Path(__file__).parents[2] / "docs" / "webhooks.md"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def documented_verify() -> Callable[..., bool]:
    """`verify` as docs/webhooks.md gives it to the agencies' developers."""
    [code] = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    namespace: dict[str, Any] = {}
    # Our own documentation, run as the agencies will run it.
    exec(compile(code, str(DOCS), "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


async def until(check: Callable[[], Any], *, within: float = 60.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.2)


async def test_an_agency_system_hears_of_fifty_registrations_once_each_through_an_outage(
    gateway: Gateway, clerk_token: str, receiver: Receiver
) -> None:
    admin = gateway.token("quantri")
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as client:
        created = await client.post(
            "/v1/webhooks",
            headers=auth(admin),
            json={
                "url": f"http://127.0.0.1:{receiver.port}/hook",
                "event_types": ["incoming_document.registered"],
                "description": "Hệ thống QLVB",
            },
        )
        assert created.status_code == 201, created.text
        webhook = created.json()
        assert webhook["secret"].startswith("whsec_") and webhook["state"] == "enabled"
        listed = await client.get("/v1/webhooks", headers=auth(admin))
        assert "secret" not in listed.json()[0]

        async def register(number: int) -> str:
            response = await client.post(
                "/v1/incoming-documents",
                headers=auth(clerk_token),
                files={"file": ("van-ban.pdf", make_pdf(f"webhook {number}"), "application/pdf")},
                data={"metadata": json.dumps(metadata(subject=f"Văn bản thử webhook {number}"))},
            )
            assert response.status_code == 201, response.text
            document_id: str = response.json()["id"]
            return document_id

        registered = [await register(n) for n in range(20)]
        await until(lambda: len(receiver.received) >= 20)
        await receiver.stop()
        registered += [await register(n) for n in range(20, 50)]

        async def state() -> dict[str, Any]:
            answer = await client.get(f"/v1/webhooks/{webhook['id']}", headers=auth(admin))
            body: dict[str, Any] = answer.json()
            return body

        failing = await state()
        deadline = asyncio.get_running_loop().time() + 30
        while not failing.get("failing_since"):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.2)
            failing = await state()
        assert failing["pending"] > 0 and failing["state"] == "enabled"
        await receiver.start()
        await until(lambda: len(receiver.received) >= 50, within=90)
        await asyncio.sleep(1)

        deliveries = await client.get(
            f"/v1/webhooks/{webhook['id']}/deliveries",
            headers=auth(admin),
            params={"page_size": 200},
        )
        assert deliveries.status_code == 200
        items = deliveries.json()["items"]
        assert len(items) == 50 and {d["state"] for d in items} == {"delivered"}
        assert any(d["attempt_count"] > 1 and d["attempts"][-1]["error"] for d in items)

        # The clerk may not see any of it.
        refused = await client.get("/v1/webhooks", headers=auth(clerk_token))
        assert refused.status_code == 403

    verify = documented_verify()
    events = []
    for headers, body in receiver.received:
        assert verify(webhook["secret"], headers["Vanban-Signature"], body)
        events.append(json.loads(body))
    assert [e["data"]["id"] for e in events] == registered
    assert len({e["id"] for e in events}) == 50
    assert events[0]["type"] == "vn.gov.vanban.incoming_document.registered"
    assert events[0]["data"]["subject"] == "Văn bản thử webhook 0"


def test_a_webhook_needs_a_proper_url_and_known_event_types(gateway: Gateway) -> None:
    admin = gateway.token("quantri")
    for body, code in (
        (
            {"url": "ftp://x.gov.vn/h", "event_types": ["incoming_document.registered"]},
            "INVALID_WEBHOOK_URL",
        ),
        ({"url": "https://x.gov.vn/h", "event_types": ["everything"]}, "VALIDATION_FAILED"),
        ({"url": "https://x.gov.vn/h", "event_types": []}, "VALIDATION_FAILED"),
        (
            {
                "url": "https://no-such-host.invalid/h",
                "event_types": ["incoming_document.registered"],
            },
            "WEBHOOK_URL_NOT_ALLOWED",
        ),
    ):
        answer = gateway.http.post("/v1/webhooks", headers=auth(admin), json=body)
        assert answer.status_code == (422 if code == "VALIDATION_FAILED" else 400), answer.text
        assert answer.json()["code"] == code
    missing = gateway.http.get(
        "/v1/webhooks/00000000-0000-0000-0000-000000000000", headers=auth(admin)
    )
    assert missing.status_code == 404 and missing.json()["code"] == "WEBHOOK_NOT_FOUND"
