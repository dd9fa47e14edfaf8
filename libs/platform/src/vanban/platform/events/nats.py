"""NATS JetStream plumbing: connection, the per-service stream, the dead-letter stream."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

logger = logging.getLogger(__name__)

DLQ_STREAM = "VANBAN_DLQ"
DLQ_PREFIX = "vanban.dlq"
# Publishes carrying an already-seen Nats-Msg-Id inside this window are dropped by the server.
DUPLICATE_WINDOW_SECONDS = 24 * 3600
RETENTION_SECONDS = 30 * 24 * 3600


def stream_name(service: str) -> str:
    return f"VANBAN_{service.upper()}"


def subject(service: str, entity: str, verb: str) -> str:
    return f"vanban.{service}.{entity}.{verb}"


def inbox_prefix(service: str) -> str:
    """Where a service's request replies arrive; its NATS user may subscribe here only, so it
    cannot read the replies meant for another service."""
    return f"_INBOX.{service}"


def redact(url: str) -> str:
    """``url`` without the password it may carry (`nats://user:secret@host` -> `nats://user@host`)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def connect(
    url: str,
    *,
    name: str,
    inbox: str | None = None,
    reconnected: Callable[[], None] | None = None,
) -> Client:
    """Connect to ``url``, which carries the user and password (``nats://user:pw@host:port``).

    ``inbox`` is the reply-subject prefix (see ``inbox_prefix``); the default suits a user that
    may subscribe to every ``_INBOX.>``. ``reconnected`` is called each time the connection is
    back after it was lost.
    """
    shown = redact(url)

    async def on_disconnect() -> None:
        logger.warning("nats disconnected", extra={"nats_url": shown})

    async def on_reconnect() -> None:
        logger.info("nats reconnected", extra={"nats_url": shown})
        if reconnected is not None:
            # Plain subscriptions heard nothing while the connection was away.
            reconnected()

    async def on_error(exc: Exception) -> None:
        logger.warning("nats error", extra={"nats_url": shown, "error": repr(exc)})

    return await nats.connect(
        servers=[url],
        name=name,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=on_error,
        inbox_prefix=inbox or "_INBOX",
    )


async def _ensure(
    js: JetStreamContext, config: StreamConfig, *, update: bool = True, replicas: int | None = None
) -> None:
    """Creates the stream, or updates it to `config`. `replicas` (copies kept on a NATS
    cluster) when given; else a new stream has one and an existing one keeps its own, so that a
    caller that does not know the agency's setting (a consumer ensuring the dead-letter stream)
    never scales down what its service set."""
    try:
        info = await js.stream_info(config.name or "")
    except NotFoundError:
        try:
            await js.add_stream(replace(config, num_replicas=replicas or 1))
        except BadRequestError as exc:
            # Another replica created it between the two calls.
            if exc.err_code != 10058:
                raise
        return
    if update:
        kept = replicas or info.config.num_replicas or 1
        await js.update_stream(replace(config, num_replicas=kept))


async def ensure_service_stream(
    js: JetStreamContext, service: str, *, update: bool = True, replicas: int | None = None
) -> None:
    """The stream that holds every event a service publishes: `vanban.<svc>.>`.

    Only its owner makes it (``update=True``, so a changed configuration takes effect): no other
    service's NATS user may create or change it, and a consumer waits for it to exist
    (``EventConsumer.setup``). ``update=False`` leaves an existing stream as it is.
    """
    await _ensure(
        js,
        StreamConfig(
            name=stream_name(service),
            subjects=[f"vanban.{service}.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=RETENTION_SECONDS,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            discard=DiscardPolicy.OLD,
        ),
        update=update,
        replicas=replicas,
    )


async def ensure_dlq_stream(js: JetStreamContext, *, replicas: int | None = None) -> None:
    await _ensure(
        js,
        StreamConfig(
            name=DLQ_STREAM,
            subjects=[f"{DLQ_PREFIX}.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=RETENTION_SECONDS,
        ),
        replicas=replicas,
    )
