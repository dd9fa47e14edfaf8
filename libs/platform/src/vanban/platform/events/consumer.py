"""Durable, idempotent JetStream pull consumers that ack only after the work is committed.

A message is processed inside a unit of work that first claims its event id in
`processed_events`; a redelivered message whose id is already there is acknowledged and skipped.
A message that keeps failing is retried with growing delays up to `max_deliver` times and then
moved to the dead-letter subject `vanban.dlq.<durable>` (stream VANBAN_DLQ) and acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError, Message
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import metrics, propagate, trace
from sqlalchemy.dialects.postgresql import insert as pg_insert

from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import DLQ_PREFIX, ensure_dlq_stream, stream_name

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("vanban.platform.events")

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class EventContext:
    event_id: str
    subject: str
    delivery: int


Handler = Callable[[UnitOfWork, M, EventContext], Awaitable[None]]


class EventConsumer(Generic[M]):
    def __init__(
        self,
        *,
        js: JetStreamContext,
        source_service: str,
        durable: str,
        subject: str,
        message_type: type[M],
        handler: Handler[M],
        uow_factory: Callable[[], UnitOfWork],
        max_deliver: int = 5,
        ack_wait: float = 30.0,
        batch: int = 10,
    ) -> None:
        self._js = js
        self._source = source_service
        self._durable = durable
        self._subject = subject
        self._type = message_type
        self._handler = handler
        self._uow_factory = uow_factory
        self._max_deliver = max_deliver
        self._ack_wait = ack_wait
        self._batch = batch
        meter = metrics.get_meter("vanban.platform.events")
        self._processed = meter.create_counter(
            "vanban.consumer.messages", description="Messages handled, by outcome"
        )

    @property
    def durable(self) -> str:
        return self._durable

    async def setup(self, stop: asyncio.Event | None = None) -> bool:
        """Makes (or updates) the durable once the source's stream exists; False if ``stop``
        was set while waiting for it.

        The stream is its producer's to create: a service's NATS user may not create the
        stream of another (it could give it any configuration), so a consumer that starts
        first waits for the producer.
        """
        if not await self._wait_for_stream(stop or asyncio.Event()):
            return False
        await ensure_dlq_stream(self._js)
        await self._js.add_consumer(
            stream_name(self._source),
            ConsumerConfig(
                durable_name=self._durable,
                filter_subject=self._subject,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                max_deliver=self._max_deliver + 1,  # the last delivery only dead-letters
                ack_wait=self._ack_wait,
                max_ack_pending=1000,
            ),
        )
        return True

    async def _wait_for_stream(self, stop: asyncio.Event) -> bool:
        stream = stream_name(self._source)
        delay = 0.2
        waited = False
        while not stop.is_set():
            try:
                await self._js.stream_info(stream)
                if waited:
                    logger.info(
                        "the consumer's stream is there now",
                        extra={"durable": self._durable, "stream": stream},
                    )
                return True
            except NotFoundError:
                if not waited:
                    logger.info(
                        "the consumer waits for its stream (its producer has not made it yet)",
                        extra={"durable": self._durable, "stream": stream},
                    )
                    waited = True
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, 5.0)
        return False

    async def run(self, stop: asyncio.Event) -> None:
        """Fetches and handles messages until `stop` is set; the message in hand is finished."""
        if not await self.setup(stop):
            return
        sub = await self._js.pull_subscribe_bind(self._durable, stream=stream_name(self._source))
        backoff = 0.5
        while not stop.is_set():
            try:
                messages = await sub.fetch(self._batch, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception as exc:  # connection lost: the client reconnects by itself
                logger.warning(
                    "consumer could not fetch",
                    extra={"consumer": self._durable, "error": repr(exc)},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.5
            for msg in messages:
                if stop.is_set():
                    # Not started: leave it unacknowledged; it is redelivered after ack_wait.
                    break
                try:
                    await self.handle(msg)
                except Exception as exc:  # e.g. the dead-letter publish failed: redelivered later
                    logger.warning(
                        "consumer left a message unacknowledged",
                        extra={"consumer": self._durable, "error": repr(exc)},
                    )
        await sub.unsubscribe()

    async def handle(self, msg: Msg) -> None:
        headers = msg.headers or {}
        event_id = headers.get("Nats-Msg-Id", "")
        delivery = msg.metadata.num_delivered
        parent = propagate.extract(headers)
        producer_span = trace.get_current_span(parent).get_span_context()
        links = [trace.Link(producer_span)] if producer_span.is_valid else []
        with tracer.start_as_current_span(
            f"{msg.subject} process",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.message.id": event_id,
                "messaging.consumer.group.name": self._durable,
                "messaging.message.delivery_count": delivery,
            },
        ) as span:
            if not event_id:
                await self._dead_letter(msg, "the message has no Nats-Msg-Id")
                return
            try:
                event = self._type.FromString(msg.data)
            except DecodeError as exc:
                await self._dead_letter(msg, f"undecodable payload: {exc}")
                return
            try:
                outcome = await self._process(event, EventContext(event_id, msg.subject, delivery))
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(trace.Status(trace.StatusCode.ERROR, str(exc)))
                if delivery >= self._max_deliver:
                    logger.exception(
                        "consumer gave up on an event",
                        extra={"consumer": self._durable, "event_id": event_id},
                    )
                    await self._dead_letter(msg, f"{type(exc).__name__}: {exc}")
                else:
                    logger.warning(
                        "consumer failed on an event; it is redelivered",
                        extra={
                            "consumer": self._durable,
                            "event_id": event_id,
                            "delivery": delivery,
                            "error": repr(exc),
                        },
                    )
                    self._processed.add(1, {"consumer": self._durable, "outcome": "retry"})
                    await msg.nak(delay=min(2 ** (delivery - 1), 30))
                return
            await self._ack(msg)
            self._processed.add(1, {"consumer": self._durable, "outcome": outcome})

    async def _process(self, event: M, context: EventContext) -> str:
        async with self._uow_factory() as uow:
            processed = uow.tables.processed
            claimed = await uow.session.execute(
                pg_insert(processed)
                .values(
                    consumer=self._durable,
                    event_id=context.event_id,
                    processed_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing()
                .returning(processed.c.event_id)
            )
            if claimed.first() is None:
                return "duplicate"
            await self._handler(uow, event, context)
            await uow.commit()
        return "processed"

    async def _ack(self, msg: Msg) -> None:
        try:
            await msg.ack_sync(timeout=5)
        except Exception as exc:
            # Committed already; a redelivery will be recognised as a duplicate.
            logger.warning(
                "consumer could not ack", extra={"consumer": self._durable, "error": repr(exc)}
            )

    async def _dead_letter(self, msg: Msg, error: str) -> None:
        headers = dict(msg.headers or {})
        headers.pop("Nats-Msg-Id", None)
        headers.update(
            {
                "vanban-dlq-error": error[:1000],
                "vanban-dlq-subject": msg.subject,
                "vanban-dlq-consumer": self._durable,
            }
        )
        await self._js.publish(
            f"{DLQ_PREFIX}.{self._durable}", msg.data, headers=headers, timeout=5
        )
        await self._ack(msg)
        self._processed.add(1, {"consumer": self._durable, "outcome": "dead_lettered"})
