"""Sends the webhook deliveries: each endpoint drained by one sender at a time, of all replicas
(it holds the endpoint, renewing before each attempt), in the order the events came, one at a
time; an endpoint that fails backs off alone, and a slow one delays only itself."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from opentelemetry import metrics

from vanban.notify.adapters.db.webhooks import SqlWebhooks
from vanban.notify.adapters.webhooks.guard import DnsUrlGuard
from vanban.notify.domain.webhooks import (
    SIGNATURE_HEADER,
    WEBHOOK_ID_HEADER,
    Attempt,
    Delivery,
    RetryPolicy,
    Webhook,
    after_failure,
    signature,
)
from vanban.platform.db import UnitOfWork
from vanban.platform.errors import InvalidArgumentError

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
USER_AGENT = "Vanban-Webhooks/1"


class WebhookSender:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        guard: DnsUrlGuard,
        policy: RetryPolicy,
        timeout: float,
        max_endpoints: int,
        poll_seconds: float = 0.5,
        batch: int = 10,
    ) -> None:
        self._uow = uow_factory
        self._guard = guard
        self._policy = policy
        self._timeout = timeout
        self._max = max_endpoints
        self._poll = poll_seconds
        # Long enough for one attempt, which it renews before: a sender that died lets go
        # after this long.
        self._lease = timedelta(seconds=2 * timeout + 30)
        self._batch = batch
        self._running: dict[str, asyncio.Task[None]] = {}
        meter = metrics.get_meter("vanban.notify")
        self._attempts = meter.create_counter(
            "vanban.webhook.attempts", description="Webhook delivery attempts by outcome"
        )
        self._disabled = meter.create_counter(
            "vanban.webhook.disabled", description="Endpoints the platform disabled after a day"
        )

    async def run(self, stop: asyncio.Event) -> None:
        # No connection is kept: each delivery connects to the address just checked.
        async with httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(self._timeout),
            limits=httpx.Limits(max_keepalive_connections=0),
            trust_env=False,
        ) as client:
            try:
                while not stop.is_set():
                    try:
                        await self._start_due(client, stop)
                    except Exception:
                        logger.exception("webhook scan failed")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self._poll)
            finally:
                for task in self._running.values():
                    task.cancel()
                await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _start_due(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        async with self._uow() as uow:
            due = await SqlWebhooks(uow.session).due_endpoints(datetime.now(UTC))
        for webhook_id in due:
            if webhook_id in self._running or len(self._running) >= self._max:
                continue
            task = asyncio.create_task(self._drain(client, webhook_id, stop))
            self._running[webhook_id] = task
            task.add_done_callback(functools.partial(self._finished, webhook_id))

    def _finished(self, webhook_id: str, _: asyncio.Task[None]) -> None:
        self._running.pop(webhook_id, None)

    async def _drain(self, client: httpx.AsyncClient, webhook_id: str, stop: asyncio.Event) -> None:
        token = str(uuid.uuid4())
        try:
            if not await self._hold(webhook_id, token):
                return
            while not stop.is_set():
                async with self._uow() as uow:
                    store = SqlWebhooks(uow.session)
                    webhook = await store.get(webhook_id)
                    deliveries = await store.pending(webhook_id, limit=self._batch)
                if webhook is None or not webhook.enabled or not deliveries:
                    return
                if webhook.retry_at is not None and webhook.retry_at > datetime.now(UTC):
                    return
                for delivery in deliveries:
                    # Renewed before each attempt: held while it lasts, or given up here.
                    if stop.is_set() or not await self._hold(webhook_id, token):
                        return
                    attempt = await self._send(client, webhook, delivery)
                    recorded = await self._record(webhook_id, token, delivery, attempt)
                    if recorded is None or not attempt.succeeded or not recorded.enabled:
                        return
                    webhook = recorded
        except Exception:
            logger.exception("webhook deliveries failed", extra={"webhook_id": webhook_id})
        finally:
            with contextlib.suppress(Exception):
                async with self._uow() as uow:
                    await SqlWebhooks(uow.session).let_go(webhook_id, token)
                    await uow.commit()

    async def _hold(self, webhook_id: str, token: str) -> bool:
        async with self._uow() as uow:
            held = await SqlWebhooks(uow.session).hold(
                webhook_id, token, now=datetime.now(UTC), lease=self._lease
            )
            await uow.commit()
        return held

    async def _send(
        self, client: httpx.AsyncClient, webhook: Webhook, delivery: Delivery
    ) -> Attempt:
        started = time.monotonic()
        at = datetime.now(UTC)

        def attempt(status: int, error: str) -> Attempt:
            elapsed = int((time.monotonic() - started) * 1000)
            return Attempt(at=at, status_code=status, error=error[:1000], duration_ms=elapsed)

        try:
            # The whole attempt, resolving included, within the timeout (httpx's applies to
            # each phase alone: an endpoint trickling bytes would hold the sender for ever).
            async with asyncio.timeout(self._timeout):
                status = await self._post(client, webhook, delivery)
        except InvalidArgumentError as exc:
            return attempt(0, f"refused: {exc.message}")
        except TimeoutError:
            return attempt(0, f"no answer within {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return attempt(0, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        except Exception as exc:
            return attempt(0, f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return attempt(status, "")
        return attempt(status, f"the endpoint answered {status}")

    async def _post(self, client: httpx.AsyncClient, webhook: Webhook, delivery: Delivery) -> int:
        """POSTs the delivery to the address the guard just allowed (the name is not looked up
        again by the connection); its status."""
        addresses = await self._guard.addresses(webhook.url)
        parts = urlsplit(webhook.url)
        address = addresses[0]
        host = f"[{address}]" if address.version == 6 else str(address)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        pinned = urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))
        body = delivery.body.encode()
        headers = {
            "Host": parts.netloc,
            "Content-Type": CONTENT_TYPE,
            "User-Agent": USER_AGENT,
            WEBHOOK_ID_HEADER: webhook.id,
            SIGNATURE_HEADER: signature(webhook.secret, int(time.time()), body),
        }
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        async with client.stream(
            "POST", pinned, content=body, headers=headers, extensions=extensions
        ) as response:
            return response.status_code

    async def _record(
        self, webhook_id: str, token: str, delivery: Delivery, attempt: Attempt
    ) -> Webhook | None:
        """The attempt and what it means for the endpoint; None when the sender no longer holds
        the endpoint (its lease ran out and another may be sending): nothing is recorded."""
        async with self._uow() as uow:
            store = SqlWebhooks(uow.session)
            if not await store.holds(webhook_id, token):
                return None
            webhook = await store.get(webhook_id)
            if webhook is None:
                return None
            await store.record_attempt(delivery.id, attempt, delivered=attempt.succeeded)
            self._attempts.add(1, {"outcome": "delivered" if attempt.succeeded else "failed"})
            if attempt.succeeded:
                webhook = dataclasses.replace(
                    webhook, failing_since=None, consecutive_failures=0, retry_at=None
                )
            else:
                since, failures, retry_at, reason = after_failure(
                    webhook, now=attempt.at, error=attempt.error, policy=self._policy
                )
                webhook = dataclasses.replace(
                    webhook,
                    failing_since=since,
                    consecutive_failures=failures,
                    retry_at=retry_at,
                    enabled=webhook.enabled and not reason,
                    disabled_reason=reason or webhook.disabled_reason,
                )
                if reason:
                    self._disabled.add(1)
                    logger.warning("webhook disabled", extra={"webhook_id": webhook_id})
            await store.save(webhook)
            await uow.commit()
        return webhook
