"""Webhooks: the agency's own systems hear about documents as signed CloudEvents.

An administrator registers an endpoint (https; never a loopback or private address unless the
platform allows that for development) with the event types it wants. Each event of those types
becomes one delivery row in the same transaction that handles the event; a sender delivers
from that queue, each endpoint on its own, so one slow or dead endpoint delays nobody else.
Failures back off exponentially per endpoint; after a day without a success the endpoint is
disabled with the reason, its deliveries kept until it is enabled again.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from vanban.platform.caller import Caller
from vanban.platform.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
)

# The event types an endpoint may ask for (more come with the events notify follows).
INCOMING_REGISTERED = "incoming_document.registered"
EVENT_TYPES = frozenset({INCOMING_REGISTERED})

MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 500
SIGNATURE_HEADER = "Vanban-Signature"
WEBHOOK_ID_HEADER = "Vanban-Webhook-Id"
SECRET_PREFIX = "whsec_"


class DeliveryState(enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    url: str
    event_types: tuple[str, ...]
    description: str
    secret: str
    enabled: bool
    disabled_reason: str
    created_by: str
    created_at: datetime
    failing_since: datetime | None = None
    consecutive_failures: int = 0
    retry_at: datetime | None = None
    pending: int = 0


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    status_code: int
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return not self.error and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    body: str
    state: DeliveryState
    created_at: datetime
    delivered_at: datetime | None = None
    attempt_count: int = 0
    attempts: tuple[Attempt, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off per endpoint: first, doubled each failure up to `longest`, for
    `give_up_after` since the first failure in a row."""

    first: timedelta = timedelta(seconds=10)
    longest: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=1)

    def delay(self, consecutive_failures: int) -> timedelta:
        exponent = min(max(consecutive_failures - 1, 0), 30)
        delay: timedelta = self.first * (2**exponent)
        return min(delay, self.longest)


class UrlGuard(Protocol):
    async def check(self, url: str) -> None:
        """Raises InvalidArgumentError (WEBHOOK_URL_NOT_ALLOWED) for a URL deliveries must not
        go to (scheme, or a host resolving to a loopback, private or otherwise non-public
        address, unless allowed)."""


def require_admin(caller: Caller) -> None:
    if "admin" not in caller.roles:
        raise PermissionDeniedError(
            "only an administrator manages the agency's webhooks", reason="ROLE_REQUIRED"
        )


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def check_url_shape(url: str) -> str:
    """The URL as given once it is an absolute http(s) URL without credentials or fragment."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidArgumentError(
            f"the URL must be 1 to {MAX_URL_LENGTH} characters", reason="INVALID_WEBHOOK_URL"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidArgumentError("the URL is not valid", reason="INVALID_WEBHOOK_URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidArgumentError(
            "the URL must be https://host/path", reason="INVALID_WEBHOOK_URL"
        )
    if parts.username or parts.password or parts.fragment:
        raise InvalidArgumentError(
            "the URL must carry no user, password or fragment (the signature authenticates)",
            reason="INVALID_WEBHOOK_URL",
        )
    if port == 0:
        raise InvalidArgumentError("the URL's port is not valid", reason="INVALID_WEBHOOK_URL")
    if not url.isascii() or any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise InvalidArgumentError(
            "the URL must be ASCII (a name in its xn-- form), without spaces or control characters",
            reason="INVALID_WEBHOOK_URL",
        )
    return url


def check_event_types(event_types: Collection[str]) -> tuple[str, ...]:
    chosen = tuple(sorted(set(event_types)))
    unknown = [event_type for event_type in chosen if event_type not in EVENT_TYPES]
    if not chosen or unknown:
        raise InvalidArgumentError(
            f"event types must be among {', '.join(sorted(EVENT_TYPES))}",
            reason="UNKNOWN_EVENT_TYPE",
            metadata={"unknown": ",".join(unknown[:5])},
        )
    return chosen


def check_description(description: str) -> str:
    description = description.strip()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in description):
        raise InvalidArgumentError(
            "the description must be one line of text", reason="INVALID_DESCRIPTION"
        )
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidArgumentError(
            f"the description is at most {MAX_DESCRIPTION_LENGTH} characters",
            reason="DESCRIPTION_TOO_LONG",
        )
    return description


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`Vanban-Signature`: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def after_failure(
    webhook: Webhook, *, now: datetime, error: str, policy: RetryPolicy
) -> tuple[datetime | None, int, datetime | None, str]:
    """(failing_since, consecutive_failures, retry_at, disabled_reason) after a failed attempt:
    the next try backs off; a day of failures disables the endpoint (reason non-empty)."""
    since = webhook.failing_since or now
    failures = webhook.consecutive_failures + 1
    if now - since >= policy.give_up_after:
        reason = (
            f"disabled by the platform: no successful delivery since {since.isoformat()} "
            f"({failures} attempts); last error: {error}"
        )[:1000]
        return since, failures, None, reason
    return since, failures, now + policy.delay(failures), ""


def may_add(existing: Sequence[Webhook], *, limit: int) -> None:
    if len(existing) >= limit:
        raise ResourceExhaustedError(
            f"the agency has {limit} webhooks already: remove one first",
            reason="TOO_MANY_WEBHOOKS",
        )


def not_found(webhook_id: str) -> NotFoundError:
    return NotFoundError(f"no webhook {webhook_id}", reason="WEBHOOK_NOT_FOUND")


def cloud_event(
    *,
    event_id: str,
    event_type: str,
    source: str,
    subject: str,
    time: datetime,
    data: dict[str, object],
) -> str:
    """The CloudEvent (JSON, structured mode) an endpoint receives."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": source,
            "type": f"vn.gov.vanban.{event_type}",
            "subject": subject,
            "time": time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


class WebhookStore(Protocol):
    async def listening(self, event_type: str) -> list[Webhook]: ...

    async def enqueue(self, delivery: Delivery) -> bool: ...


async def enqueue_event(
    store: WebhookStore,
    *,
    event_type: str,
    event_id: str,
    body: str,
    now: datetime,
) -> int:
    """One delivery of the event for each enabled endpoint that asked for its type (none twice,
    whatever delivers the event again); how many were queued."""
    queued = 0
    for webhook in await store.listening(event_type):
        delivery = Delivery(
            id=str(uuid.uuid4()),
            webhook_id=webhook.id,
            event_id=event_id,
            event_type=event_type,
            body=body,
            state=DeliveryState.PENDING,
            created_at=now,
        )
        queued += await store.enqueue(delivery)
    return queued
